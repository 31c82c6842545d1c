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
            Exit status: 0 every file passed; 30 at least one failed QC; 1 a file or the template could not be read.
            """)

    @Argument(help: "FCS files, HDF5 event stores, or directories (their .fcs/.lmd/.h5/.hdf5/.h5ad files).")
    var files: [String]

    @Option(help: "Gating template: a path, or a name in gating-templates/ (default legend2-10color).")
    var template: String = "legend2-10color"

    @Option(help: "What to print: table, csv or json.")
    var format: QCFormat = .table

    @Option(name: .customLong("csv"), help: ArgumentHelp("Also write the CSV table to this file.", valueName: "PATH"))
    var csvPath: String?

    @Option(name: .customLong("json"), help: ArgumentHelp("Also write the JSON document to this file.", valueName: "PATH"))
    var jsonPath: String?

    @Option(name: .customLong("limit"), help: ArgumentHelp(
        "Replace a hemodilution reference limit: GATE=PERCENT or NAME=PERCENT (% of nucleated cells); repeatable.", valueName: "GATE=PERCENT"))
    var limits: [String] = []

    @Flag(help: "Read a truncated FCS file up to its last complete event, or the events that fit when DATA's length disagrees with its keywords (the file then fails QC: fewer events read than $TOT, or a warning).")
    var allowPartial = false

    @Option(help: "Worker threads (default: all cores).")
    var workers: Int?

    @Flag(help: "No progress bar.")
    var quiet = false

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
        var analyzer = try TemplateLocator.analyzer(template, workers: workers, qcLimits: try limitValues())
        analyzer.computeChecksum = false
        analyzer.readOptions = FCSReadOptions(allowPartialData: allowPartial)
        let paths = SampleList.expand(files)
        guard !paths.isEmpty else {
            FileHandle.standardError.write(Data("error: no event files in \(files.joined(separator: ", "))\n".utf8))
            throw ExitCode(1)
        }
        let progress = Progress(enabled: !quiet, total: paths.count)
        var rows: [QCTable.Row] = []
        for (i, path) in paths.enumerated() {
            progress.step(i, path)
            do {
                rows.append(QCTable.Row(file: path, qc: try analyzer.analyze(path: path).qc, error: nil))
            } catch {
                rows.append(QCTable.Row(file: path, qc: nil, error: "\(error)"))
            }
        }
        progress.finish()
        let table = QCTable(rows: rows)
        switch format {
        case .table: print(table.text())
        case .csv: print(table.csv(), terminator: "")
        case .json: print(try table.json())
        }
        if let csvPath { try table.csv().write(toFile: csvPath, atomically: true, encoding: .utf8) }
        if let jsonPath { try (try table.json() + "\n").write(toFile: jsonPath, atomically: true, encoding: .utf8) }
        if rows.contains(where: { $0.qc == nil }) { throw ExitCode(1) }
        if !table.allPassed { throw ExitCode(30) }
    }
}

enum QCFormat: String, ExpressibleByArgument, CaseIterable {
    case table, csv, json
}
