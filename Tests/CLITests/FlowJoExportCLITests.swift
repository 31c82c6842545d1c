import Foundation
import Synthetic
import Testing
import TestSupport

@Suite("flowmrd analyze --export-flowjo", .enabled(if: FlowMRDBinary.path != nil, Comment(rawValue: FlowMRDBinary.missingMessage)))
struct FlowJoExportCLITests {
    let directory = TemporaryDirectory()

    /// Analyses `fcs` with the export; the analysis's own gate counts and the workspace path.
    func export(_ fcs: String, name: String) throws -> (counts: [String: Int], wsp: String, stderr: String) {
        let wsp = directory.path(name + ".wsp")
        let run = try FlowMRDBinary.run(["analyze", fcs, "--json", "--no-checksum", "--quiet", "--export-flowjo", wsp])
        #expect([0, 10, 11, 20].contains(run.status), "\(run.stderr)")   // a small file may be not evaluable, yet gated
        let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let result = try #require(((json["results"] as? [[String: Any]])?.first?["result"]) as? [String: Any])
        let gates = try #require(result["gates"] as? [[String: Any]])
        var counts: [String: Int] = [:]
        for gate in gates { counts[try #require(gate["id"] as? String)] = try #require(gate["count"] as? Int) }
        return (counts, wsp, run.stderr)
    }

    /// `flowmrd gate FILE --flowjo W`: each gate's path (FlowJo's, without the leading slash), computed and stored count.
    func reimport(_ fcs: String, _ wsp: String) throws -> [(id: String, name: String, count: Int, stored: Int?)] {
        let run = try FlowMRDBinary.run(["gate", fcs, "--flowjo", wsp, "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let files = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]])
        let gates = try #require(files.first?["gates"] as? [[String: Any]])
        return try gates.map { gate in
            let id = try #require(gate["id"] as? String)
            return (id, String(id.split(separator: "/").last ?? ""), try #require(gate["count"] as? Int), gate["flowjo_count"] as? Int)
        }
    }

    @Test("the bundled positive sample: every gate of the analysis is in the workspace, re-imported with the same count, stored as FlowMRD counted it")
    func roundTrip() throws {
        let fcs = FlowMRDBinary.packageRoot.appendingPathComponent("samples/positive.fcs").path
        let (counts, wsp, stderr) = try export(fcs, name: "positive")
        let gates = try reimport(fcs, wsp)
        for (id, count) in counts {
            let exported = gates.filter { $0.name == id }
            #expect(exported.count == 1 && exported.first?.count == count && exported.first?.stored == count, "\(id): \(exported) vs \(count)")
        }
        #expect(stderr.contains("not exported: the plasma-cell clustering, the clonality test and the call (not gates)"))
        let text = try String(contentsOfFile: wsp, encoding: .utf8)
        #expect(text.contains("annotation=\"FlowMRD ") && text.contains("the plasma-cell clustering, the clonality test and the MRD call"))
        #expect(text.contains("<DataSet uri=\"file:" + fcs + "\""))
    }

    @Test("a burst the time gate excludes: its stretches are exported as Time rectangles and the counts below stay equal")
    func timeGate() throws {
        let fcs = directory.path("burst.fcs")
        _ = try MarrowGenerator(MarrowSpecification(events: 60_000, seed: 62, flow: .burst)).write(fcsPath: fcs)
        let (counts, wsp, _) = try export(fcs, name: "burst")
        let gates = try reimport(fcs, wsp)
        #expect(gates.contains { $0.name.contains("~unstable") }, "\(gates.map(\.id))")
        #expect(counts["time-stable"]! < 60_000)
        for (id, count) in counts { #expect(gates.first { $0.name == id }?.count == count, "\(id)") }
    }

    @Test("FlowKit 1.3.2 loads the workspace and counts every gate as FlowMRD does",
          .enabled(if: Python.hasModule("flowkit"), Comment(rawValue: "needs FlowKit 1.3.2 (make pydeps installs it)")))
    func flowKit() throws {
        let positive = FlowMRDBinary.packageRoot.appendingPathComponent("samples/positive.fcs").path
        let burst = directory.path("burst-fk.fcs")
        _ = try MarrowGenerator(MarrowSpecification(events: 60_000, seed: 62, flow: .burst)).write(fcsPath: burst)
        for (fcs, name) in [(positive, "positive-fk"), (burst, "burst-fk")] {
            let (_, wsp, _) = try export(fcs, name: name)
            let ours = try reimport(fcs, wsp)
            let script = """
                import json, sys, flowkit as fk
                wsp = fk.Workspace(sys.argv[1], fcs_samples=sys.argv[2])
                sid = wsp.get_sample_ids()[0]
                wsp.analyze_samples(sample_id=sid)
                report = wsp.get_gating_results(sid).report
                print(json.dumps({"/".join(list(row.gate_path[1:]) + [row.gate_name]): int(row["count"]) for _, row in report.iterrows()}))
                """
            let run = try Python.run(["-c", script, wsp, fcs])
            #expect(run.status == 0, "\(run.stderr)")
            let flowKit = try #require(try JSONSerialization.jsonObject(with: run.stdout) as? [String: Int])
            #expect(flowKit.count == ours.count, "\(name)")
            for gate in ours { #expect(flowKit[gate.id] == gate.count, "\(name) \(gate.id): FlowKit \(String(describing: flowKit[gate.id])) vs \(gate.count)") }
        }
    }

    @Test("--export-gating-ml: the resolved tree as Gating-ML; flowmrd gate and FlowKit (where installed) count every gate as the analysis did")
    func gatingML() throws {
        let fcs = FlowMRDBinary.packageRoot.appendingPathComponent("samples/positive.fcs").path
        let xml = directory.path("positive.xml")
        let run = try FlowMRDBinary.run(["analyze", fcs, "--json", "--no-checksum", "--quiet", "--export-gating-ml", xml])
        #expect(run.status == 10, "\(run.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let result = try #require(((json["results"] as? [[String: Any]])?.first?["result"]) as? [String: Any])
        let expected = Dictionary(uniqueKeysWithValues: try #require(result["gates"] as? [[String: Any]]).map { ($0["id"] as! String, $0["count"] as! Int) })
        let gate = try FlowMRDBinary.run(["gate", fcs, "--gating-ml", xml, "--json"])
        let gates = try #require(((try JSONSerialization.jsonObject(with: Data(gate.stdout.utf8)) as? [[String: Any]])?.first?["gates"]) as? [[String: Any]])
        let counts = Dictionary(uniqueKeysWithValues: gates.map { ($0["id"] as! String, $0["count"] as! Int) })
        for (id, count) in expected { #expect(counts[id] == count, "\(id)") }
        #expect(counts.count >= expected.count)   // with any helper gates (time stretches) of the tree
        guard Python.hasModule("flowkit") else { return }
        let script = """
            import json, sys, flowkit as fk
            sample = fk.Sample(sys.argv[2], sample_id="s")
            results = fk.parse_gating_xml(sys.argv[1]).gate_sample(sample)
            print(json.dumps({row.gate_name: int(row["count"]) for _, row in results.report.iterrows()}))
            """
        let flowKit = try Python.run(["-c", script, xml, fcs])
        #expect(flowKit.status == 0, "\(flowKit.stderr)")
        let fk = try #require(try JSONSerialization.jsonObject(with: flowKit.stdout) as? [String: Int])
        for (id, count) in counts { #expect(fk[id] == count, "\(id): FlowKit \(String(describing: fk[id])) vs \(count)") }
    }
}
