import Foundation
import Testing
import TestSupport

/// `flowmrd compare` on six synthetic marrows and a workspace written by the test: FlowMRD's own
/// gates exported per sample, merged into one workspace, plus a lab's manual MRD strategy —
/// plasma cells that are neither CD19+ nor CD56− (the common CD19−CD56+ myeloma phenotype), which
/// misses a clone that only lost CD19 — so the manual gates' events are known and the calls differ.
@Suite("flowmrd compare", .enabled(if: FlowMRDBinary.path != nil, Comment(rawValue: FlowMRDBinary.missingMessage)))
struct CompareCLITests {
    let directory = TemporaryDirectory()
    static let nucleated = "time-stable/singlets/non-debris/nucleated"

    func cohort() throws -> (input: String, wsp: String, template: String) {
        let input = directory.path("in")
        try FileManager.default.createDirectory(atPath: input, withIntermediateDirectories: true)
        let template = directory.path("small.yaml")
        try String(contentsOfFile: FlowMRDBinary.packageRoot.appendingPathComponent("gating-templates/legend2-10color.yaml").path, encoding: .utf8)
            .replacingOccurrences(of: "min_nucleated_cells: 1500000", with: "min_nucleated_cells: 10000")
            .replacingOccurrences(of: "target_sensitivity: 1.0e-4", with: "target_sensitivity: 1.0e-2")
            .write(toFile: template, atomically: true, encoding: .utf8)
        let specs: [[String]] = [["--mrd", "0"], ["--mrd", "0.005"], ["--mrd", "0"], ["--mrd", "0.002", "--light-chain", "lambda"],
                                 ["--mrd", "0.005", "--phenotype", "CD19-"], ["--mrd", "0"]]
        var samples: [String] = []
        for (k, spec) in specs.enumerated() {
            let fcs = "\(input)/s\(k + 1).fcs"
            #expect(try FlowMRDBinary.run(["synth", fcs, "--events", k == 5 ? "4000" : "40000", "--seed", "\(k + 1)", "--quiet"] + spec).status == 0)
            for suffix in [".labels", ".truth.json"] { try? FileManager.default.removeItem(atPath: "\(input)/s\(k + 1)\(suffix)") }
            let wsp = directory.path("s\(k + 1).wsp")
            _ = try FlowMRDBinary.run(["analyze", fcs, "--template", template, "--quiet", "--no-checksum", "--export-flowjo", wsp])
            let text = try String(contentsOfFile: wsp, encoding: .utf8)
            var sample = String(text[text.range(of: "<Sample>")!.lowerBound..<text.range(of: "</Sample>")!.upperBound])
                .replacingOccurrences(of: "sampleID=\"1\"", with: "sampleID=\"\(k + 1)\"")
            let manual = """
                <NotNode name="not-cd19" owningGroup="" count="-1"><Dependents><Dependent name="plasma-cells/cd19-positive" /></Dependents></NotNode>
                <NotNode name="not-cd56neg" owningGroup="" count="-1"><Dependents><Dependent name="plasma-cells/cd56-negative" /></Dependents></NotNode>
                <AndNode name="manual-mrd" owningGroup="" count="-1"><Dependents><Dependent name="plasma-cells" /><Dependent name="not-cd19" /><Dependent name="not-cd56neg" /></Dependents></AndNode>

                """
            sample.insert(contentsOf: manual, at: sample.range(of: "</Subpopulations>", options: .backwards)!.lowerBound)
            samples.append(sample)
            if k == 0 { samples.insert(String(text[..<text.range(of: "<Groups>")!.lowerBound]), at: 0) }
        }
        let references = (1...6).map { "<SampleRef sampleID=\"\($0)\" />" }.joined()
        let xml = samples[0] + "<Groups><GroupNode name=\"All Samples\" owningGroup=\"All Samples\"><Group name=\"All Samples\"><SampleRefs>\(references)</SampleRefs></Group></GroupNode></Groups>\n<SampleList>\n"
            + samples.dropFirst().joined(separator: "\n") + "\n</SampleList>\n</Workspace>\n"
        let wsp = directory.path("cohort.wsp")
        try xml.write(toFile: wsp, atomically: true, encoding: .utf8)
        return (input, wsp, template)
    }

