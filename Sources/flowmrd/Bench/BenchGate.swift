import ArgumentParser
import Cytometry
import EventCore
import FCS
import Foundation
import Synthetic

/// `flowmrd bench gate [FILE]`: read + compensate + logicle on 10 channels + a 10-gate tree.
struct BenchGate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gate",
        abstract: "Time read + compensation + logicle on 10 channels + a 10-gate tree over a file (release build).",
        discussion: """
            Without FILE, a LEGEND-2-panel file with a $SPILLOVER matrix is generated. --export-gating-ml writes \
            the benchmark tree so peers (Tests/peers/flowkit_bench_gate.py) can run the same gates on the same file.
            \(BenchExit.help)
            """)

    @Argument(help: "An FCS file in the LEGEND-2 panel layout (flowmrd bench make-file --panel legend2 --spillover).")
    var file: String?

    @Option(parsing: .unconditional, help: "Events in the generated file.")
    var events = 10_000_000

    @Option(parsing: .unconditional, help: "Timed repetitions (the median is reported).")
    var repeats = 5

    @Option(name: .customLong("workers"), parsing: .unconditional, help: "Evaluation threads (default: this machine's cores).")
    var workerOption: Int?

    var workers: Int { workerOption ?? ProcessInfoCores.active }

    @Option(parsing: .unconditional, help: "Events per block.")
    var blockSize = TreeEvaluator.defaultBlockSize

    @Option(name: .customLong("export-gating-ml"), help: "Write the benchmark gate tree as Gating-ML to this path.")
    var exportGatingML: String?

    func validate() throws {
        try CountRange.check("--events", events, atLeast: 1)
        try CountRange.check("--repeats", repeats, atLeast: 1)
        if let workerOption { try CountRange.check("--workers", workerOption, atLeast: 1) }
        try CountRange.check("--block-size", blockSize, atLeast: 1)
    }

    func run() throws {
        var path = file
        var generated: String?
        if path == nil {
            let target = NSTemporaryDirectory() + "flowmrd-bench-gate-\(events).fcs"
            try NoiseFile.write(path: target, events: events, channels: LegendPanel.channels, spillover: LegendPanel.spillover)
            path = target
            generated = target
        }
        defer { if let generated { try? FileManager.default.removeItem(atPath: generated) } }
        let tree = try BenchmarkTree.make()
        if let exportGatingML {
            try GatingMLExport.document(tree).write(toFile: exportGatingML, atomically: true, encoding: .utf8)
        }
        let fcs = try FCSFile(path: path!)
        let evaluator = TreeEvaluator(tree: tree)
        _ = try evaluator.evaluate(file: fcs, workers: workers, blockSize: blockSize)  // warm the page cache
        var times: [Double] = []
        var last: GatingResult?
        for _ in 0..<max(1, repeats) {
            let start = ContinuousClock.now
            last = try evaluator.evaluate(file: fcs, workers: workers, blockSize: blockSize)
            times.append(seconds(ContinuousClock.now - start))
        }
        let t = median(times)
        print("file: \(path!) — \(last!.eventCount) events")
        print(String(format: "flowmrd gate: %.3f s median of %d  (%.1f M events/s, %d workers, blocks of %d): read + compensation (10 ch) + logicle (10 ch) + 10 gates",
                     t, times.count, Double(last!.eventCount) / t / 1e6, workers, blockSize))
        for gate in last!.gates { print("  \(gate.path): \(gate.count)") }
    }
}

/// The benchmark's gate tree: 10 gates over FSC/SSC and the ten LEGEND-2 fluorescence channels,
/// each fluorescence channel compensated with the file's spillover and logicle-transformed.
enum BenchmarkTree {
    static func make() throws -> GatingTree {
        let logicle = NamedTransformation(id: "logicle", BoundedTransformation(.logicle(try LogicleTransform(T: 262_144, W: 0.5, M: 4.5, A: 0))))
        func fl(_ channel: String) -> GateDimension { .channel(channel, compensation: .file, transform: logicle) }
        func raw(_ channel: String) -> GateDimension { .channel(channel, compensation: .uncompensated) }
        let gates: [Gate] = [
            Gate(id: "cells", shape: .polygon(x: raw("FSC-A"), y: raw("SSC-A"),
                                             vertices: [Vertex(20_000, 0), Vertex(262_144, 0), Vertex(262_144, 200_000), Vertex(60_000, 262_144), Vertex(20_000, 100_000)])),
            Gate(id: "singlets", parentID: "cells", shape: .polygon(x: raw("FSC-A"), y: raw("FSC-H"),
                                                                   vertices: [Vertex(0, 0), Vertex(262_144, 150_000), Vertex(262_144, 262_144), Vertex(0, 80_000)])),
            Gate(id: "CD45", parentID: "singlets", shape: .rectangle(dimensions: [fl("APC-H7-A")], minimums: [0.3], maximums: [nil])),
            Gate(id: "PC", parentID: "CD45", shape: .polygon(x: fl("BV510-A"), y: fl("APC-A"),
                                                           vertices: [Vertex(0.5, 0.2), Vertex(1, 0.2), Vertex(1, 1), Vertex(0.7, 1), Vertex(0.5, 0.6)])),
            Gate(id: "CD19negCD56pos", parentID: "PC", shape: .rectangle(dimensions: [fl("PE-Cy7-A"), fl("APC-A700-A")], minimums: [nil, 0.4], maximums: [0.5, nil])),
            Gate(id: "CD27CD81", parentID: "PC", shape: .polygon(x: fl("BV605-A"), y: fl("Pacific Blue-A"),
                                                               vertices: [Vertex(0.4, 0.4), Vertex(1, 0.4), Vertex(1, 1), Vertex(0.4, 1)])),
            Gate(id: "CD117", parentID: "PC", shape: .rectangle(dimensions: [fl("PE-Cy5.5-A")], minimums: [0.5], maximums: [nil])),
            Gate(id: "kappa", parentID: "PC", shape: .rectangle(dimensions: [fl("FITC-A"), fl("PE-A")], minimums: [0.5, nil], maximums: [nil, 0.5])),
            Gate(id: "lambda", parentID: "PC", shape: .rectangle(dimensions: [fl("FITC-A"), fl("PE-A")], minimums: [nil, 0.5], maximums: [0.5, nil])),
            Gate(id: "aberrant", parentID: "PC", shape: .boolean(.and, operands: [BooleanOperand("CD19negCD56pos"), BooleanOperand("CD27CD81", complement: true)])),
        ]
        return try GatingTree(gates: gates)
    }
}
