import Foundation
import TestSupport
import Testing
@testable import Cytometry

@Suite("FlowJo workspaces: malformed and unsupported input, sample matching, scales")
struct FlowJoErrorTests {
    typealias F = FlowJoFixture

    func read(_ xml: String) -> CytometryError? {
        do { _ = try FlowJoWorkspaceReader.read(data: Data(xml.utf8), file: "w.wsp"); return nil } catch { return error }
    }

    /// A one-sample workspace around `populations`; the populations start on line 12.
    func workspace(_ populations: String, scales: String = "", matrix: String = "") -> String {
        F.workspace(samples: [F.sample(id: "1", uri: "file:/data/a.fcs", name: "a.fcs", scales: scales, matrix: matrix, populations: "\n" + populations)], sampleIDs: ["1"])
    }

    /// The line (1-based) of the first occurrence of `needle` in `text`.
    func line(of needle: String, in text: String) -> Int {
        let prefix = text.components(separatedBy: needle)[0]
        return prefix.filter { $0 == "\n" }.count + 1
    }

    @Test("each malformed or unsupported workspace is a typed error naming the element and its line")
    func errors() throws {
        let cases: [(String, String, String)] = [
            // (population XML, text on the failing line, words the message must hold)
            (F.population("q", gate: "<gating:CurlyQuadGate gating:id=\"x\" />", id: "x"), "<gating:CurlyQuadGate", "gate kind CurlyQuadGate is not supported"),
            (F.population("r", gate: F.rectangle([F.dimension("FSC-A", min: 1)], id: "r").replacingOccurrences(of: "gating:min=\"1.0\"", with: "gating:min=\"1,5\""), id: "r"),
             "<gating:dimension", "min=\"1,5\" is not a number"),
            (F.population("p", gate: F.polygon("FSC-A", "SSC-A", [(0, 0), (1, 1)], id: "p"), id: "p"), "<gating:PolygonGate", "at least 3 vertices, has 2"),
            (F.population("e", gate: F.ellipse("FSC-A", "SSC-A", foci: [(1, 1), (2, 2)], edges: [(0, 0), (3, 3), (1, 2)], id: "e"), id: "e"), "<gating:edge>", "4 edge points, has 3"),
            (F.population("d", gate: "<gating:RectangleGate gating:id=\"d\"><gating:dimension gating:min=\"1\"><data-type:new-dimension data-type:transformation-ref=\"t\" /></gating:dimension></gating:RectangleGate>", id: "d"),
             "<gating:dimension", "derived (new) dimension is not supported"),
            (F.boolean("NotNode", "n", dependents: ["a", "b"]), "<NotNode", "a NotNode needs one Dependent, has 2"),
        ]
        for (population, needle, words) in cases {
            let xml = workspace(population)
            guard case .flowJo(let file, let line, let detail)? = read(xml) else { Issue.record("no FlowJo error for \(needle): \(String(describing: read(xml)))"); continue }
            #expect(file == "w.wsp" && line == self.line(of: needle, in: xml) && detail.contains(words), "\(line): \(detail)")
        }
        // Scales: an undocumented one, and a biex length FlowJo does not document.
        let hyperlog = workspace("", scales: F.scale("hyperlog transforms:T=\"1\"", "FSC-A"))
        guard case .flowJo(_, let l1, let d1)? = read(hyperlog) else { Issue.record("hyperlog read"); return }
        #expect(l1 == line(of: "<transforms:hyperlog", in: hyperlog) && d1.contains("FlowJo scale \"hyperlog\" is not supported"))
        let biex = workspace("", scales: F.scale("biex transforms:length=\"512\" transforms:maxRange=\"262144\" transforms:neg=\"0\" transforms:width=\"-10\" transforms:pos=\"4.4\"", "FL1-A"))
        guard case .flowJo(_, _, let d2)? = read(biex) else { Issue.record("biex read"); return }
        #expect(d2.contains("biex length 512 is not supported"))
        // A spectral matrix, a missing root, XML that is not well-formed.
        let spectral = workspace("", matrix: F.matrix(["FL1-A"], rows: [[1]]).replacingOccurrences(of: "spectral=\"0\"", with: "spectral=\"1\""))
        guard case .flowJo(_, _, let d3)? = read(spectral) else { Issue.record("spectral read"); return }
        #expect(d3.contains("spectral (unmixing) matrices are not supported"))
        #expect(read("<?xml version=\"1.0\"?>\n<Gating-ML/>") == .flowJo(file: "w.wsp", line: 2, detail: "<Gating-ML>: the root element must be Workspace (a FlowJo 10 workspace)"))
        guard case .flowJo(_, 3, let d4)? = read("<Workspace>\n<SampleList>\n<Sample></SampleLis>") else { Issue.record("malformed XML"); return }
        #expect(d4.contains("malformed XML"))
        #expect(throws: CytometryError.flowJo(file: "/no/such.wsp", line: 0, detail: "no such file")) { _ = try FlowJoWorkspaceReader.read(path: "/no/such.wsp") }
    }

