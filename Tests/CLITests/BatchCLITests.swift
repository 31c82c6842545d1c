import Foundation
import Testing

@Suite("flowmrd batch", .enabled(if: FlowMRDBinary.path != nil, Comment(rawValue: FlowMRDBinary.missingMessage)))
struct BatchCLITests {
    let manager = FileManager.default

    /// A folder with two committed samples, a broken file and a sidecar that is not an event file,
    /// and a template whose minimum is low enough for these small samples to be evaluable.
    func setUp() throws -> (input: URL, output: URL, template: String, cleanup: () -> Void) {
        let root = manager.temporaryDirectory.appendingPathComponent("flowmrd-batch-\(UUID().uuidString)")
        let input = root.appendingPathComponent("in"), output = root.appendingPathComponent("out")
        try manager.createDirectory(at: input, withIntermediateDirectories: true)
        for name in ["positive.fcs", "too-few.fcs", "borderline-30.fcs", "positive.truth.json"] {
            try manager.copyItem(atPath: FlowMRDBinary.packageRoot.appendingPathComponent("samples/\(name)").path, toPath: input.appendingPathComponent(name).path)
        }
        #expect(manager.createFile(atPath: input.appendingPathComponent("broken.fcs").path, contents: Data("FCS3.1 truncated".utf8)))
        let template = root.appendingPathComponent("small.yaml").path
        let text = try String(contentsOfFile: FlowMRDBinary.packageRoot.appendingPathComponent("gating-templates/legend2-10color.yaml").path, encoding: .utf8)
        try text.replacingOccurrences(of: "min_nucleated_cells: 1500000", with: "min_nucleated_cells: 20000")
            .replacingOccurrences(of: "target_sensitivity: 1.0e-4", with: "target_sensitivity: 1.0e-2").write(toFile: template, atomically: true, encoding: .utf8)
        return (input, output, template, { try? manager.removeItem(at: root) })
    }

