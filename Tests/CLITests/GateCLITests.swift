import Foundation
import Testing

enum ConformanceData {
    static let directory = FlowMRDBinary.packageRoot.deletingLastPathComponent().appendingPathComponent("shared/conformance/gatingml2")
    static var isAvailable: Bool { FlowMRDBinary.path != nil && FileManager.default.fileExists(atPath: directory.path) }
}

@Suite("flowmrd gate", .enabled(if: ConformanceData.isAvailable, Comment(rawValue: "needs the built binary and ../shared/conformance")))
struct GateCLITests {
    static let conformance = ConformanceData.directory

    @Test("--json lists id, path and count; counts equal the truth files")
    func json() throws {
        let result = try FlowMRDBinary.run(["gate", Self.conformance.appendingPathComponent("data1.fcs").path,
                                            "--gating-ml", Self.conformance.appendingPathComponent("gml/gml_parent_range1_boolean_and3_gate.xml").path, "--json"])
        #expect(result.status == 0)
        let gates = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        let truth = try String(contentsOf: Self.conformance.appendingPathComponent("truth/Results_ParAnd3.txt"), encoding: .utf8)
            .split(whereSeparator: \.isNewline).filter { $0 == "1" }.count
        let parAnd3 = try #require(gates.first { $0["id"] as? String == "ParAnd3" })
        #expect(parAnd3["count"] as? Int == truth)
        #expect(parAnd3["path"] as? String == "/Range1/ParAnd3")
    }

    @Test("text output has a row per gate; a malformed gate file exits 2 naming the line")
    func textAndErrors() throws {
        let data = Self.conformance.appendingPathComponent("data1.fcs").path
        let ok = try FlowMRDBinary.run(["gate", data, "--gating-ml", Self.conformance.appendingPathComponent("gml/gml_quadrant1_gate.xml").path])
        #expect(ok.status == 0)
        for id in ["FL2N-FL4N", "FL2N-FL4P", "FL2P-FL4N", "FL2P-FL4P"] { #expect(ok.stdout.contains(id)) }
        let bad = try FlowMRDBinary.run(["gate", data, "--gating-ml", Self.conformance.appendingPathComponent("gml/gml_range_gate_attr_testing.xml").path])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("gml_range_gate_attr_testing.xml:7") && bad.stderr.contains("sample"))
    }
}