    @Test("applying: a parameter the file lacks, a boolean on a missing population, a bad scale are errors naming the population's line")
    func applyErrors() throws {
        let derived = workspace(F.population("ratio", gate: F.rectangle([F.dimension("FL1/FL2", min: 1)], id: "r"), id: "r"))
        let sample = try FlowJoWorkspaceReader.read(data: Data(derived.utf8), file: "w.wsp").samples[0]
        #expect(throws: CytometryError.flowJo(file: "w.wsp", line: line(of: "<Population name=\"ratio\"", in: derived),
                                              detail: "population \"ratio\": reads parameter \"FL1/FL2\", which the data does not have (a derived parameter, or another panel's file?)")) {
            _ = try sample.gatingTree(channels: ["FSC-A", "FL1-A"])
        }
        let orphan = workspace(F.boolean("AndNode", "both", dependents: ["x", "y"]))
        let orphanSample = try FlowJoWorkspaceReader.read(data: Data(orphan.utf8), file: "w.wsp").samples[0]
        #expect(throws: CytometryError.flowJo(file: "w.wsp", line: line(of: "<AndNode", in: orphan), detail: "population \"both\": depends on \"x\", which is no population of this sample")) {
            _ = try orphanSample.gatingTree()
        }
        let badLog = workspace(F.population("r", gate: F.rectangle([F.dimension("FSC-A", min: 1)], id: "r"), id: "r"),
                               scales: F.scale("log transforms:offset=\"0\" transforms:decades=\"4\"", "FSC-A"))
        let logSample = try FlowJoWorkspaceReader.read(data: Data(badLog.utf8), file: "w.wsp").samples[0]
        #expect(throws: CytometryError.flowJo(file: "w.wsp", line: line(of: "<Population name=\"r\"", in: badLog),
                                              detail: "population \"r\": the log scale of \"FSC-A\": invalid transform: FlowJo log needs offset > 0 and decades > 0; got offset=0.0, decades=4.0")) {
            _ = try logSample.gatingTree()
        }
    }

    @Test("samples are matched by id, by file name (URI or sample name), then by $FIL and $TOT; a group narrows; ambiguity and no match say so")
    func matching() throws {
        let samples = [
            F.sample(id: "1", uri: "file:/V:/run%201/a.fcs", name: "a.fcs", keywords: [("$FIL", "a.fcs"), ("$TOT", "100")], populations: ""),
            F.sample(id: "2", uri: "file:/V:/run2/a.fcs", name: "a.fcs", keywords: [("$FIL", "a.fcs"), ("$TOT", "200")], populations: ""),
            F.sample(id: "3", uri: "file:/V:/x/renamed.fcs", name: "renamed.fcs", keywords: [("$FIL", "original.fcs"), ("$TOT", "300")], populations: ""),
        ]
        var xml = F.workspace(samples: samples, sampleIDs: ["1", "2", "3"])
        xml = xml.replacingOccurrences(of: "</Groups>", with: "<GroupNode name=\"Run 2\"><Group name=\"Run 2\"><SampleRefs><SampleRef sampleID=\"2\" /></SampleRefs></Group></GroupNode></Groups>")
        let workspace = try FlowJoWorkspaceReader.read(data: Data(xml.utf8), file: "w.wsp")
        #expect(workspace.samples[0].uriFileName == "a.fcs")
        let all = try FlowJoSampleMatch(workspace: workspace)
        #expect(try all.sample(fileName: "a.fcs", fil: "a.fcs", total: "200").get().id == "2")
        #expect(all.sample(fileName: "a.fcs", fil: nil, total: nil).map(\.id) == .failure(.ambiguous(["1", "2"])))
        #expect(try all.sample(fileName: "copy.fcs", fil: "original.fcs", total: "300").get().id == "3")
        #expect(all.sample(fileName: "copy.fcs", fil: "other.fcs", total: nil).map(\.id) == .failure(.none(["1 (a.fcs)", "2 (a.fcs)", "3 (renamed.fcs)"])))
        #expect(try FlowJoSampleMatch(workspace: workspace, group: "Run 2").sample(fileName: "a.fcs", fil: nil, total: nil).get().id == "2")
        #expect(try FlowJoSampleMatch(workspace: workspace, sampleID: "3").sample(fileName: "a.fcs", fil: nil, total: nil).get().id == "3")
        #expect(throws: CytometryError.flowJo(file: "w.wsp", line: 0, detail: "no sample group \"Run 3\"; the groups are: All Samples, Run 2")) {
            _ = try FlowJoSampleMatch(workspace: workspace, group: "Run 3")
        }
        #expect(throws: CytometryError.self) { _ = try FlowJoSampleMatch(workspace: workspace, sampleID: "9") }
    }

    @Test("FlowJo's log scale: 0 at and below the offset, one per decade; biex: channel 0…4096, increasing, its inverse")
    func scales() throws {
        let log = try Transformation.validated(.flowJoLog(offset: 10, decades: 4))
        #expect(log.apply(5) == 0 && log.apply(10) == 0 && abs(log.apply(1000) - 0.5) < 1e-12 && abs(log.apply(100_000) - 1) < 1e-12)
        #expect(log.apply(-3) == 0 && log.apply(.nan).isNaN && abs(log.inverse(0.75) - 10_000) < 1e-9)
        var values = [5.0, 1000, 100_000]
        values.withUnsafeMutableBufferPointer { log.apply(to: $0.baseAddress!, count: 3) }
        #expect(values.map { ($0 * 1e12).rounded() / 1e12 } == [0, 0.5, 1])
        let biex = try FlowJoBiex(negative: 0, width: -100, positive: 4.42, maximum: 262_144)
        #expect(biex.apply(-1e9) == 0 && biex.apply(1e9) == 4096 && biex.apply(.nan).isNaN)
        #expect(biex.apply(262_144) > 4094 && biex.apply(262_144) < 4096)
        let sweep = stride(from: -2000.0, through: 262_000, by: 997).map(biex.apply)
        #expect(zip(sweep, sweep.dropFirst()).allSatisfy { $0 < $1 })
        for y in [100.0, 1024.5, 2000, 3999] { #expect(abs(biex.apply(biex.inverse(y)) - y) < 1e-9) }
        #expect(throws: CytometryError.self) { _ = try FlowJoBiex(negative: 0, width: 10, positive: 4.42, maximum: 262_144) }
    }

    @Test("biex: the same channels as FlowKit 1.3.2's WSPBiexTransform, for FlowJo's default and a narrow width",
          .enabled(if: Python.hasModule("flowkit"), Comment(rawValue: "needs FlowKit 1.3.2 (make pydeps installs it)")))
    func biexAgainstFlowKit() throws {
        let values = stride(from: -3000.0, through: 270_000, by: 1234.5).map { $0 } + [-1e6, 0, 0.5, 1e6]
        for (negative, width) in [(0.0, -100.0), (1.0, -7.943282), (0.5, -10.0)] {
            let biex = try FlowJoBiex(negative: negative, width: width, positive: 4.418540, maximum: 262_144)
            let script = """
                import json, sys, numpy as np
                from flowkit import transforms
                t = transforms.WSPBiexTransform(negative=float(sys.argv[1]), width=float(sys.argv[2]), positive=4.418540, max_value=262144)
                print(json.dumps([float(v) for v in t.apply(np.array(json.loads(sys.argv[3])))]))
                """
            let run = try Python.run(["-c", script, "\(negative)", "\(width)", "\(values)"])
            #expect(run.status == 0, "\(run.stderr)")
            let flowKit = try #require(try JSONSerialization.jsonObject(with: run.stdout) as? [Double])
            #expect(flowKit.count == values.count)
            for (v, expected) in zip(values, flowKit) {
                #expect(abs(biex.apply(v) - expected) < 1e-9, "neg \(negative) width \(width) at \(v): \(biex.apply(v)) vs FlowKit \(expected)")
            }
        }
    }
}