    @Test("a report and JSON per sample, an error entry for a bad file, the cohort negativity rate with its exact interval")
    func outputs() throws {
        let (input, output, template, cleanup) = try setUp()
        defer { cleanup() }
        let run = try FlowMRDBinary.run(["batch", input.path, "--template", template, "--out", output.path, "--no-checksum", "--quiet"])
        #expect(run.status == 1, "\(run.stdout)\(run.stderr)")
        #expect(run.stderr.contains("broken.fcs"))
        let names = try manager.contentsOfDirectory(atPath: output.path).sorted()
        #expect(names == ["borderline-30.fcs.html", "borderline-30.fcs.json", "broken.fcs.json", "positive.fcs.html", "positive.fcs.json",
                          "summary.csv", "summary.json", "too-few.fcs.html", "too-few.fcs.json"])
        let summary = try JSONSerialization.jsonObject(with: manager.contents(atPath: output.appendingPathComponent("summary.json").path)!) as! [String: Any]
        #expect(summary["files"] as? Int == 4 && summary["errors"] as? Int == 1 && summary["evaluable"] as? Int == 3 && summary["negative"] as? Int == 1)
        #expect((summary["calls"] as? [String: Int]) == ["positive": 1, "positive_below_lloq": 1, "negative": 1, "not_evaluable": 0])
        #expect(summary["analysed"] as? Int == 3)
        let skipped = try #require(summary["skipped"] as? [[String: String]])
        #expect(skipped == [["file": input.appendingPathComponent("positive.truth.json").path, "reason": "not an event file (.json; event files end in .fcs, .h5, .h5ad, .hdf5, .lmd)"]])
        #expect(run.stdout.contains("skipped \(input.path)/positive.truth.json: not an event file"))
        #expect(run.stdout.contains("3 sample(s) analysed: 1 positive, 1 positive below lloq, 1 negative, 0 not evaluable; 1 could not be analysed (error); 1 directory entry skipped"), "\(run.stdout)")
        #expect(run.stdout.hasPrefix("3 analysed, 0 already done (resumed), 1 failed"), "\(run.stdout)")
        // Percent throughout: the negativity rate and its interval like the MRD values.
        let rate = try #require(summary["negativity_percent"] as? Double) / 100, ci = try #require(summary["negativity_ci95_percent"] as? [Double]).map { $0 / 100 }
        #expect(abs(rate - 1.0 / 3) < 1e-6)
        // Exact (Clopper–Pearson) interval for 1 of 3: lower = 1 − 0.975^(1/3); at the upper bound P(X ≤ 1) = 0.025.
        #expect(abs(ci[0] - (1 - pow(0.975, 1.0 / 3))) < 1e-5)
        let p = ci[1]
        #expect(abs(pow(1 - p, 3) + 3 * p * pow(1 - p, 2) - 0.025) < 1e-5)
        // Each entry holds what analyze reports for the same file and template.
        let entry = try JSONSerialization.jsonObject(with: manager.contents(atPath: output.appendingPathComponent("positive.fcs.json").path)!) as! [String: Any]
        let analyzed = try FlowMRDBinary.run(["analyze", input.appendingPathComponent("positive.fcs").path, "--template", template, "--json", "--no-checksum"])
        let result = ((try JSONSerialization.jsonObject(with: Data(analyzed.stdout.utf8)) as! [String: Any])["results"] as! [[String: Any]])[0]["result"] as! NSDictionary
        #expect((entry["result"] as! NSDictionary) == result)
        let broken = try JSONSerialization.jsonObject(with: manager.contents(atPath: output.appendingPathComponent("broken.fcs.json").path)!) as! [String: Any]
        #expect(broken["result"] == nil || broken["result"] is NSNull)
        #expect((broken["error"] as? String)?.contains("broken.fcs") == true)
        let csv = try String(contentsOfFile: output.appendingPathComponent("summary.csv").path, encoding: .utf8).split(separator: "\n")
        #expect(csv.count == 5 && csv[2].hasPrefix("\(input.path)/broken.fcs,error,"))
        #expect(run.stdout.contains("MRD negativity: 1 of 3 evaluable = 33.3% (exact 95% CI 0.8%–90.6%)"))
    }

    @Test("one job per sample (--sample) then --summarize gives byte-identical results and summary to one batch")
    func jobs() throws {
        let (input, output, template, cleanup) = try setUp()
        defer { cleanup() }
        let whole = try FlowMRDBinary.run(["batch", input.path, "--template", template, "--out", output.path, "--no-checksum", "--quiet"])
        #expect(whole.status == 1)
        let apart = output.deletingLastPathComponent().appendingPathComponent("jobs")
        let early = try FlowMRDBinary.run(["batch", input.path, "--template", template, "--out", apart.path, "--summarize", "--quiet"])
        #expect(early.status == 1 && early.stderr.contains("no finished result in \(apart.path) for 4 file(s)"), "\(early.stderr)")
        for name in ["borderline-30.fcs", "broken.fcs", "positive.fcs", "too-few.fcs"] {
            let job = try FlowMRDBinary.run(["batch", input.path, "--template", template, "--out", apart.path, "--no-checksum", "--quiet",
                                             "--sample", input.appendingPathComponent(name).path])
            #expect(job.status == (name == "broken.fcs" ? 1 : 0), "\(name): \(job.stderr)")
        }
        let outside = try FlowMRDBinary.run(["batch", input.path, "--out", apart.path, "--sample", "samples/positive.fcs"])
        #expect(outside.status == 1 && outside.stderr.contains("samples/positive.fcs is not one of the event files of \(input.path)"))
        let summary = try FlowMRDBinary.run(["batch", input.path, "--template", template, "--out", apart.path, "--summarize", "--quiet"])
        #expect(summary.status == 1 && summary.stdout.contains("MRD negativity: 1 of 3 evaluable"), "\(summary.stdout)")
        let names = try manager.contentsOfDirectory(atPath: output.path).sorted()
        #expect(try manager.contentsOfDirectory(atPath: apart.path).sorted() == names)
        for name in names {
            #expect(manager.contents(atPath: output.appendingPathComponent(name).path) == manager.contents(atPath: apart.appendingPathComponent(name).path), "\(name)")
        }
    }

    @Test("a stopped run resumes: finished samples are not redone, changed ones are, and the outputs are byte-identical")
    func resume() throws {
        let (input, output, template, cleanup) = try setUp()
        defer { cleanup() }
        let arguments = ["batch", input.path, "--template", template, "--out", output.path, "--no-checksum", "--quiet"]
        _ = try FlowMRDBinary.run(arguments)
        func contents() throws -> [String: Data] {
            var files: [String: Data] = [:]
            for name in try manager.contentsOfDirectory(atPath: output.path) { files[name] = manager.contents(atPath: output.appendingPathComponent(name).path) }
            return files
        }
        let first = try contents()
        // As if the run had stopped before positive.fcs finished (its JSON is written last) and before the summary.
        try manager.removeItem(at: output.appendingPathComponent("positive.fcs.json"))
        try manager.removeItem(at: output.appendingPathComponent("summary.csv"))
        let resumed = try FlowMRDBinary.run(arguments)
        #expect(resumed.stdout.hasPrefix("1 analysed, 3 already done (resumed)"), "\(resumed.stdout)")
        #expect(try contents() == first)
        // A sample file that changed since its entry is analysed again; the old result is kept and the operator told.
        try manager.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -3_600)], ofItemAtPath: input.appendingPathComponent("too-few.fcs").path)
        let changed = try FlowMRDBinary.run(arguments)
        #expect(changed.stdout.hasPrefix("1 analysed, 3 already done (resumed)"), "\(changed.stdout)")
        #expect(changed.stderr == "note: too-few.fcs: analysed again because the input file changed (size or modification time) since its result; the previous result is kept as too-few.fcs.json.superseded-1\n")
        #expect(manager.contents(atPath: output.appendingPathComponent("too-few.fcs.json.superseded-1").path) == first["too-few.fcs.json"])
        #expect(manager.contents(atPath: output.appendingPathComponent("too-few.fcs.html.superseded-1").path) == first["too-few.fcs.html"])
        // A different template redoes every sample, keeping each earlier result beside the new one.
        let other = try FlowMRDBinary.run(["batch", input.path, "--out", output.path, "--no-checksum", "--quiet"])
        #expect(other.stdout.hasPrefix("3 analysed, 0 already done (resumed), 1 failed"), "\(other.stdout)")
        #expect(other.stderr.components(separatedBy: "\n").filter { $0.contains("because the template changed since its result") }.count == 3, "\(other.stderr)")
        #expect(other.stderr.contains("too-few.fcs.json.superseded-2"))
        let kept = try manager.contentsOfDirectory(atPath: output.path).filter { $0.contains(".superseded-") }
        // too-few's JSON and HTML from the first change, then the 3 results with their reports. broken.fcs's
        // error entry holds no result: it is simply tried again.
        #expect(kept.count == 2 + 3 * 2, "\(kept.sorted())")
        #expect(!kept.contains { $0.hasPrefix("broken.fcs") })
    }
}
