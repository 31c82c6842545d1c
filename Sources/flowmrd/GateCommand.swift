import ArgumentParser
import Cytometry
import FCS
import HDF5Store
import Foundation
import Report

/// `flowmrd gate FILE… --gating-ml GATES.xml` or `--flowjo W.wsp`: apply a Gating-ML 2.0 gate
/// file, or a FlowJo 10 workspace's gates for each file's sample, and print the counts.
struct GateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gate",
        abstract: "Apply a Gating-ML 2.0 file or a FlowJo 10 workspace to FCS files; print each gate's id, path, count and % of parent.",
        discussion: """
            With --flowjo, each file is matched to a workspace sample (--sample-id, else by file name against the \
            sample's data-set URI or name, then by $FIL and $TOT; --group narrows the candidates), its gates are \
            applied with the sample's scales and compensation, and FlowJo's stored count is printed beside each \
            computed one. With --flowjo and no FILE, the workspace's samples and gate trees are listed with \
            FlowJo's stored counts. Results go to standard output, errors to standard error. Exit status: 0 \
            every file was gated; 1 at least one file could not be read, matched or gated; 2 the gate file or \
            workspace could not be read; 
            """ + ExitHelp.usage + ".")

    @Argument(help: "FCS files (none with --flowjo: list the workspace).")
    var files: [String] = []

    @Option(name: .customLong("gating-ml"), help: "The Gating-ML 2.0 gate file.")
    var gatingML: String?

    @Option(name: .customLong("flowjo"), help: "A FlowJo 10 workspace (.wsp) whose sample gates to apply.")
    var flowJo: String?

    @Option(help: "With --flowjo: match files only among this sample group's samples.")
    var group: String?

    @Option(name: .customLong("sample-id"), help: "With --flowjo: apply this workspace sample (its sampleID) to every file.")
    var sampleID: String?

    @Option(parsing: .unconditional, help: "Data set index (default: the file's default data set).")
    var dataSet: Int?

    @Flag(help: "Print JSON: a list with one entry per file (file, sample, events, gates with id, path, parent, count, parent_count, percent_of_parent, flowjo_count; or error).")
    var json = false

    @Option(help: "Also write the gate tree back out as Gating-ML to this path (with --gating-ml).")
    var exportGatingML: String?

    func validate() throws {
        if (gatingML == nil) == (flowJo == nil) { throw ValidationError("give one gate source: --gating-ml GATES.xml or --flowjo W.wsp") }
        if flowJo == nil && (group != nil || sampleID != nil) { throw ValidationError("--group and --sample-id go with --flowjo") }
        if flowJo != nil && exportGatingML != nil { throw ValidationError("--export-gating-ml goes with --gating-ml") }
        if gatingML != nil && files.isEmpty { throw ValidationError("give at least one FCS file") }
    }

    func run() throws {
        if let flowJo { return try runFlowJo(flowJo) }
        let tree: GatingTree
        do { tree = try GatingMLImport.read(path: gatingML!) } catch {
            CommandError.print(error)
            throw ExitCode(2)
        }
        if let exportGatingML {
            do { try ReportFile.write(try GatingMLExport.document(tree), to: exportGatingML) } catch {
                CommandError.print(error)
                throw ExitCode(1)
            }
        }
        var results: [GatingDocument.File] = []
        for path in files {
            do {
                let file = try EventFile.open(path)
                let result = try TreeEvaluator(tree: tree).evaluate(file: file, dataSet: dataSet)
                results.append(.init(file: path, result: result))
                if !json { print(GatingReport.text(result, file: path)) }
            } catch {
                results.append(.init(file: path, error: "\(error)"))
                CommandError.print(error)
            }
        }
        if json { print(try StableJSON.encode(GatingDocument(files: results).files)) }
        if results.contains(where: { $0.error != nil }) { throw ExitCode(1) }
    }

    func runFlowJo(_ path: String) throws {
        let workspace: FlowJoWorkspace
        let match: FlowJoSampleMatch
        do {
            workspace = try FlowJoWorkspaceReader.read(path: path)
            match = try FlowJoSampleMatch(workspace: workspace, group: group, sampleID: sampleID)
        } catch {
            CommandError.print(error)
            throw ExitCode(2)
        }
        if files.isEmpty {
            // Every sample's tree must load (scales, matrix, gates) for the listing to stand.
            do { for sample in match.candidates { _ = try sample.gatingTree() } } catch {
                CommandError.print(error)
                throw ExitCode(2)
            }
            print(GatingReport.listing(workspace), terminator: "")
            return
        }
        var results: [GatingDocument.File] = []
        for file in files {
            var label: String?
            do {
                let source = try EventFile.open(file)
                let dataSet = try source.dataSet(at: self.dataSet)
                let name = URL(fileURLWithPath: file).lastPathComponent
                let sample: FlowJoWorkspace.Sample
                switch match.sample(fileName: name, fil: dataSet.keywords.trimmed("$FIL"), total: dataSet.keywords.trimmed("$TOT")) {
                case .success(let found): sample = found
                case .failure(let failure): throw FlowJoMatchError(file: file, workspace: path, failure: failure)
                }
                label = "\(sample.id) (\(sample.name))"
                let tree = try sample.gatingTree(channels: dataSet.channels.map(\.name))
                let result = try TreeEvaluator(tree: tree).evaluate(file: source, dataSet: self.dataSet)
                var stored: [String: Int] = [:], names: [String: String] = [:]
                for population in sample.populations {
                    stored[population.pathText] = population.storedCount
                    names[population.pathText] = population.name
                }
                results.append(.init(file: file, result: result, sample: label, storedCounts: stored))
                if !json { print(GatingReport.text(result, file: file, sample: label!, names: names, storedCounts: stored)) }
            } catch {
                results.append(.init(file: file, error: "\(error)", sample: label))
                CommandError.print(error)
            }
        }
        if json { print(try StableJSON.encode(GatingDocument(files: results).files)) }
        if results.contains(where: { $0.error != nil }) { throw ExitCode(1) }
    }
}

/// An FCS file that no workspace sample (or more than one) matches.
struct FlowJoMatchError: Error, CustomStringConvertible {
    let file: String, workspace: String, failure: FlowJoSampleMatch.MatchFailure
    var description: String { "\(file): \(failure) (workspace \(workspace))" }
}
