import Foundation
import TestSupport
import Testing
import EventCore
import FCS
@testable import Cytometry

@Suite("FlowJo workspaces: reading, gates, scales, counts")
struct FlowJoTests {
    let directory = TemporaryDirectory()
    static var flowJoFolder: URL? { SharedMaterial.root?.appendingPathComponent("flowjo") }

    /// Counts of every gate of a workspace sample applied to an FCS file, by gate path.
    static func counts(_ sample: FlowJoWorkspace.Sample, fcs path: String) throws -> [String: Int] {
        let file = try FCSFile(path: path)
        let tree = try sample.gatingTree(channels: file.dataSets[0].channels.map(\.name))
        let result = try TreeEvaluator(tree: tree).evaluate(file: file)
        return Dictionary(uniqueKeysWithValues: result.gates.map { ($0.id, $0.count) })
    }

    @Test("every gate of the corpus workspaces counts what FlowKit 1.3.2 counts (flowkit-counts.json)",
          .enabled(if: SharedMaterial.isAvailable, Comment(rawValue: SharedMaterial.skipMessage)))
    func flowKitCounts() throws {
        let folder = try #require(Self.flowJoFolder)
        let data = try Data(contentsOf: folder.appendingPathComponent("flowkit-counts.json"))
        let expected = try #require(try JSONSerialization.jsonObject(with: data) as? [String: [String: [String: Any]]])
        var checked = 0
        for (workspaceName, samples) in expected.sorted(by: { $0.key < $1.key }) {
            let workspace = try FlowJoWorkspaceReader.read(path: folder.appendingPathComponent(workspaceName).path)
            for (sampleName, entry) in samples {
                let relative = try #require(entry["fcs"] as? String)
                let fcs = try #require(SharedMaterial.corpus?.appendingPathComponent(relative).path)
                let match = try FlowJoSampleMatch(workspace: workspace)
                let sample = try match.sample(fileName: URL(fileURLWithPath: fcs).lastPathComponent, fil: nil, total: nil).get()
                #expect(sample.name == sampleName)
                let counts = try Self.counts(sample, fcs: fcs)
                let flowKit = try #require(entry["flowkit_counts"] as? [String: Int])
                #expect(counts.count == flowKit.count, "\(workspaceName)")
                for (gate, count) in flowKit {
                    #expect(counts[gate] == count, "\(workspaceName) \(gate): \(String(describing: counts[gate])) vs FlowKit \(count)")
                    checked += 1
                }
            }
        }
        #expect(checked == 12)
    }

