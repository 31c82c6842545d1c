import ArgumentParser
import Cytometry
import EventCore
import Foundation
import HDF5Store
import MRD
import Report

/// `flowmrd compare --flowjo W.wsp --mrd-gate PATH [--nucleated-gate PATH] FILE…`: the lab's
/// manual MRD beside FlowMRD's for every sample, and their agreement over the cohort.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare a lab's manual MRD (FlowJo workspace gates) with FlowMRD's analysis, sample by sample and over the cohort.",
        discussion: """
            For each file (or each FCS/HDF5 file of a folder): FlowMRD's analysis with the template, and the \
            workspace sample's gates (matched as `flowmrd gate --flowjo` matches them). Manual MRD % = events in \
            --mrd-gate / events in --nucleated-gate (FlowMRD's nucleated count without it); the manual call is \
            positive when the MRD gate holds at least the template's min_cluster_events. Cohort: the concordance \
            of calls (FlowMRD's not-evaluable samples left out), Cohen's kappa, Bland–Altman bias and 95% limits of \
            agreement on log10 MRD for samples positive in both, Spearman's rho (docs/flowjo.md). Text on standard \
            output (JSON with --json); --out DIR also writes comparison.txt, .csv, .json and .html. Exit status: 0 \
            every sample was compared; 1 at least one could not be; 2 the workspace could not be read; 
            """ + ExitHelp.usage + ".")

    @Argument(help: "FCS files, or folders of them.")
    var inputs: [String]

    @Option(name: .customLong("flowjo"), help: "The lab's FlowJo 10 workspace (.wsp).")
    var flowJo: String

    @Option(name: .customLong("mrd-gate"), help: ArgumentHelp("The workspace population holding the manual MRD events, by path (Lymphocytes/CD38+/aberrant).", valueName: "PATH"))
    var mrdGate: String

    @Option(name: .customLong("nucleated-gate"), help: ArgumentHelp("The population that is the manual denominator, by path (default: FlowMRD's nucleated cells).", valueName: "PATH"))
    var nucleatedGate: String?

    @Option(help: "Match files only among this sample group's samples.")
    var group: String?

    @OptionGroup var sample: SampleOptions

    @Flag(help: "Print the comparison as JSON instead of text.")
    var json = false

    @Option(help: ArgumentHelp("Also write comparison.txt, comparison.csv, comparison.json and comparison.html into this folder.", valueName: "DIR"))
    var out: String?

    func run() throws {
        let match: FlowJoSampleMatch
        do { match = try FlowJoSampleMatch(workspace: try FlowJoWorkspaceReader.read(path: flowJo), group: group) } catch {
            CommandError.print(error)
            throw ExitCode(2)
        }
        let scan = SampleList.scan(inputs)
        var analyzer = try sample.analyzer()
        analyzer.computeChecksum = false
        let minimum = analyzer.template.mrd.minClusterEvents
        let progress = Progress(enabled: !sample.quiet, total: scan.files.count)
        var rows: [ManualComparison.Row] = []
        var errors: [ManualComparison.ErrorRow] = []
        for (i, file) in scan.files.enumerated() {
            progress.step(i, "comparing \(file)")
            do {
                rows.append(try compare(file, match: match, analyzer: analyzer, minimum: minimum))
            } catch {
                progress.finish()
                CommandError.print(error)
                errors.append(.init(file: file, error: "\(error)"))
            }
        }
        progress.finish()
        let comparison = ManualComparison(rows: rows, errors: errors, skipped: scan.skipped.map { .init(file: $0.file, error: $0.reason) }, minimumEvents: minimum)
        let encoded = try StableJSON.encode(comparison)
        print(json ? encoded : ManualComparisonReport.text(comparison), terminator: json ? "\n" : "")
        if let out {
            do {
                let folder = URL(fileURLWithPath: out)
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                try ReportFile.write(ManualComparisonReport.text(comparison), to: folder.appendingPathComponent("comparison.txt").path)
                try ReportFile.write(ManualComparisonReport.csv(comparison), to: folder.appendingPathComponent("comparison.csv").path)
                try ReportFile.write(encoded + "\n", to: folder.appendingPathComponent("comparison.json").path)
                try ReportFile.write(ManualComparisonReport.html(comparison), to: folder.appendingPathComponent("comparison.html").path)
            } catch {
                CommandError.print(error)
                throw ExitCode(1)
            }
        }
        if !errors.isEmpty || rows.isEmpty { throw ExitCode(1) }
    }

    /// One sample: the manual gates' counts and FlowMRD's result.
    func compare(_ file: String, match: FlowJoSampleMatch, analyzer: MRDAnalyzer, minimum: Int) throws -> ManualComparison.Row {
        let source = try EventFile.open(file)
        let dataSet = source.dataSets[source.defaultDataSetIndex]
        let sample: FlowJoWorkspace.Sample
        switch match.sample(fileName: URL(fileURLWithPath: file).lastPathComponent, fil: dataSet.keywords.trimmed("$FIL"), total: dataSet.keywords.trimmed("$TOT")) {
        case .success(let found): sample = found
        case .failure(let failure): throw FlowJoMatchError(file: file, workspace: flowJo, failure: failure)
        }
        for path in [mrdGate] + (nucleatedGate.map { [$0] } ?? []) where !sample.populations.contains(where: { $0.pathText == path }) {
            throw ValidationError("\(flowJo): sample \(sample.id) (\(sample.name)) has no population \(path); its populations are: "
                                  + sample.populations.map(\.pathText).joined(separator: ", "))
        }
        let tree = try sample.gatingTree(channels: dataSet.channels.map(\.name))
        let manual = try TreeEvaluator(tree: tree).evaluate(file: source)
        let result = try analyzer.analyze(source: source)
        let events = manual.count(mrdGate) ?? 0
        let nucleated = nucleatedGate.flatMap { manual.count($0) } ?? result.nucleatedCells
        return ManualComparison.Row(file: file, sample: "\(sample.id) (\(sample.name))", manualEvents: events, manualNucleated: nucleated, minimumEvents: minimum,
                                    flowmrdPercent: result.mrdPercent, flowmrdEvents: result.aberrantPC.count, flowmrdCall: result.call.rawValue)
    }
}
