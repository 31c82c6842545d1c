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
            --sample FILE analyses that one file of DIR (a workflow job: no summary, and other jobs' unfinished \
            files are left alone); --summarize writes the summary from the finished results of every file of DIR, \
            analysing nothing, so that jobs run apart give the same summary as one batch.
            Exit status: 0 every file analysed; 1 at least one file could not be (see its entry), has no \
            finished result (--summarize), or the template or output folder is unusable; \(ExitHelp.usage).
            """)

    @Argument(help: "Directory of FCS files or HDF5 event stores (.fcs, .lmd, .h5, .hdf5, .h5ad).")
    var directory: String

    @OptionGroup var context: ContextOptions

    @OptionGroup var sample: SampleOptions

    @Option(help: ArgumentHelp("Output folder (created if missing).", valueName: "DIR"))
    var out: String

    @Flag(help: "Do not compute each file's SHA-256 for the audit trail.")
    var noChecksum = false

    @Option(name: .customLong("sample"), help: ArgumentHelp("Analyse only this file of DIR (for a workflow job); no summary.", valueName: "FILE"))
    var only: String?

    @Flag(help: "Write summary.csv and summary.json from the finished results in --out; analyse nothing.")
    var summarize = false

    func validate() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("\(directory) is not a directory")
        }
        if only != nil && summarize { throw ValidationError("--sample and --summarize are separate steps; give one") }
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
        let (files, skipped) = SampleList.scan([directory])
        if let only { return try runOne(only, of: files, batch: batch) }
        if summarize { return try runSummary(files: files, skipped: skipped, batch: batch) }
        let stale = ReportFile.removeStalePartials(in: out)
        if stale > 0 { FileHandle.standardError.write(Data("removed \(stale) unfinished file(s) (*.partial) left by a stopped run\n".utf8)) }
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

    /// One file of the directory, as `batch` would process it (a workflow job).
    private func runOne(_ path: String, of files: [String], batch: BatchRun) throws {
        let wanted = URL(fileURLWithPath: path).standardizedFileURL.path
        guard let file = files.first(where: { URL(fileURLWithPath: $0).standardizedFileURL.path == wanted }) else {
            CommandError.print("\(path) is not one of the event files of \(directory)")
            throw ExitCode(1)
        }
        let outcome = try batch.process(file)
        if let notice = outcome.notice { FileHandle.standardError.write(Data("note: \(notice)\n".utf8)) }
        if let error = outcome.entry.error {
            CommandError.print(error)
            throw ExitCode(1)
        }
        if !sample.quiet { print("\(outcome.reused ? "already done" : "analysed"): \(file) → \(batch.entryPath(for: file))") }
    }

    /// The summary of the finished results of every file of the directory.
    private func runSummary(files: [String], skipped: [SampleList.Skipped], batch: BatchRun) throws {
        var entries: [BatchRun.Entry] = [], missing: [String] = []
        for file in files {
            if let entry = batch.finishedEntry(for: file) { entries.append(entry) } else { missing.append(file) }
        }
        guard missing.isEmpty else {
            CommandError.print("no finished result in \(out) for \(missing.count) file(s) (analyse them first, e.g. with --sample): " + missing.joined(separator: ", "))
            throw ExitCode(1)
        }
        let summary = try batch.writeSummary(entries, skipped: skipped)
        print(summary.text())
        if summary.errors > 0 { throw ExitCode(1) }
    }
}