    /// (name, stored count) of every population and boolean node inside each `<Sample>`, read with
    /// a plain text scan — independent of the XML reader.
    static func scannedPopulations(_ text: String) throws -> [[(String, Int?)]] {
        let pattern = try NSRegularExpression(pattern: #"<(Population|AndNode|OrNode|NotNode) name="([^"]*)"[^>]*?count="(-?\d+)""#)
        func unescape(_ s: String) -> String {
            s.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
                .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'").replacingOccurrences(of: "&amp;", with: "&")
        }
        return text.components(separatedBy: "<Sample>").dropFirst().map { chunk in
            let body = chunk.components(separatedBy: "</Sample>")[0] as NSString
            return pattern.matches(in: body as String, range: NSRange(location: 0, length: body.length)).map { m in
                let count = Int(body.substring(with: m.range(at: 3)))!
                return (unescape(body.substring(with: m.range(at: 2))), count >= 0 ? count : nil)
            }
        }
    }

    @Test("the 8-colour workspaces (no FCS files here) load every sample's tree, scales and matrix; stored counts are FlowJo's",
          .enabled(if: SharedMaterial.isAvailable, Comment(rawValue: SharedMaterial.skipMessage)))
    func eightColourParse() throws {
        let folder = try #require(Self.flowJoFolder)
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".wsp") }.sorted()
        #expect(names.count == 14)
        for name in names {
            let path = folder.appendingPathComponent(name).path
            let workspace = try FlowJoWorkspaceReader.read(path: path)
            let scanned = try Self.scannedPopulations(try String(contentsOfFile: path, encoding: .utf8))
            #expect(workspace.samples.count == scanned.count, "\(name)")
            for (sample, expected) in zip(workspace.samples, scanned) {
                #expect(sample.populations.map(\.name) == expected.map(\.0), "\(name) sample \(sample.id)")
                #expect(sample.populations.map(\.storedCount) == expected.map(\.1), "\(name) sample \(sample.id)")
                let tree = try sample.gatingTree()
                #expect(tree.gates.count == sample.populations.count)
                if name.hasPrefix("8_color") {
                    #expect(sample.matrix?.detectors.count == 8 && sample.matrix?.rows.count == 8 && sample.matrix?.prefix == "Comp-")
                    #expect(tree.matrices["Acquisition-defined"]?.detectors.count == 8)
                }
            }
        }
        // Specific trees: a boolean gate's operands, the ellipse's polygon, a biex scale.
        let booleans = try FlowJoWorkspaceReader.read(path: folder.appendingPathComponent("8_color_ICS_boolean_gate_testing.wsp").path)
        let and = try #require(booleans.samples[0].populations.first { $0.name == "CD107a+ & IFNg+" })
        #expect(and.shape == .boolean(.and, dependents: ["Time/Singlets/aAmine-/CD3+/CD4+/CD107a+", "Time/Singlets/aAmine-/CD3+/CD4+/IFNg+"]))
        #expect(and.storedCount == 6 && and.parentPathText == "Time/Singlets/aAmine-/CD3+/CD4+")
        let ellipses = try FlowJoWorkspaceReader.read(path: folder.appendingPathComponent("8_color_ICS_with_ellipse.wsp").path)
        let tree = try ellipses.samples[0].gatingTree()
        let ellipse = try #require(tree.gate("Time/Singlets/aAmine-/CD3+/ellipse1"))
        guard case .polygon(let x, _, let vertices) = ellipse.shape else { Issue.record("ellipse1 is \(ellipse.shape)"); return }
        #expect(vertices.count == 128 && x.compensation == .matrix("Acquisition-defined") && x.transform?.id == "CD4 PE-Cy7 FLR-A")
        #expect(tree.path(of: ellipse.id) == "/Time/Singlets/aAmine-/CD3+/ellipse1")
        let quads = try FlowJoWorkspaceReader.read(path: folder.appendingPathComponent("reused_quad_gate_with_child.wsp").path)
        #expect(quads.samples[0].scales.values.filter { $0.kind == "biex" }.count == 16)
        #expect(quads.samples[0].populations.filter { $0.name == "some_child_gate" }.map(\.storedCount) == [558, 299])
    }

    /// The fixture workspace: compensation, logicle/biex/fasinh scales, nested gates, an ellipse,
    /// a complement and booleans, on a file whose true values are known.
    func fixture() throws -> (workspace: FlowJoWorkspace, wsp: String, fcs: String, truth: [[Double]], spillover: [[Double]]) {
        let spillover = [[1, 0.15, 0.02], [0.05, 1, 0.2], [0, 0.03, 1]]
        let fcs = directory.path("fixture.fcs")
        let truth = try FlowJoFixture.spilledFile(path: fcs, events: 3000, spillover: spillover)
        typealias F = FlowJoFixture
        let scales = F.scale("linear transforms:minRange=\"0\" transforms:maxRange=\"262144\"", "FSC-A")
            + F.scale("linear transforms:minRange=\"0\" transforms:maxRange=\"262144\"", "SSC-A")
            + F.scale("logicle transforms:T=\"262144\" transforms:W=\"0.5\" transforms:M=\"4.5\" transforms:A=\"0\"", "FL1-A")
            + F.scale("biex transforms:length=\"256\" transforms:maxRange=\"262144\" transforms:neg=\"0\" transforms:width=\"-100\" transforms:pos=\"4.42\"", "FL2-A")
            + F.scale("fasinh transforms:T=\"262144\" transforms:M=\"5\" transforms:A=\"0\" transforms:W=\"0\" transforms:length=\"256\"", "FL3-A")
        let children = F.population("FL1+", gate: F.rectangle([F.dimension("Comp-FL1-A", min: 1000)], id: "g2"),
                                    id: "g2", children: F.population("FL2hi", gate: F.rectangle([F.dimension("Comp-FL2-A", min: 5000, max: 80000)], id: "g3"), id: "g3"))
            + F.population("FL poly", gate: F.polygon("Comp-FL1-A", "Comp-FL2-A", [(-200, -200), (50000, -200), (50000, 50000), (-200, 3000)], id: "g4"), id: "g4")
            + F.population("Ellipse", gate: F.ellipse("Comp-FL1-A", "Comp-FL2-A", foci: [(120, 140), (160, 180)],
                                                      edges: [(168.28, 188.28), (111.72, 131.72), (120, 180), (160, 140)], id: "g5"), id: "g5")
            + F.population("FL3 out", gate: F.rectangle([F.dimension("Comp-FL3-A", min: 500)], id: "g6", inside: false), id: "g6")
            + F.boolean("AndNode", "FL1+ and FL3 out", dependents: ["Cells/FL1+", "Cells/FL3 out"])
            + F.boolean("NotNode", "not FL1+", dependents: ["Cells/FL1+"])
            + F.boolean("OrNode", "FL2hi or FL3 out", dependents: ["Cells/FL1+/FL2hi", "Cells/FL3 out"])
        let populations = F.population("Cells", gate: F.polygon("FSC-A", "SSC-A", [(20000, 20000), (240000, 30000), (200000, 230000), (30000, 200000)], id: "g1"),
                                       id: "g1", count: 1234, children: children)
            + F.population("Raw FL1", gate: F.rectangle([F.dimension("FL1-A", min: 1000)], id: "g7"), id: "g7")
        let xml = F.workspace(samples: [F.sample(id: "1", uri: "file:/somewhere/else/fixture.fcs", name: "fixture.fcs", keywords: [("$FIL", "fixture.fcs"), ("$TOT", "3000")],
                                                 scales: scales, matrix: F.matrix(["FL1-A", "FL2-A", "FL3-A"], rows: spillover), populations: populations)],
                              sampleIDs: ["1"])
        let wsp = directory.path("fixture.wsp")
        try xml.write(toFile: wsp, atomically: true, encoding: .utf8)
        return (try FlowJoWorkspaceReader.read(path: wsp), wsp, fcs, truth, spillover)
    }

    /// Ray casting, written here apart from the evaluator's winding rule.
    static func inside(_ x: Double, _ y: Double, _ polygon: [(Double, Double)]) -> Bool {
        var result = false
        var j = polygon.count - 1
        for i in polygon.indices {
            let (xi, yi) = polygon[i], (xj, yj) = polygon[j]
            if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi { result.toggle() }
            j = i
        }
        return result
    }

    @Test("compensated, scaled, nested, complemented and boolean gates count what the true values say")
    func fixtureAgainstTruth() throws {
        let (workspace, _, fcs, truth, spillover) = try fixture()
        let counts = try Self.counts(workspace.samples[0], fcs: fcs)
        let cellsPolygon = [(20000.0, 20000.0), (240000, 30000), (200000, 230000), (30000, 200000)]
        let cells = truth.map { Self.inside($0[0], $0[1], cellsPolygon) }
        let fl1 = truth.map { $0[2] >= 1000 }
        let fl2hi = truth.map { $0[3] >= 5000 && $0[3] < 80000 }
        let fl3out = truth.map { !($0[4] >= 500) }
        func count(_ predicate: (Int) -> Bool) -> Int { truth.indices.filter(predicate).count }
        #expect(counts["Cells"] == count { cells[$0] })
        #expect(counts["Cells/FL1+"] == count { cells[$0] && fl1[$0] })
        #expect(counts["Cells/FL1+/FL2hi"] == count { cells[$0] && fl1[$0] && fl2hi[$0] })
        #expect(counts["Cells/FL3 out"] == count { cells[$0] && fl3out[$0] })
        #expect(counts["Cells/FL1+ and FL3 out"] == count { cells[$0] && fl1[$0] && fl3out[$0] })
        #expect(counts["Cells/not FL1+"] == count { cells[$0] && !fl1[$0] })
        #expect(counts["Cells/FL2hi or FL3 out"] == count { cells[$0] && ((fl1[$0] && fl2hi[$0]) || fl3out[$0]) })
        // A gate on the uncompensated detector stays uncompensated: observed FL1 as the file holds it.
        let observed = truth.map { t in Double(Float(t[2] * spillover[0][0] + t[3] * spillover[1][0] + t[4] * spillover[2][0])) }
        #expect(counts["Raw FL1"] == observed.filter { $0 >= 1000 }.count)
        #expect(counts["Raw FL1"] != counts["Cells/FL1+"])
        // Every count is a real share of its parent, not all or nothing.
        for id in ["Cells", "Cells/FL1+", "Cells/FL1+/FL2hi", "Cells/FL poly", "Cells/Ellipse", "Cells/FL3 out"] {
            #expect((counts[id] ?? 0) > 20 && (counts[id] ?? 0) < 2900, "\(id): \(String(describing: counts[id]))")
        }
        #expect(workspace.samples[0].populations.first?.storedCount == 1234)
    }

    @Test("FlowKit 1.3.2 gives the same count for every gate of the fixture workspace (it compensates the uncompensated one, so that one is left out)",
          .enabled(if: Python.hasModule("flowkit"), Comment(rawValue: "needs FlowKit 1.3.2 (make pydeps installs it)")))
    func fixtureAgainstFlowKit() throws {
        let (workspace, wsp, fcs, _, _) = try fixture()
        let counts = try Self.counts(workspace.samples[0], fcs: fcs)
        let script = """
            import json, sys, flowkit as fk
            wsp = fk.Workspace(sys.argv[1], fcs_samples=sys.argv[2])
            wsp.analyze_samples(sample_id="fixture.fcs")
            report = wsp.get_gating_results("fixture.fcs").report
            print(json.dumps({"/".join(list(row.gate_path[1:]) + [row.gate_name]): int(row["count"]) for _, row in report.iterrows()}))
            """
        let run = try Python.run(["-c", script, wsp, fcs])
        #expect(run.status == 0, "\(run.stderr)")
        let flowKit = try #require(try JSONSerialization.jsonObject(with: run.stdout) as? [String: Int])
        #expect(flowKit.count == counts.count)
        for (id, count) in flowKit where id != "Raw FL1" {
            #expect(counts[id] == count, "\(id): \(String(describing: counts[id])) vs FlowKit \(count)")
        }
    }
}
