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
        let files = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        #expect(files.count == 1 && files[0]["error"] is NSNull && files[0]["events"] as? Int != nil)
        let gates = try #require(files[0]["gates"] as? [[String: Any]])
        let truth = try String(contentsOf: Self.conformance.appendingPathComponent("truth/Results_ParAnd3.txt"), encoding: .utf8)
            .split(whereSeparator: \.isNewline).filter { $0 == "1" }.count
        let parAnd3 = try #require(gates.first { $0["id"] as? String == "ParAnd3" })
        #expect(parAnd3["count"] as? Int == truth)
        #expect(parAnd3["path"] as? String == "/Range1/ParAnd3")
        // Percentages are rounded to 4 decimals, and match count / parent_count.
        for gate in gates {
            let percent = try #require(gate["percent_of_parent"] as? Double), count = try #require(gate["count"] as? Int)
            let parent = try #require(gate["parent_count"] as? Int)
            #expect(abs(percent * 10_000 - (percent * 10_000).rounded()) < 1e-6)
            #expect(abs(percent - (parent == 0 ? 0 : 100 * Double(count) / Double(parent))) <= 0.00005 + 1e-9)
        }
    }

    @Test("--json has the same shape for several files, with an error entry for one that cannot be read")
    func jsonSeveral() throws {
        let data = Self.conformance.appendingPathComponent("data1.fcs").path
        let missing = "/no/such/file.fcs"
        let result = try FlowMRDBinary.run(["gate", data, missing, "--gating-ml", Self.conformance.appendingPathComponent("gml/gml_parent_range1_boolean_and3_gate.xml").path, "--json"])
        #expect(result.status == 1 && result.stderr.contains(missing))
        let files = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        #expect(files.map { $0["file"] as? String } == [data, missing])
        #expect(Set(files[0].keys) == Set(files[1].keys))
        #expect((files[0]["gates"] as? [[String: Any]])?.isEmpty == false && files[1]["gates"] is NSNull && (files[1]["error"] as? String)?.contains(missing) == true)
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
