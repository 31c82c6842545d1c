import EventCore
import ArgumentParser
import Cytometry
import Foundation
import HDF5Store
import MRD
import Report

/// `flowmrd analyze FILE… [--template T] [--json] [--out R.json]`: the MRD call for each file.
struct AnalyzeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Analyse marrow FCS files with a gating template and report MRD.",
        discussion: "Results go to standard output, errors and progress to standard error. " + AnalyzeExitStatus.help + " " + ExitHelp.usage + ".")

    @Argument(help: "FCS files, or HDF5 event stores written by `flowmrd convert`.")
    var files: [String]

    @OptionGroup var sample: SampleOptions

    @OptionGroup var context: ContextOptions

    @Flag(help: "Print the results as JSON (schema: docs/report-schema.md) instead of text.")
    var json = false

    @Option(help: ArgumentHelp("Also write the JSON results to this file.", valueName: "RESULTS.json"))
    var out: String?

    @Option(help: ArgumentHelp(
        "Write per-event results (gate membership bits, final class, the JSON result) to this HDF5 file; with several input files, a folder that receives NAME.events.h5 for each.",
        valueName: "RESULT.h5"))
    var eventsOut: String?

    @Option(help: ArgumentHelp(
        "Write the reviewer's self-contained HTML report (call, figures, dot plots of every gate, QC, warnings) to this file; with several input files, a folder that receives NAME.html for each.",
        valueName: "OUT.html"))
    var report: String?

    @Option(name: .customLong("export-flowjo"), help: ArgumentHelp(
        "Write the gates FlowMRD resolved for the sample (data-driven boundaries as fixed gates, with scales and compensation) as a FlowJo 10 workspace referencing the FCS file; with several input files, a folder that receives NAME.wsp for each. Gates FlowJo cannot hold are listed on standard error and in the workspace's annotation.",
        valueName: "OUT.wsp"))
    var exportFlowJo: String?

    @Option(name: .customLong("export-gating-ml"), help: ArgumentHelp(
        "Write the gates FlowMRD resolved for the sample as Gating-ML 2.0 (the same tree the analysis evaluated, for FlowKit or another Gating-ML tool); with several input files, a folder that receives NAME.xml for each.",
        valueName: "OUT.xml"))
    var exportGatingML: String?

    @Flag(help: "Replace existing --out, --report and --events-out files (without this, an existing file is an error and is left as it is).")
    var overwrite = false

    @Flag(help: "Do not compute the file's SHA-256 for the audit trail (it costs more time than the analysis on large files).")
    var noChecksum = false

    func validate() throws {
        for (option, value) in [("--events-out", eventsOut), ("--report", report), ("--export-flowjo", exportFlowJo), ("--export-gating-ml", exportGatingML)] {
            guard let value, files.count > 1 else { continue }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: value, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ValidationError("\(option) with several input files must name an existing folder (\(value) is not one)")
            }
        }
        guard !overwrite else { return }
        let outputs = [out] + files.map(reportPath(for:)) + files.map(eventsPath(for:)) + files.map(workspacePath(for:)) + files.map(gatingMLPath(for:))
        if let existing = outputs.compactMap({ $0 }).first(where: { FileManager.default.fileExists(atPath: $0) }) {
            throw ValidationError("\(existing) exists; give --overwrite to replace it (nothing was analysed)")
        }
    }

    /// The per-event results file for `file`, if asked for.
    func eventsPath(for file: String) -> String? { outputPath(eventsOut, for: file, suffix: ".events.h5") }

    /// The HTML report for `file`, if asked for.
    func reportPath(for file: String) -> String? { outputPath(report, for: file, suffix: ".html") }

    /// The FlowJo workspace for `file`, if asked for.
    func workspacePath(for file: String) -> String? { outputPath(exportFlowJo, for: file, suffix: ".wsp") }

    /// The Gating-ML export for `file`, if asked for.
    func gatingMLPath(for file: String) -> String? { outputPath(exportGatingML, for: file, suffix: ".xml") }

    /// `option` itself for one input; NAME`suffix` inside the folder `option` for several.
    private func outputPath(_ option: String?, for file: String, suffix: String) -> String? {
        guard let option else { return nil }
        guard files.count > 1 else { return option }
        let name = ((file as NSString).lastPathComponent as NSString).deletingPathExtension
        return (option as NSString).appendingPathComponent(name + suffix)
    }

    func run() throws {
        var analyzer = try sample.analyzer()
        analyzer.computeChecksum = !noChecksum
        analyzer.context = context.declared
        let progress = Progress(enabled: !sample.quiet, total: files.count)
        var entries: [AnalysisDocument.Entry] = []
        var texts: [String] = []
        var writeFailed = false
        for (i, file) in files.enumerated() {
            progress.step(i, "analysing \(file)")
            do {
                let result: MRDResult
                if reportPath(for: file) != nil || workspacePath(for: file) != nil || gatingMLPath(for: file) != nil {
                    let analysis = try analyzer.analyzeWithPlots(path: file, eventsOutput: eventsPath(for: file))
                    result = analysis.result
                    if let html = reportPath(for: file) {
                        do { try ReportFile.write(HTMLReport.render(analysis), to: html) } catch {
                            progress.finish()
                            CommandError.print(error)
                            writeFailed = true
                        }
                    }
                    if let xml = gatingMLPath(for: file) {
                        do {
                            guard let gates = analysis.resolvedGates else {
                                throw ValidationError("\(xml): not written: \(file) was not gated (\(analysis.result.callText))")
                            }
                            try ReportFile.write(try GatingMLExport.document(gates.tree), to: xml)
                        } catch {
                            progress.finish()
                            CommandError.print(error)
                            writeFailed = true
                        }
                    }
                    if let wsp = workspacePath(for: file) {
                        do { try exportWorkspace(analysis, file: file, to: wsp) } catch {
                            progress.finish()
                            CommandError.print(error)
                            writeFailed = true
                        }
                    }
                } else {
                    result = try analyzer.analyze(path: file, eventsOutput: eventsPath(for: file))
                }
                entries.append(.init(file: file, result: result, error: nil))
                texts.append(MRDTextReport.render(result))
            } catch {
                entries.append(.init(file: file, result: nil, error: "\(error)"))
                progress.finish()
                CommandError.print(error)
            }
        }
        progress.finish()
        let document = AnalysisDocument(results: entries)
        if json { print(try StableJSON.encode(document)) } else if !texts.isEmpty { print(texts.joined(separator: "\n\n")) }
        if let out {
            do { try ReportFile.write(try StableJSON.encode(document) + "\n", to: out) } catch {
                CommandError.print(error)
                writeFailed = true
            }
        }
        let status = writeFailed ? 1 : document.exitStatus
        if status != 0 { throw ExitCode(status) }
    }
}

