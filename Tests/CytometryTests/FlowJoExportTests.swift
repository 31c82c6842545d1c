import Foundation
import TestSupport
import Testing
import EventCore
import FCS
@testable import Cytometry

@Suite("FlowJo workspace export")
struct FlowJoExportTests {
    let directory = TemporaryDirectory()

    @Test("export then import gives the same counts; what FlowJo cannot hold is omitted with its reason, with everything below it")
    func roundTripAndOmissions() throws {
        let fcs = directory.path("e.fcs")
        let spillover = [[1, 0.15, 0.02], [0.05, 1, 0.2], [0, 0.03, 1]]
        _ = try FlowJoFixture.spilledFile(path: fcs, events: 2000, spillover: spillover)
        let file = try FCSFile(path: fcs)
        let fileMatrix = try CompensationMatrix(spillover: try #require(try file.dataSets[0].spillover.get()))
        let logicle = NamedTransformation(id: "lg", BoundedTransformation(.logicle(try LogicleTransform(T: 262_144, W: 0.5, M: 4.5, A: 0))))
        let linear = NamedTransformation(id: "lin", BoundedTransformation(.linear(T: 262_144, A: 0)))
        let fl1 = GateDimension.channel("FL1-A", compensation: .file, transform: logicle)
        let fl2 = GateDimension.channel("FL2-A", compensation: .file, transform: logicle)
        let gates = [
            Gate(id: "cells", shape: .rectangle(dimensions: [.channel("FSC-A", transform: linear)], minimums: [0.1], maximums: [0.9])),
            Gate(id: "fl1", parentID: "cells", shape: .rectangle(dimensions: [fl1], minimums: [0.4], maximums: [nil])),
            Gate(id: "poly", parentID: "cells", shape: .polygon(x: fl1, y: fl2, vertices: [Vertex(0.1, 0.1), Vertex(0.8, 0.15), Vertex(0.5, 0.9)])),
            Gate(id: "out", parentID: "cells", shape: .rectangle(dimensions: [.channel("SSC-A")], minimums: [50_000], maximums: [nil]), complement: true),
            // The same channel, linear: a second polygon cannot have FlowJo's one scale per parameter.
            Gate(id: "poly-linear", parentID: "cells", shape: .polygon(x: .channel("FL1-A", compensation: .file, transform: linear), y: fl2,
                                                                       vertices: [Vertex(0, 0), Vertex(0.5, 0), Vertex(0.2, 0.5)])),
            Gate(id: "ellipse", shape: .ellipsoid(dimensions: [fl1, fl2], mean: [0.5, 0.5], covariance: [0.01, 0, 0, 0.01], distanceSquare: 1)),
            Gate(id: "under-ellipse", parentID: "ellipse", shape: .rectangle(dimensions: [fl1], minimums: [0.5], maximums: [nil])),
            Gate(id: "fl1-not-out", parentID: "cells", shape: .boolean(.and, operands: [BooleanOperand("fl1"), BooleanOperand("out", complement: true)])),
            Gate(id: "needs-ellipse", shape: .boolean(.or, operands: [BooleanOperand("fl1"), BooleanOperand("ellipse")])),
        ]
        let tree = try GatingTree(gates: gates)
        let output = FlowJoExport.workspace(tree: tree, fcsPath: fcs, eventCount: 2000, keywords: [("$FIL", "fixture.fcs")], fileCompensation: fileMatrix,
                                            counts: ["cells": 7], notes: ["a note"])
        #expect(output.omitted.map(\.id) == ["poly-linear", "ellipse", "under-ellipse", "needs-ellipse"])
        #expect(output.omitted[0].reason == "FL1-A is already scaled differently by another gate")
        #expect(output.omitted[2].reason == "its parent ellipse is not in the workspace")
        #expect(output.omitted[3].reason == "it depends on ellipse, which is not in the workspace")
        let wsp = directory.path("e.wsp")
        try output.xml.write(toFile: wsp, atomically: true, encoding: .utf8)
        let workspace = try FlowJoWorkspaceReader.read(path: wsp)
        let sample = try #require(workspace.samples.first)
        #expect(sample.populations.first { $0.name == "cells" }?.storedCount == 7 && sample.keywords["$FIL"] == "fixture.fcs")
        #expect(sample.populations.contains { $0.name == "out~not" && $0.shape == .boolean(.not, dependents: ["cells/out"]) })
        let back = try sample.gatingTree(channels: file.dataSets[0].channels.map(\.name))
        let original = try TreeEvaluator(tree: tree).evaluate(file: file)
        let reread = try TreeEvaluator(tree: back).evaluate(file: file)
        let byPath = Dictionary(uniqueKeysWithValues: reread.gates.map { ($0.path, $0.count) })
        for gate in original.gates where !output.omitted.contains(where: { $0.id == gate.id }) {
            #expect(byPath[gate.path] == gate.count, "\(gate.path): \(String(describing: byPath[gate.path])) vs \(gate.count)")
            #expect(gate.count > 0 && gate.count < 2000, "\(gate.id) \(gate.count)")
        }
        #expect(output.xml.contains("annotation=\"a note; not exported: poly-linear (FL1-A is already scaled differently by another gate); "))
    }
}
