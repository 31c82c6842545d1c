import ArgumentParser
import FCS
import Foundation
import MRD
import Report

/// `flowmrd qc FILE|DIR… [--template T] [--format table|csv|json] [--csv F] [--json F] [--limit GATE=%]`:
/// acquisition QC of each file.
struct QCCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qc",
        abstract: "Acquisition QC: events read, flow stability, cell counts, the 1.5-million minimum, LOD/LLOQ, hemodilution, parser warnings.",
        discussion: """
            Each file is gated with the template (the same gates as analyze). A file fails QC when fewer events \
            were read than $TOT announces, the time gate excluded more than the template allows, the nucleated \
            cells fall short of the minimum, or the hemodilution indicators flag the sample.
            Results go to standard output, errors and progress to standard error.
            Exit status: 0 every file passed; 30 at least one failed QC; 1 a file or the template could not be read, \
            or an output could not be written; \(ExitHelp.usage).
            """)

    @Argument(help: "FCS files, HDF5 event stores, or directories (their .fcs/.lmd/.h5/.hdf5/.h5ad files).")
    var files: [String]

    @OptionGroup var sample: SampleOptions

    @Option(help: "What to print: table, csv or json.")
    var format: QCFormat = .table

    @Option(name: .customLong("csv"), help: ArgumentHelp("Also write the CSV table to this file.", valueName: "PATH"))
    var csvPath: String?

    @Option(name: .customLong("json"), help: ArgumentHelp("Also write the JSON document to this file.", valueName: "PATH"))
    var jsonPath: String?

    @Option(name: .customLong("limit"), help: ArgumentHelp(
        "Replace a hemodilution reference limit: GATE=PERCENT or NAME=PERCENT (% of nucleated cells); repeatable.", valueName: "GATE=PERCENT"))
    var limits: [String] = []

    /// Parsed `--limit` values.
    func limitValues() throws -> [String: Double] {
        var values: [String: Double] = [:]
        for item in limits {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, let value = Double(parts[1]), value >= 0, value < 100 else {
                throw ValidationError("--limit \(item): expected GATE=PERCENT with a percentage from 0 to 100 (e.g. mast-cells=0.002)")
            }
            values[parts[0]] = value
        }
        return values
    }

    func validate() throws { _ = try limitValues() }

    func run() throws {
        var analyzer = try sample.analyzer(qcLimits: try limitValues())
        analyzer.computeChecksum = false
        let paths = SampleList.expand(files)
        guard !paths.isEmpty else {
            CommandError.print("no event files in \(files.joined(separator: ", "))")
            throw ExitCode(1)
        }
        let progress = Progress(enabled: !sample.quiet, total: paths.count)
        var rows: [QCTable.Row] = []
        for (i, path) in paths.enumerated() {
            progress.step(i, path)
            do {
                rows.append(QCTable.Row(file: path, qc: try analyzer.analyze(path: path).qc, error: nil))
            } catch {
                rows.append(QCTable.Row(file: path, qc: nil, error: "\(error)"))
                progress.finish()
                CommandError.print(error)
            }
        }
        progress.finish()
        let table = QCTable(rows: rows)
        switch format {
        case .table: print(table.text())
        case .csv: print(table.csv(), terminator: "")
        case .json: print(try table.json())
        }
        var writeFailed = false
        for (path, text) in [(csvPath, table.csv()), (jsonPath, try table.json() + "\n")] {
            guard let path else { continue }
            do { try ReportFile.write(text, to: path) } catch {
                CommandError.print(error)
                writeFailed = true
            }
        }
        if writeFailed || rows.contains(where: { $0.qc == nil }) { throw ExitCode(1) }
        if !table.allPassed { throw ExitCode(30) }
    }
}

enum QCFormat: String, ExpressibleByArgument, CaseIterable {
    case table, csv, json
}