extension AnalyzeCommand {
    /// Writes the sample's resolved gates as a FlowJo workspace; what FlowJo cannot hold goes to
    /// standard error. A sample that was not gated has no gates to write: an error saying so.
    func exportWorkspace(_ analysis: MRDAnalysis, file: String, to path: String) throws {
        guard let gates = analysis.resolvedGates else {
            throw ValidationError("\(path): not written: \(file) was not gated (\(analysis.result.callText))")
        }
        let dataSet = gates.dataSet
        let keywords = ["$FIL", "$TOT", "$CYT", "$DATE"].compactMap { key in dataSet.keywords.trimmed(key).map { (key, $0) } }
        let notes = ["FlowMRD \(analysis.result.software), template \(analysis.result.template) \(analysis.result.templateVersion)",
                     "the time gate's excluded stretches are the ones FlowMRD found in this file, written as fixed Time rectangles",
                     "not gates, so not in this workspace: the plasma-cell clustering, the clonality test and the MRD call (see the FlowMRD report)"]
        let output = FlowJoExport.workspace(tree: gates.tree, fcsPath: URL(fileURLWithPath: file).standardizedFileURL.path, eventCount: dataSet.eventCount,
                                            keywords: keywords, fileCompensation: gates.fileCompensation,
                                            counts: Dictionary(analysis.result.gates.map { ($0.id, $0.count) }, uniquingKeysWith: { a, _ in a }), notes: notes)
        try ReportFile.write(output.xml, to: path)
        for (id, reason) in output.omitted { CommandError.printLine("\(path): not exported: gate \(id): \(reason)") }
        CommandError.printLine("\(path): not exported: the plasma-cell clustering, the clonality test and the call (not gates)")
    }
}

extension MRDAnalyzer {
    /// This analyzer, also opening HDF5 event stores and writing per-event results as HDF5.
    func readingStores() -> MRDAnalyzer {
        var analyzer = self
        analyzer.opener = EventFile.dispatch
        analyzer.resultsFormat = HDF5EventResultsFormat()
        return analyzer
    }
}
