import ArgumentParser
import Cytometry
import FCS
import HDF5Store
import Foundation
import Report

/// `flowmrd gate FILE --gating-ml GATES.xml`: apply a Gating-ML 2.0 gate file and print counts.
struct GateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gate",
        abstract: "Apply a Gating-ML 2.0 file to FCS files; print each gate's id, path, count and % of parent.",
        discussion: "Results go to standard output, errors to standard error. Exit status: 0 every file was gated; 1 at least one file could not be read or gated; 2 the Gating-ML file could not be read; " + ExitHelp.usage + ".")

    @Argument(help: "FCS files.")
    var files: [String]

    @Option(name: .customLong("gating-ml"), help: "The Gating-ML 2.0 gate file.")
    var gatingML: String

    @Option(parsing: .unconditional, help: "Data set index (default: the file's default data set).")
    var dataSet: Int?

    @Flag(help: "Print JSON: a list with one entry per file (file, events, gates with id, path, parent, count, parent_count, percent_of_parent; or error).")
    var json = false

    @Option(help: "Also write the gate tree back out as Gating-ML to this path.")
    var exportGatingML: String?

    func run() throws {
        let tree: GatingTree
        do { tree = try GatingMLImport.read(path: gatingML) } catch {
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
}
