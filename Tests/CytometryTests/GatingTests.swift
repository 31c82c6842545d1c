import Foundation
import TestSupport
import Testing
import EventCore
import FCS
@testable import Cytometry

@Suite("Compensation, gates and the evaluator")
struct GatingTests {
    let directory = TemporaryDirectory()

    /// A small float file with a spillover matrix: fluorescence = true · S.
    func spilledFile(events: Int = 5000) throws -> (path: String, truth: [[Double]], spillover: SpilloverMatrix) {
        let spillover = try SpilloverMatrix(channels: ["FL1", "FL2", "FL3"], values: [1, 0.2, 0.05, 0.1, 1, 0.3, 0, 0.02, 1])
        let path = directory.path("spilled.fcs")
        let channels = ["FSC", "FL1", "FL2", "FL3"].map { FCSChannelDescription(name: $0) }
        let writer = try FCSWriter(path: path, channels: channels, eventCount: events, spillover: spillover)
        var block = EventBlock<Float>(channelCount: 4, capacity: events)
        block.setCount(events)
        var truth: [[Double]] = []
        var state: UInt64 = 42
        func next() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 43) / Double(1 << 21) * 1000
        }
        for e in 0..<events {
            let t = [next(), next(), next()]
            truth.append(t)
            block[0, e] = Float(next())
            for j in 0..<3 {
                var observed = 0.0
                for i in 0..<3 { observed += t[i] * spillover[i, j] }
                block[1 + j, e] = Float(observed)
            }
        }
        try writer.append(block)
        try writer.finish()
        return (path, truth, spillover)
    }

    @Test("compensation recovers the true values: observed · S⁻¹")
    func compensation() throws {
        let (_, _, spillover) = try spilledFile(events: 10)
        let matrix = try CompensationMatrix(spillover: spillover)
        // S · S⁻¹ = I
        for i in 0..<3 {
            for j in 0..<3 {
                var sum = 0.0
                for k in 0..<3 { sum += spillover[i, k] * matrix.unmixing[k * 3 + j] }
                #expect(abs(sum - (i == j ? 1 : 0)) < 1e-14)
            }
        }
        let t = [100.0, 50.0, 20.0]
        let o = (0..<3).map { j in (0..<3).reduce(0.0) { $0 + t[$1] * spillover[$1, j] } }
        var outputs = [[Double]](repeating: [0], count: 3)
        let inputs = o.map { value -> UnsafeMutablePointer<Double> in
            let p = UnsafeMutablePointer<Double>.allocate(capacity: 1)
            p.initialize(to: value)
            return p
        }
        let outs = (0..<3).map { _ in UnsafeMutablePointer<Double>.allocate(capacity: 1) }
        matrix.apply(inputs: inputs.map { UnsafePointer($0) }, outputs: outs, count: 1)
        for i in 0..<3 { outputs[i][0] = outs[i].pointee }
        inputs.forEach { $0.deallocate() }
        outs.forEach { $0.deallocate() }
        for i in 0..<3 { #expect(abs(outputs[i][0] - t[i]) < 1e-9) }
    }

    @Test("a singular or mis-sized matrix is a typed error")
    func badMatrices() throws {
        let singular = try SpilloverMatrix(channels: ["A", "B"], values: [1, 2, 0.5, 1])
        #expect(throws: CytometryError.self) { try CompensationMatrix(spillover: singular) }
        #expect(throws: CytometryError.self) { try CompensationMatrix(fluorochromes: ["A", "B"], detectors: ["X"], spectra: [[1], [1]]) }
        #expect(throws: CytometryError.self) { try CompensationMatrix(fluorochromes: ["A"], detectors: ["X", "Y"], spectra: [[1, 0, 3]]) }
        #expect(throws: SpilloverMatrix.ShapeError(source: .caller, channels: 2, values: 3)) { try SpilloverMatrix(channels: ["A", "B"], values: [1, 0, 0]) }
        #expect("\(SpilloverMatrix.ShapeError(source: .caller, channels: 2, values: 3))" == "caller: 2 channel(s) need 4 values, got 3")
    }

    @Test("gating through the file's spillover counts what the true values say, in one pass, any worker count")
    func evaluatorWithFileCompensation() throws {
        let (path, truth, _) = try spilledFile()
        let gates = [
            Gate(id: "FL1pos", shape: .rectangle(dimensions: [.channel("FL1", compensation: .file)], minimums: [500], maximums: [nil])),
            Gate(id: "FL2mid", parentID: "FL1pos", shape: .rectangle(dimensions: [.channel("FL2", compensation: .file)], minimums: [200], maximums: [800])),
            Gate(id: "tri", shape: .polygon(x: .channel("FL1", compensation: .file), y: .channel("FL3", compensation: .file),
                                            vertices: [Vertex(0, 0), Vertex(1000, 0), Vertex(0, 1000)])),
            Gate(id: "notTri", shape: .boolean(.not, operands: [BooleanOperand("tri")])),
            Gate(id: "ell", shape: .ellipsoid(dimensions: [.channel("FL1", compensation: .file), .channel("FL2", compensation: .file)],
                                              mean: [500, 500], covariance: [40000, 0, 0, 10000], distanceSquare: 1)),
        ]
        let tree = try GatingTree(gates: gates)
        let file = try FCSFile(path: path)
        let expectedFL1 = truth.filter { $0[0] >= 500 }.count
        let expectedFL2 = truth.filter { $0[0] >= 500 && $0[1] >= 200 && $0[1] < 800 }.count
        let expectedTri = truth.filter { $0[0] + $0[2] < 1000 && $0[0] > 0 && $0[2] > 0 }.count
        let expectedEll = truth.filter { pow($0[0] - 500, 2) / 40000 + pow($0[1] - 500, 2) / 10000 <= 1 }.count
        var results: [GatingResult] = []
        for (workers, blockSize) in [(1, 64), (2, 1024), (2, 100), (4, 16_384)] {
            let result = try TreeEvaluator(tree: tree).evaluate(file: file, membership: true, workers: workers, blockSize: blockSize)
            // Float storage rounds the observed values: allow events within float precision of a boundary.
            #expect(abs(result.count("FL1pos")! - expectedFL1) <= 2)
            #expect(abs(result.count("FL2mid")! - expectedFL2) <= 2)
            #expect(abs(result.count("tri")! - expectedTri) <= 2)
            #expect(abs(result.count("ell")! - expectedEll) <= 2)
            #expect(result.count("notTri")! == 5000 - result.count("tri")!)
            #expect(result.gates.first { $0.id == "FL2mid" }?.parentCount == result.count("FL1pos"))
            #expect(result.gates.first { $0.id == "FL2mid" }?.path == "/FL1pos/FL2mid")
            for (id, membership) in result.membership { #expect(membership.count == result.count(id), "membership of \(id)") }
            results.append(result)
        }
        // Identical results whatever the parallelism and block size.
        for result in results.dropFirst() {
            #expect(result.gates == results[0].gates)
            #expect(result.membership == results[0].membership)
        }
    }

    @Test("rectangle bounds: min inclusive, max exclusive, one-sided allowed")
    func rectangleBounds() throws {
        let path = directory.path("steps.fcs")
        let writer = try FCSWriter(path: path, channels: [FCSChannelDescription(name: "X")], eventCount: 5)
        var block = EventBlock<Float>(channelCount: 1, capacity: 5)
        block.setCount(5)
        for (e, v) in [1, 2, 3, 4, 5].enumerated() { block[0, e] = Float(v) }
        try writer.append(block)
        try writer.finish()
        let tree = try GatingTree(gates: [
            Gate(id: "closed", shape: .rectangle(dimensions: [.channel("X")], minimums: [2], maximums: [4])),
            Gate(id: "above", shape: .rectangle(dimensions: [.channel("X")], minimums: [4], maximums: [nil])),
            Gate(id: "below", shape: .rectangle(dimensions: [.channel("X")], minimums: [nil], maximums: [2])),
        ])
        let result = try TreeEvaluator(tree: tree).evaluate(file: FCSFile(path: path), membership: true)
        #expect(result.count("closed") == 2 && result.count("above") == 2 && result.count("below") == 1)
        #expect((0..<5).map { result.membership["closed"]!.contains($0) } == [false, true, true, false, false])
    }

    @Test("files with no events or fewer events than a block")
    func tinyFiles() throws {
        let tree = try GatingTree(gates: [Gate(id: "g", shape: .rectangle(dimensions: [.channel("X")], minimums: [2], maximums: [nil]))])
        for events in [0, 1, 30, 65, 129] {
            let path = directory.path("tiny\(events).fcs")
            let writer = try FCSWriter(path: path, channels: [FCSChannelDescription(name: "X")], eventCount: events)
            if events > 0 {
                var block = EventBlock<Float>(channelCount: 1, capacity: events)
                block.setCount(events)
                for e in 0..<events { block[0, e] = Float(e % 4) }
                try writer.append(block)
            }
            try writer.finish()
            let result = try TreeEvaluator(tree: tree).evaluate(file: FCSFile(path: path), membership: true, workers: 2, blockSize: 64)
            let expected = (0..<events).filter { $0 % 4 >= 2 }.count
            #expect(result.eventCount == events && result.count("g") == expected && result.membership["g"]?.count == expected)
        }
    }

    @Test("tree checks: unknown parent, unknown operand, cycle, missing channel")
    func treeChecks() throws {
        let r = GateShape.rectangle(dimensions: [.channel("X")], minimums: [0], maximums: [1])
        #expect(throws: CytometryError.invalidGate(id: "a", detail: "parent \"zz\" does not exist")) { try GatingTree(gates: [Gate(id: "a", parentID: "zz", shape: r)]) }
        #expect(throws: CytometryError.self) { try GatingTree(gates: [Gate(id: "b", shape: .boolean(.and, operands: [BooleanOperand("a"), BooleanOperand("c")]))]) }
        #expect(throws: CytometryError.invalidGate(id: "a", detail: "gate references form a cycle")) {
            try GatingTree(gates: [Gate(id: "a", parentID: "b", shape: r), Gate(id: "b", parentID: "a", shape: r)])
        }
        #expect(throws: CytometryError.self) { try GatingTree(gates: [Gate(id: "p", shape: .polygon(x: .channel("X"), y: .channel("Y"), vertices: [Vertex(0, 0), Vertex(1, 1)]))]) }
        let (path, _, _) = try spilledFile(events: 10)
        let tree = try GatingTree(gates: [Gate(id: "g", shape: .rectangle(dimensions: [.channel("CD45")], minimums: [0], maximums: [nil]))])
        #expect(throws: CytometryError.missingChannel(name: "CD45", available: ["FSC", "FL1", "FL2", "FL3"])) {
            try TreeEvaluator(tree: tree).evaluate(file: FCSFile(path: path))
        }
    }
}

