import ArgumentParser
import Foundation
import HDF5Store
import MRD
import Report

/// `flowmrd analyze FILE… [--template T] [--json] [--out R.json]`: the MRD call for each file.
struct AnalyzeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Analyse marrow FCS files with a gating template and report MRD.",
        discussion: """
            Exit status: 0 every file negative; 10 at least one positive (quantifiable); 11 at least one \
            positive below the LLOQ and none quantifiable; 20 at least one not evaluable; 1 a file or the \
            template could not be read (the worst applies: 1, then 20, then 10, then 11).
            """)

    @Argument(help: "FCS files, or HDF5 event stores written by `flowmrd convert`.")
    var files: [String]

    @Option(help: "Gating template: a path, or a name in gating-templates/ (default legend2-10color).")
    var template: String = "legend2-10color"

    @Flag(help: "Print the results as JSON (schema: docs/report-schema.md) instead of text.")
    var json = false

    @Option(help: "Also write the JSON results to this file.")
    var out: String?

    @Option(help: ArgumentHelp(
        "Write per-event results (gate membership bits, final class, the JSON result) to this HDF5 file; with several input files, a folder that receives NAME.events.h5 for each.",
        valueName: "RESULT.h5"))
    var eventsOut: String?

    @Option(help: ArgumentHelp(
        "Write the reviewer's self-contained HTML report (call, figures, dot plots of every gate, QC, warnings) to this file; with several input files, a folder that receives NAME.html for each.",
        valueName: "OUT.html"))
    var report: String?

    @OptionGroup var context: ContextOptions

    @Option(help: "Worker threads (default: all cores).")
    var workers: Int?

    @Flag(help: "Do not compute the file's SHA-256 for the audit trail (it costs more time than the analysis on large files).")
    var noChecksum = false

    @Flag(help: "No progress messages.")
    var quiet = false

    func validate() throws {
        for (option, value) in [("--events-out", eventsOut), ("--report", report)] {
            guard let value, files.count > 1 else { continue }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: value, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ValidationError("\(option) with several input files must name an existing folder (\(value) is not one)")
            }
        }
    }

    /// The per-event results file for `file`, if asked for.
    func eventsPath(for file: String) -> String? { outputPath(eventsOut, for: file, suffix: ".events.h5") }

    /// The HTML report for `file`, if asked for.
    func reportPath(for file: String) -> String? { outputPath(report, for: file, suffix: ".html") }

    /// `option` itself for one input; NAME`suffix` inside the folder `option` for several.
    private func outputPath(_ option: String?, for file: String, suffix: String) -> String? {
        guard let option else { return nil }
        guard files.count > 1 else { return option }
        let name = ((file as NSString).lastPathComponent as NSString).deletingPathExtension
        return (option as NSString).appendingPathComponent(name + suffix)
    }

    func run() throws {
        var analyzer = try TemplateLocator.analyzer(template, workers: workers)
        analyzer.computeChecksum = !noChecksum
        analyzer.context = context.declared
        let progress = Progress(enabled: !quiet, total: files.count)
        var entries: [AnalysisEntry] = []
        var texts: [String] = []
        for (i, file) in files.enumerated() {
            progress.step(i, "analysing \(file)")
            do {
                let result: MRDResult
                if let html = reportPath(for: file) {
                    let analysis = try analyzer.analyzeWithPlots(path: file, eventsOutput: eventsPath(for: file))
                    try ReportFile.write(HTMLReport.render(analysis), to: html)
                    result = analysis.result
                } else {
                    result = try analyzer.analyze(path: file, eventsOutput: eventsPath(for: file))
                }
                entries.append(AnalysisEntry(file: file, result: result, error: nil))
                texts.append(MRDTextReport.render(result))
            } catch {
                entries.append(AnalysisEntry(file: file, result: nil, error: "\(error)"))
                texts.append("\(file)\n  error: \(error)")
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            }
        }
        progress.finish()
        let document = AnalysisDocument(schema: MRDResult.schemaVersion, results: entries)
        if json { print(try StableJSON.encode(document)) } else { print(texts.joined(separator: "\n\n")) }
        if let out { try StableJSON.encode(document).write(toFile: out, atomically: true, encoding: .utf8) }
        let status = AnalyzeExitStatus.combined(entries.map { $0.result?.call })
        if status != 0 { throw ExitCode(status) }
    }
}

/// The JSON document `analyze` prints: one entry per file, in the order given.
struct AnalysisDocument: Encodable {
    let schema: Int
    let results: [AnalysisEntry]
}

struct AnalysisEntry: Encodable {
    let file: String
    let result: MRDResult?
    let error: String?
}

/// Exit codes a LIMS script can branch on.
enum AnalyzeExitStatus {
    static func code(_ call: MRDResult.Call?) -> Int32 {
        switch call {
        case nil: return 1
        case .negative: return 0
        case .positive: return 10
        case .positiveBelowLLOQ: return 11
        case .notEvaluable: return 20
        }
    }

    /// The worst: error, then not evaluable, then positive, then positive below LLOQ, then negative.
    static func combined(_ calls: [MRDResult.Call?]) -> Int32 {
        let codes = Set(calls.map(code))
        for worst in [Int32(1), 20, 10, 11] where codes.contains(worst) { return worst }
        return 0
    }
}

/// Finds a gating template by path or by name.
enum TemplateLocator {
    /// `name` as a path if it exists; else `name`(.yaml) in $FLOWMRD_TEMPLATES, ./gating-templates,
    /// or the gating-templates folder of the checkout the binary was built in.
    static func path(for name: String) throws -> String {
        let manager = FileManager.default
        if manager.fileExists(atPath: name) { return name }
        let file = name.hasSuffix(".yaml") ? name : name + ".yaml"
        var folders: [String] = []
        if let env = ProcessInfo.processInfo.environment["FLOWMRD_TEMPLATES"] { folders.append(env) }
        folders.append(manager.currentDirectoryPath + "/gating-templates")
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            folders.append(directory.path + "/gating-templates")
            directory = directory.deletingLastPathComponent()
        }
        for folder in folders where manager.fileExists(atPath: folder + "/" + file) { return folder + "/" + file }
        throw ValidationError("gating template \"\(name)\" not found (looked in \(folders.joined(separator: ", ")))")
    }

    /// The analyzer for a command: the template found by ``path(for:)`` (with any hemodilution
    /// limits replaced) on `workers` threads (default all cores). A template that cannot be found
    /// or read is printed as `error: …` and ends the command with exit status 1.
    static func analyzer(_ name: String, workers: Int?, qcLimits: [String: Double] = [:]) throws -> MRDAnalyzer {
        do {
            let template = try GatingTemplate(path: try path(for: name))
            return MRDAnalyzer(template: qcLimits.isEmpty ? template : try template.overridingQCLimits(qcLimits),
                               workers: workers ?? ProcessInfo.processInfo.activeProcessorCount).readingStores()
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}

extension MRDAnalyzer {
    /// This analyzer, also opening HDF5 event stores and writing per-event results as HDF5.
    func readingStores() -> MRDAnalyzer {
        var analyzer = self
        analyzer.opener = EventFileOpener()
        analyzer.resultsFormat = HDF5EventResultsFormat()
        return analyzer
    }
}