    @Test("per sample: the manual gates' counts and FlowMRD's result; cohort: concordance, kappa, Bland–Altman and Spearman as computed here; four output files")
    func cohortComparison() throws {
        let (input, wsp, template) = try cohort()
        let out = directory.path("out")
        let run = try FlowMRDBinary.run(["compare", input, "--flowjo", wsp, "--mrd-gate", "manual-mrd", "--nucleated-gate", Self.nucleated,
                                         "--template", template, "--quiet", "--json", "--out", out])
        #expect(run.status == 0, "\(run.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let rows = try #require(json["samples"] as? [[String: Any]])
        #expect(rows.count == 6)
        var pairs: [(manual: Double, auto: Double?, manualCall: String, autoCall: String)] = []
        for row in rows {
            let file = try #require(row["file"] as? String)
            // The manual counts are those `flowmrd gate --flowjo` gives for the two populations.
            let gate = try FlowMRDBinary.run(["gate", file, "--flowjo", wsp, "--json"])
            let gates = try #require(((try JSONSerialization.jsonObject(with: Data(gate.stdout.utf8)) as? [[String: Any]])?.first?["gates"]) as? [[String: Any]])
            let mrd = try #require(gates.first { $0["id"] as? String == "manual-mrd" }?["count"] as? Int)
            let nucleated = try #require(gates.first { $0["id"] as? String == Self.nucleated }?["count"] as? Int)
            #expect(row["manual_events"] as? Int == mrd && row["manual_nucleated"] as? Int == nucleated)
            let manual = try #require(row["manual_mrd_percent"] as? Double)
            #expect(abs(manual - 100 * Double(mrd) / Double(nucleated)) <= 1e-6 * max(1, manual))
            #expect(row["manual_call"] as? String == (mrd >= 30 ? "positive" : "negative"))
            // FlowMRD's side is what analyze says.
            let analysis = try FlowMRDBinary.run(["analyze", file, "--template", template, "--quiet", "--no-checksum", "--json"])
            let result = try #require((((try JSONSerialization.jsonObject(with: Data(analysis.stdout.utf8)) as? [String: Any])?["results"] as? [[String: Any]])?.first?["result"]) as? [String: Any])
            #expect(row["flowmrd_call"] as? String == result["call"] as? String)
            #expect((row["flowmrd_mrd_percent"] as? Double) == (result["mrd_percent"] as? Double))
            pairs.append((manual, row["flowmrd_mrd_percent"] as? Double, row["manual_call"] as! String, row["flowmrd_call"] as! String))
        }
        // The designed disagreements: the CD19-only clone (s5) is missed by the manual strategy; s6 is too small for FlowMRD.
        #expect(pairs.map(\.manualCall) == ["negative", "positive", "negative", "positive", "negative", "negative"])
        #expect(pairs.map(\.autoCall) == ["negative", "positive", "negative", "positive", "positive", "not_evaluable"])
        let concordance = try #require(json["concordance"] as? [String: Int])
        #expect(concordance == ["both_positive": 2, "manual_positive_flowmrd_negative": 0, "manual_negative_flowmrd_positive": 1, "both_negative": 2, "flowmrd_not_evaluable": 1])
        // kappa = (p0 − pe)/(1 − pe) with p0 = 4/5, pe = 2/5·3/5 + 3/5·2/5.
        let kappa = try #require(json["cohen_kappa"] as? Double)
        #expect(abs(kappa - (0.8 - 0.48) / 0.52) < 1e-6)
        // Bland–Altman over s2 and s4.
        let differences = [1, 3].map { log10(pairs[$0].auto!) - log10(pairs[$0].manual) }
        let mean = differences.reduce(0, +) / 2
        let sd = sqrt(differences.map { ($0 - mean) * ($0 - mean) }.reduce(0, +))
        let ba = try #require(json["bland_altman"] as? [String: Any])
        #expect(ba["samples"] as? Int == 2)
        #expect(abs((ba["bias"] as? Double ?? .nan) - mean) < 1e-5 && abs((ba["upper"] as? Double ?? .nan) - (mean + 1.96 * sd)) < 1e-5)
        // Spearman over the five evaluable samples, not detected as 0, against scipy where it is installed.
        let rho = try #require(json["spearman_rho"] as? Double)
        let evaluable = pairs.prefix(5)
        if Python.hasModule("scipy") {
            let script = "import sys, json\nfrom scipy.stats import spearmanr\nx, y = json.loads(sys.argv[1]), json.loads(sys.argv[2])\nprint(spearmanr(x, y).statistic)"
            let result = try Python.run(["-c", script, "\(evaluable.map(\.manual))", "\(evaluable.map { $0.auto ?? 0 })"])
            let expected = try #require(Double(String(decoding: result.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)))
            #expect(abs(rho - expected) < 1e-5, "\(rho) vs scipy \(expected)")
        }
        #expect(rho > 0 && rho < 1)
        for name in ["comparison.txt", "comparison.csv", "comparison.json", "comparison.html"] {
            #expect(FileManager.default.fileExists(atPath: "\(out)/\(name)"), "\(name)")
        }
        let html = try String(contentsOfFile: "\(out)/comparison.html", encoding: .utf8)
        // The scatter shows every sample with an MRD on both sides (s2, s4, and s5's two manual events); Bland–Altman s2 and s4.
        #expect(html.components(separatedBy: "<svg").count == 3 && html.components(separatedBy: "<circle").count - 1 == 3 + 2)
        let csv = try String(contentsOfFile: "\(out)/comparison.csv", encoding: .utf8).split(separator: "\n")
        #expect(csv.count == 7 && csv[0].hasPrefix("file,sample,manual_events"))
    }

    @Test("a population the workspace lacks is an error naming the sample and listing its populations; exit 1")
    func missingPopulation() throws {
        let (input, wsp, template) = try cohort()
        let run = try FlowMRDBinary.run(["compare", "\(input)/s1.fcs", "--flowjo", wsp, "--mrd-gate", "no-such-gate", "--template", template, "--quiet"])
        #expect(run.status == 1 && run.stderr.contains("sample 1 (s1.fcs) has no population no-such-gate; its populations are: time-stable, "), "\(run.stderr)")
    }
}
