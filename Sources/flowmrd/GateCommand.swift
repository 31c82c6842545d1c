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
        abstract: "Apply a Gating-ML 2.0 file to FCS files; print each gate's id, path, count and % of parent.")

    @Argument(help: "FCS files.")
    var files: [String]

    @Option(name: .customLong("gating-ml"), help: "The Gating-ML 2.0 gate file.")
    var gatingML: String

    @Option(help: "Data set index (default: the file's default data set).")
    var dataSet: Int?

    @Flag(help: "Print JSON: per file a list of objects with id, path, count, parent, parentCount, percentOfParent.")
    var json = false

    @Option(help: "Also write the gate tree back out as Gating-ML to this path.")
    var exportGatingML: String?

    struct FileResult: Encodable {
        let file: String
        let events: Int?
        let gates: [GatingResult.GateCount]?
        let error: String?
    }

    func run() throws {
        let tree: GatingTree
        do { tree = try GatingMLImport.read(path: gatingML) } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(2)
        }
        if let exportGatingML {
            try GatingMLExport.document(tree).write(toFile: exportGatingML, atomically: true, encoding: .utf8)
        }
        var results: [FileResult] = []
        for path in files {
            do {
                let file = try EventFile.open(path)
                let result = try TreeEvaluator(tree: tree).evaluate(file: file, dataSet: dataSet)
                results.append(FileResult(file: path, events: result.eventCount, gates: result.gates, error: nil))
                if !json { print(GatingReport.text(result, file: path)) }
            } catch {
                results.append(FileResult(file: path, events: nil, gates: nil, error: "\(error)"))
                if !json { FileHandle.standardError.write(Data("error: \(error)\n".utf8)) }
            }
        }
        if json {
            if results.count == 1, let gates = results[0].gates {
                print(try StableJSON.encode(gates))
            } else {
                print(try StableJSON.encode(results))
            }
        }
        if results.contains(where: { $0.error != nil }) { throw ExitCode(1) }
    }
}
