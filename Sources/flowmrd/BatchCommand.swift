import ArgumentParser
import Foundation
import MRD
import Report

/// `flowmrd batch DIR --template T --out DIR2`: every event file of a directory, with a report
/// and JSON each and a cohort summary; resumable.
struct BatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch",
        abstract: "Analyse every event file in a directory: NAME.json and NAME.html each, and summary.csv/summary.json with the cohort's MRD-negativity rate.",
        discussion: """
            Files are analysed one after another, each on all cores. A file that cannot be read gets an \
            error entry and the run goes on. Run the same command again to resume: samples whose NAME.json \
            matches the file (size, modification time), the template and the software are not redone; \
            a result that no longer matches is kept as NAME.json.superseded-K (and its report) and a note \
            says why before the sample is analysed again.
            Exit status: 0 every file analysed; 1 at least one file could not be (see its entry), or the \
            template or output folder is unusable; \(ExitHelp.usage).
            """)

    @Argument(help: "Directory of FCS files or HDF5 event stores (.fcs, .lmd, .h5, .hdf5, .h5ad).")
    var directory: String

    @OptionGroup var context: ContextOptions

    @OptionGroup var sample: SampleOptions

    @Option(help: ArgumentHelp("Output folder (created if missing).", valueName: "DIR"))
    var out: String

    @Flag(help: "Do not compute each file's SHA-256 for the audit trail.")
    var noChecksum = false

    func validate() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("\(directory) is not a directory")
        }
    }

    func run() throws {
        var analyzer = try sample.analyzer()
        do {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        } catch {
            CommandError.print("cannot create the output folder \(out): \((error as NSError).localizedFailureReason ?? "\(error.localizedDescription)")")
            throw ExitCode(1)
        }
        analyzer.computeChecksum = !noChecksum
        analyzer.context = context.declared
        let batch = BatchRun(analyzer: analyzer, output: out)
        let stale = ReportFile.removeStalePartials(in: out)
        if stale > 0 { FileHandle.standardError.write(Data("removed \(stale) unfinished file(s) (*.partial) left by a stopped run\n".utf8)) }
        let (files, skipped) = SampleList.scan([directory])
        let progress = Progress(enabled: !sample.quiet, total: files.count)
        var entries: [BatchRun.Entry] = []
        var reused = 0, failed = 0
        for (i, file) in files.enumerated() {
            progress.step(i, file)
            let outcome = try batch.process(file)
            entries.append(outcome.entry)
            if outcome.reused { reused += 1 } else if outcome.entry.error != nil { failed += 1 }
            if let notice = outcome.notice {
                progress.finish()
                FileHandle.standardError.write(Data("note: \(notice)\n".utf8))
            }
            if let error = outcome.entry.error, !outcome.reused {
                progress.finish()
                CommandError.print(error)
            }
        }
        progress.finish()
        let summary = try batch.writeSummary(entries, skipped: skipped)
        print("\(files.count - reused - failed) analysed, \(reused) already done (resumed), \(failed) failed; results in \(out)")
        print(summary.text())
        if summary.errors > 0 { throw ExitCode(1) }
    }
}
