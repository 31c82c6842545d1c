import Foundation
import TestSupport
import EventCore
import FCS
@testable import Cytometry

/// A FlowJo 10 workspace written by the tests, and an FCS file whose true (unspilled) values are
/// known, so that gate counts can be checked against the truth and against FlowKit.
enum FlowJoFixture {
    static let header = """
        <?xml version="1.0" encoding="UTF-8"?>
        <Workspace version="20.0" flowJoVersion="10.8.1" xmlns:gating="http://www.isac-net.org/std/Gating-ML/v2.0/gating" \
        xmlns:transforms="http://www.isac-net.org/std/Gating-ML/v2.0/transformations" xmlns:data-type="http://www.isac-net.org/std/Gating-ML/v2.0/datatypes">
        """

    /// A workspace with one group holding every sample, and the samples' XML.
    static func workspace(samples: [String], sampleIDs: [String]) -> String {
        let references = sampleIDs.map { "<SampleRef sampleID=\"\($0)\" />" }.joined()
        return header + "\n<Groups><GroupNode name=\"All Samples\" owningGroup=\"All Samples\"><Group name=\"All Samples\"><SampleRefs>\(references)</SampleRefs></Group></GroupNode></Groups>\n"
            + "<SampleList>\n" + samples.joined(separator: "\n") + "\n</SampleList>\n</Workspace>\n"
    }

    static func sample(id: String, uri: String, name: String, keywords: [(String, String)] = [], scales: String = "", matrix: String = "", populations: String) -> String {
        """
        <Sample>
        <DataSet uri="\(uri)" sampleID="\(id)" />
        <Transformations>\(scales)</Transformations>
        \(matrix)
        <Keywords>\(keywords.map { "<Keyword name=\"\($0.0)\" value=\"\($0.1)\" />" }.joined())</Keywords>
        <SampleNode name="\(name)" owningGroup="" count="0" sampleID="\(id)">
        <Subpopulations>
        \(populations)
        </Subpopulations>
        </SampleNode>
        </Sample>
        """
    }

    static func dimension(_ name: String, min: Double? = nil, max: Double? = nil) -> String {
        var attributes = ""
        if let min { attributes += " gating:min=\"\(min)\"" }
        if let max { attributes += " gating:max=\"\(max)\"" }
        return "<gating:dimension\(attributes)><data-type:fcs-dimension data-type:name=\"\(name)\" /></gating:dimension>"
    }

    static func population(_ name: String, gate: String, id: String, count: Int? = nil, children: String = "") -> String {
        let sub = children.isEmpty ? "" : "<Subpopulations>\(children)</Subpopulations>"
        return "<Population name=\"\(name)\" owningGroup=\"\" count=\"\(count ?? -1)\"><Gate gating:id=\"\(id)\">\(gate)</Gate>\(sub)</Population>"
    }

    static func rectangle(_ dimensions: [String], id: String, inside: Bool = true) -> String {
        "<gating:RectangleGate eventsInside=\"\(inside ? 1 : 0)\" gating:id=\"\(id)\">" + dimensions.joined() + "</gating:RectangleGate>"
    }

    static func polygon(_ x: String, _ y: String, _ vertices: [(Double, Double)], id: String) -> String {
        "<gating:PolygonGate eventsInside=\"1\" gating:id=\"\(id)\">" + dimension(x) + dimension(y)
            + vertices.map { "<gating:vertex><gating:coordinate data-type:value=\"\($0.0)\" /><gating:coordinate data-type:value=\"\($0.1)\" /></gating:vertex>" }.joined()
            + "</gating:PolygonGate>"
    }

    static func vertex(_ x: Double, _ y: Double) -> String {
        "<gating:vertex><gating:coordinate data-type:value=\"\(x)\" /><gating:coordinate data-type:value=\"\(y)\" /></gating:vertex>"
    }

    static func ellipse(_ x: String, _ y: String, foci: [(Double, Double)], edges: [(Double, Double)], id: String) -> String {
        "<gating:EllipsoidGate eventsInside=\"1\" gating:distance=\"1\" gating:id=\"\(id)\">" + dimension(x) + dimension(y)
            + "<gating:foci>" + foci.map { vertex($0.0, $0.1) }.joined() + "</gating:foci>"
            + "<gating:edge>" + edges.map { vertex($0.0, $0.1) }.joined() + "</gating:edge></gating:EllipsoidGate>"
    }

    static func boolean(_ kind: String, _ name: String, dependents: [String]) -> String {
        "<\(kind) name=\"\(name)\" owningGroup=\"\" count=\"-1\"><Dependents>"
            + dependents.map { "<Dependent name=\"\($0)\" />" }.joined() + "</Dependents></\(kind)>"
    }

    static func matrix(_ detectors: [String], rows: [[Double]]) -> String {
        "<transforms:spilloverMatrix spectral=\"0\" prefix=\"Comp-\" name=\"Acquisition-defined\" suffix=\"\" transforms:id=\"m1\"><data-type:parameters>"
            + detectors.map { "<data-type:parameter data-type:name=\"\($0)\" />" }.joined() + "</data-type:parameters>"
            + rows.map { row in
                "<transforms:spillover data-type:parameter=\"x\">" + zip(detectors, row).map { "<transforms:coefficient data-type:parameter=\"\($0)\" transforms:value=\"\($1)\" />" }.joined() + "</transforms:spillover>"
            }.joined() + "</transforms:spilloverMatrix>"
    }

    static func scale(_ element: String, _ parameter: String) -> String {
        "<transforms:\(element)><data-type:parameter data-type:name=\"\(parameter)\" /></transforms:\(element.split(separator: " ").first!)>"
    }

    /// A float file FSC-A, SSC-A, FL1-A…FL3-A with FL spilled by `spillover`; the true values come back.
    static func spilledFile(path: String, events: Int, spillover: [[Double]]) throws -> [[Double]] {
        let channels = ["FSC-A", "SSC-A", "FL1-A", "FL2-A", "FL3-A"].map { FCSChannelDescription(name: $0, range: 262144) }
        let matrix = try SpilloverMatrix(channels: ["FL1-A", "FL2-A", "FL3-A"], values: spillover.flatMap { $0 })
        let writer = try FCSWriter(path: path, channels: channels, eventCount: events, keywords: DataSetKeywords([("$FIL", "fixture.fcs")]), spillover: matrix)
        var block = EventBlock<Float>(channelCount: 5, capacity: events)
        block.setCount(events)
        var state: UInt64 = 2024
        func uniform() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return (Double(state >> 11) + 0.5) / Double(1 << 53)
        }
        func fluorescence() -> Double {
            // Half near zero (some negative, as compensated data is), half log-uniform 100…100,000.
            uniform() < 0.5 ? (uniform() - 0.5) * 600 : pow(10, 2 + 3 * uniform())
        }
        var truth: [[Double]] = []
        for e in 0..<events {
            let t = [uniform() * 262_144, uniform() * 262_144, fluorescence(), fluorescence(), fluorescence()]
            truth.append(t)
            block[0, e] = Float(t[0])
            block[1, e] = Float(t[1])
            for j in 0..<3 {
                var observed = 0.0
                for i in 0..<3 { observed += t[2 + i] * spillover[i][j] }
                block[2 + j, e] = Float(observed)
            }
            // What the file holds is what the truth must be compared with, once unspilled.
            truth[e][0] = Double(Float(t[0]))
            truth[e][1] = Double(Float(t[1]))
        }
        try writer.append(block)
        try writer.finish()
        return truth
    }
}
