import Foundation
import Testing

enum FlowJoData {
    static let shared = FlowMRDBinary.packageRoot.deletingLastPathComponent().appendingPathComponent("shared")
    static let folder = shared.appendingPathComponent("flowjo")
    static var isAvailable: Bool { FlowMRDBinary.path != nil && FileManager.default.fileExists(atPath: folder.path) }
}

@Suite("flowmrd gate --flowjo", .enabled(if: FlowJoData.isAvailable, Comment(rawValue: "needs the built binary and ../shared/flowjo")))
struct FlowJoCLITests {
    let diamond = FlowJoData.shared.appendingPathComponent("fcs-corpus/FlowKit/test_data_diamond_01.fcs").path

    @Test("--json: FlowKit's count and FlowJo's stored count for every quadrant, the sample matched by file name")
    func json() throws {
        let result = try FlowMRDBinary.run(["gate", diamond, "--flowjo", FlowJoData.folder.appendingPathComponent("simple_diamond_example_quad_gate.wsp").path, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let files = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        #expect(files.count == 1 && files[0]["sample"] as? String == "1 (test_data_diamond_01.fcs)" && files[0]["events"] as? Int == 200_000)
        let gates = try #require(files[0]["gates"] as? [[String: Any]])
        let expected = ["Q1: channel_A- , channel_B+": 49671, "Q2: channel_A+ , channel_B+": 50596, "Q3: channel_A+ , channel_B-": 50330, "Q4: channel_A- , channel_B-": 49403]
        #expect(gates.count == 4)
        for gate in gates {
            let id = try #require(gate["id"] as? String)
            #expect(gate["count"] as? Int == expected[id] && gate["flowjo_count"] as? Int == expected[id], "\(gate)")
            #expect(gate["path"] as? String == "/" + id && gate["parent"] is NSNull)
        }
    }

    @Test("text shows a stored count that differs with ≠; a workspace alone lists its trees; errors exit 1 or 2 with their reason")
    func textListAndErrors() throws {
        let line = FlowJoData.shared.appendingPathComponent("fcs-corpus/FlowKit/data_set_simple_line_100.fcs").path
        let poly = try FlowMRDBinary.run(["gate", line, "--flowjo", FlowJoData.folder.appendingPathComponent("simple_poly_and_rect_v2_poly50.wsp").path])
        #expect(poly.status == 0)
        #expect(poly.stdout.contains("FlowJo count") && poly.stdout.split(separator: "\n").contains { $0.hasPrefix("poly1") && $0.contains(" 50 ") && $0.hasSuffix("0 ≠") })
        let list = try FlowMRDBinary.run(["gate", "--flowjo", FlowJoData.folder.appendingPathComponent("8_color_ICS_boolean_gate_testing.wsp").path])
        #expect(list.status == 0)
        #expect(list.stdout.contains("Sample 1: 101_DEN084Y5_15_E03_009_clean.fcs, 283969 events") && list.stdout.contains("CD107a+ & IFNg+") && list.stdout.contains("and of 2"))
        // A file that is no sample of the workspace: exit 1, the candidates named.
        let other = try FlowMRDBinary.run(["gate", line, "--flowjo", FlowJoData.folder.appendingPathComponent("simple_diamond_example_quad_gate.wsp").path])
        #expect(other.status == 1 && other.stderr.contains("matches no sample of the workspace") && other.stderr.contains("1 (test_data_diamond_01.fcs)"))
        // --sample-id applies that sample to the file, whatever its name.
        let forced = try FlowMRDBinary.run(["gate", line, "--flowjo", FlowJoData.folder.appendingPathComponent("simple_poly_and_rect.wsp").path, "--sample-id", "1"])
        #expect(forced.status == 0)
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("flowmrd-flowjo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let broken = root.appendingPathComponent("broken.wsp").path
        let text = try String(contentsOfFile: FlowJoData.folder.appendingPathComponent("single_ellipse_51_events.wsp").path, encoding: .utf8)
        try text.replacingOccurrences(of: "gating:EllipsoidGate", with: "gating:CurlyQuad").write(toFile: broken, atomically: true, encoding: .utf8)
        let bad = try FlowMRDBinary.run(["gate", line, "--flowjo", broken])
        let badLine = text.components(separatedBy: "<gating:EllipsoidGate")[0].filter { $0 == "\n" }.count + 1
        #expect(bad.status == 2 && bad.stderr.contains("broken.wsp:\(badLine): <gating:CurlyQuad>: gate kind CurlyQuad is not supported"), "\(bad.stderr)")
        let both = try FlowMRDBinary.run(["gate", line, "--flowjo", broken, "--gating-ml", broken])
        #expect(both.status == 64 && both.stderr.contains("give one gate source"))
        let group = try FlowMRDBinary.run(["gate", line, "--flowjo", FlowJoData.folder.appendingPathComponent("simple_poly_and_rect.wsp").path, "--group", "Nope"])
        #expect(group.status == 2 && group.stderr.contains("no sample group \"Nope\""))
    }
}
