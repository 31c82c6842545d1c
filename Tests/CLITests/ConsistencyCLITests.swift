import Foundation
import Testing

/// One command line: help, spellings, ranges, streams, overwrites and file errors the same way in
/// every command (issue 17, items 2–4).
@Suite("flowmrd: one consistent command line", .enabled(if: FlowMRDBinary.path != nil, Comment(rawValue: FlowMRDBinary.missingMessage)))
struct ConsistencyCLITests {
    let manager = FileManager.default
    static let commands = ["analyze", "qc", "batch", "inspect", "convert", "gate", "synth", "validate", "reference", "reference build", "reference leave-one-out", "workflow", "workflow snakemake", "bench",
                           "bench read", "bench gate", "bench synth", "bench analyze", "bench convert", "bench make-file"]

    func folder() throws -> URL {
        let url = manager.temporaryDirectory.appendingPathComponent("flowmrd-cli-\(UUID().uuidString)")
        try manager.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test("every subcommand's help states its exit codes, and no option states its default twice")
    func help() throws {
        for command in Self.commands {
            let help = try FlowMRDBinary.run(command.split(separator: " ").map(String.init) + ["--help"])
            #expect(help.status == 0)
            let flat = help.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            #expect(flat.contains("Exit status:") && flat.contains("64 the command line is invalid"), "\(command)")
            #expect(flat.components(separatedBy: "(default").count - 1 <= flat.components(separatedBy: "--").count, "\(command)")
            #expect(!flat.contains(". (default: legend2-10color)") || !flat.contains("(default legend2-10color)"), "\(command)")
            // An option's own help never says "(default …" and is then followed by the parser's "(default: …)".
            #expect(flat.range(of: #"\(default[^()]*\)[.]? \(default: "#, options: .regularExpression) == nil, "\(command): \(flat)")
        }
        let gate = try FlowMRDBinary.run(["gate", "--help"]).stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(gate.contains("2 the gate file or workspace could not be read"))
    }

    @Test("one spelling for partial reads: --allow-partial in inspect, qc, analyze and batch")
    func partialSpelling() throws {
        for command in ["inspect", "qc", "analyze", "batch"] {
            let help = try FlowMRDBinary.run([command, "--help"]).stdout
            #expect(help.contains("--allow-partial") && !help.contains("--partial "), "\(command)")
        }
        let schema = try String(contentsOfFile: FlowMRDBinary.packageRoot.appendingPathComponent("docs/report-schema.md").path, encoding: .utf8)
        #expect(schema.contains("--allow-partial"))
    }

    @Test("negative or zero counts get a range error naming the option, not 'Missing value'")
    func ranges() throws {
        let cases: [([String], String)] = [
            (["analyze", "samples/positive.fcs", "--workers", "-2"], "--workers must be at least 1 (got -2)"),
            (["qc", "samples/positive.fcs", "--workers", "0"], "--workers must be at least 1 (got 0)"),
            (["batch", "samples", "--out", "/tmp/never", "--workers", "-1"], "--workers must be at least 1 (got -1)"),
            (["synth", "/tmp/never.fcs", "--events", "-5"], "--events must be at least 1 (got -5)"),
            (["synth", "/tmp/never.fcs", "--mrd", "-1"], "the MRD fraction must be between 0 and 0.5 (got -1.0)"),
            (["synth", "/tmp/never.fcs", "--aberrant-count", "-3"], "--aberrant-count must be at least 0 (got -3)"),
            (["validate", "--replicates", "-1"], "--replicates, --seeds, --events and --low-level-events must be positive"),
            (["bench", "read", "--repeats", "0"], "--repeats must be at least 1 (got 0)"),
            (["bench", "make-file", "/tmp/never.fcs", "--events", "-10"], "--events must be at least 1 (got -10)"),
            (["convert", "samples/positive.fcs", "/tmp/never.h5", "--compression", "-1"], "--compression must be 1-9, not -1"),
        ]
        for (arguments, message) in cases {
            let result = try FlowMRDBinary.run(arguments)
            #expect(result.status == 64 && result.stderr.contains(message) && !result.stderr.contains("Missing value"), "\(arguments): \(result.stderr)")
        }
    }

    @Test("errors go to standard error and results to standard output")
    func streams() throws {
        let dir = try folder()
        defer { try? manager.removeItem(at: dir) }
        let broken = dir.appendingPathComponent("broken.fcs").path
        #expect(manager.createFile(atPath: broken, contents: Data("FCS3.1 junk".utf8)))
        for arguments in [["inspect", "samples/positive.fcs", broken], ["analyze", "samples/positive.fcs", broken, "--quiet", "--no-checksum"]] {
            let result = try FlowMRDBinary.run(arguments)
            #expect(result.status == 1, "\(arguments)")
            #expect(result.stderr.contains("error: ") && result.stderr.contains(broken), "\(arguments): \(result.stderr)")
            #expect(!result.stdout.contains("error") && result.stdout.contains("samples/positive.fcs"), "\(arguments): \(result.stdout)")
        }
    }

    @Test("a template typo gets a suggestion; a missing path says so without build-folder internals")
    func templates() throws {
        let typo = try FlowMRDBinary.run(["analyze", "samples/positive.fcs", "--template", "legend2-10colour"])
        #expect(typo.status == 1 && typo.stderr == "error: gating template \"legend2-10colour\" not found: did you mean \"legend2-10color\"? known templates: legend2-10color; "
                + "legend2-10colour.yaml was looked for in $FLOWMRD_TEMPLATES, ./gating-templates, then gating-templates/ and share/flowmrd/gating-templates/ beside the flowmrd binary and up to five folders above it\n", "\(typo.stderr)")
        let missing = try FlowMRDBinary.run(["qc", "samples/positive.fcs", "--template", "/no/such/lab.yaml"])
        #expect(missing.status == 1 && missing.stderr == "error: gating template \"/no/such/lab.yaml\" not found: no such file\n", "\(missing.stderr)")
        #expect(!typo.stderr.contains(".build") && !missing.stderr.contains(".build"))
    }

    @Test("an unwritable output names the path and the reason, without raw Foundation text, and leaves nothing")
    func unwritable() throws {
        let cases: [[String]] = [
            ["analyze", "samples/positive.fcs", "--quiet", "--no-checksum", "--out", "/no/such/dir/r.json"],
            ["analyze", "samples/positive.fcs", "--quiet", "--no-checksum", "--report", "/no/such/dir/r.html"],
            ["qc", "samples/positive.fcs", "--quiet", "--csv", "/no/such/dir/q.csv"],
            ["synth", "/no/such/dir/s.fcs", "--events", "1000"],
        ]
        for arguments in cases {
            let result = try FlowMRDBinary.run(arguments)
            let path = arguments[arguments.firstIndex { $0.hasPrefix("/no/such") }!]
            #expect(result.status == 1 && result.stderr.contains("error: ") && result.stderr.contains("/no/such/dir"), "\(arguments): \(result.stderr)")
            #expect(!result.stderr.contains("couldn’t") && !result.stderr.contains("NSCocoaErrorDomain") && !result.stderr.contains("Error Domain"), "\(result.stderr)")
            #expect(result.stderr.contains(path), "\(result.stderr)")
        }
    }

    @Test("synth and analyze refuse to overwrite without --overwrite, and leave no .partial file")
    func overwrite() throws {
        let dir = try folder()
        defer { try? manager.removeItem(at: dir) }
        let fcs = dir.appendingPathComponent("s.fcs").path, json = dir.appendingPathComponent("r.json").path, html = dir.appendingPathComponent("r.html").path
        #expect(try FlowMRDBinary.run(["synth", fcs, "--events", "2000", "--quiet"]).status == 0)
        let before = manager.contents(atPath: fcs)
        let again = try FlowMRDBinary.run(["synth", fcs, "--events", "3000", "--quiet"])
        #expect(again.status == 64 && again.stderr.contains("\(fcs) exists; give --overwrite to replace it"), "\(again.stderr)")
        #expect(manager.contents(atPath: fcs) == before)
        #expect(try FlowMRDBinary.run(["synth", fcs, "--events", "3000", "--quiet", "--overwrite"]).status == 0)
        #expect(manager.contents(atPath: fcs) != before)
        for option in [["--out", json], ["--report", html]] {
            let first = try FlowMRDBinary.run(["analyze", fcs, "--quiet", "--no-checksum"] + option)
            #expect(first.status != 1 && manager.fileExists(atPath: option[1]), "\(first.stderr)")
            let kept = manager.contents(atPath: option[1])
            let second = try FlowMRDBinary.run(["analyze", fcs, "--quiet", "--no-checksum"] + option)
            #expect(second.status == 64 && second.stderr.contains("\(option[1]) exists; give --overwrite to replace it"), "\(second.stderr)")
            #expect(manager.contents(atPath: option[1]) == kept)
            #expect(try FlowMRDBinary.run(["analyze", fcs, "--quiet", "--no-checksum", "--overwrite"] + option).status != 1)
        }
        #expect(try manager.contentsOfDirectory(atPath: dir.path).allSatisfy { !$0.contains(".partial") })
    }

    @Test("--channel maps a marker whose label the file gets wrong; the result records it, in analyze and qc")
    func channel() throws {
        let dir = try folder()
        defer { try? manager.removeItem(at: dir) }
        let fcs = dir.appendingPathComponent("stain.fcs").path
        #expect(try FlowMRDBinary.run(["synth", fcs, "--events", "20000", "--seed", "3", "--fault", "stain:CD45=CD3", "--quiet"]).status == 0)
        let plain = try FlowMRDBinary.run(["analyze", fcs, "--json", "--quiet", "--no-checksum"])
        let reasons = try #require(Self.result(plain.stdout)?["not_evaluable_reasons"] as? [String])
        #expect(plain.status == 20 && reasons.count == 1 && reasons[0].hasPrefix("panel incomplete: marker \"CD45\" not found"), "\(reasons)")
        let text = try FlowMRDBinary.run(["analyze", fcs, "--quiet", "--no-checksum"])
        #expect(text.stdout.components(separatedBy: "marker \"CD45\" not found").count == 2, "listed once: \(text.stdout)")
        let mapped = try FlowMRDBinary.run(["analyze", fcs, "--json", "--quiet", "--no-checksum", "--channel", "CD45=APC-H7-A"])
        let result = try #require(Self.result(mapped.stdout))
        #expect(result["channel_assignments"] as? [String: String] == ["CD45": "APC-H7-A"])
        #expect((result["panel"] as? [String: String])?["CD45"] == "APC-H7-A")
        #expect((result["warnings"] as? [String])?.contains("--channel CD45=APC-H7-A: the channel's own label ($PnS CD3) is overridden") == true)
        #expect((result["not_evaluable_reasons"] as? [String])?.contains { $0.contains("panel") } == false)
        let qc = try FlowMRDBinary.run(["qc", fcs, "--format", "json", "--quiet", "--channel", "CD45=APC-H7-A"])
        #expect(!qc.stdout.contains("not gated"), "\(qc.stdout)")
        let typo = try FlowMRDBinary.run(["qc", fcs, "--channel", "CD455=APC-H7-A"])
        #expect(typo.status == 1 && typo.stderr.contains("did you mean \"CD45\"?"), "\(typo.stderr)")
    }

    @Test("JSON fields the schema calls 'number or null' are null, never absent")
    func nulls() throws {
        let negative = try FlowMRDBinary.run(["analyze", "samples/too-few.fcs", "--json", "--quiet", "--no-checksum"])
        let result = try #require(Self.result(negative.stdout))
        #expect(result.keys.contains("mrd_percent") && result["mrd_percent"] is NSNull)
        #expect(result.keys.contains("mrd_ci95_percent") && result["file_sha256"] is NSNull)
    }

    @Test("batch: a not-evaluable row has no MRD value or interval, and its reasons in their own column")
    func batchNotEvaluable() throws {
        let dir = try folder()
        defer { try? manager.removeItem(at: dir) }
        let input = dir.appendingPathComponent("in"), output = dir.appendingPathComponent("out")
        try manager.createDirectory(at: input, withIntermediateDirectories: true)
        #expect(try FlowMRDBinary.run(["synth", input.appendingPathComponent("stain.fcs").path, "--events", "20000", "--seed", "3", "--fault", "stain:CD45=CD3", "--quiet"]).status == 0)
        try manager.createDirectory(at: input.appendingPathComponent("nested.fcs"), withIntermediateDirectories: true)
        let run = try FlowMRDBinary.run(["batch", input.path, "--out", output.path, "--quiet", "--no-checksum"])
        #expect(run.status == 0, "\(run.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: manager.contents(atPath: output.appendingPathComponent("summary.json").path)!) as? [String: Any])
        let row = try #require((summary["samples"] as? [[String: Any]])?.first)
        #expect(row["call"] as? String == "not_evaluable" && row["mrd_percent"] is NSNull && row["mrd_ci95_percent"] is NSNull)
        let reasons = try #require(row["not_evaluable_reasons"] as? [String])
        #expect(reasons.count == 1 && reasons[0].hasPrefix("panel incomplete"))
        #expect(summary["negativity_percent"] is NSNull && summary["evaluable"] as? Int == 0)
        #expect((summary["skipped"] as? [[String: String]])?.first?["reason"] == "a folder (folders are not searched)")
        let csv = try String(contentsOfFile: output.appendingPathComponent("summary.csv").path, encoding: .utf8).split(separator: "\n")
        #expect(csv[0] == "file,status,call,mrd_percent,mrd_ci95_low_percent,mrd_ci95_high_percent,aberrant_pc,nucleated_cells,lod_percent,qc_passed,hemodiluted,not_evaluable_reasons,report,error")
        #expect(csv[1].contains(",analysed,not_evaluable,,,,") && csv[1].contains("panel incomplete"), "\(csv[1])")
    }

    @Test("the bundled reference is synthetic and named in the result and the report; a damaged one is refused")
    func reference() throws {
        let bundled = "gating-templates/legend2-10color.reference"
        let run = try FlowMRDBinary.run(["analyze", "samples/positive.fcs", "--reference", bundled, "--json", "--quiet", "--no-checksum"])
        let result = try #require(Self.result(run.stdout), "\(run.stderr)")
        let used = try #require(result["reference"] as? [String: Any])
        #expect(used["file"] as? String == bundled && used["synthetic"] as? Bool == true && used["files"] as? Int == 20)
        #expect(((result["qc"] as? [String: Any])?["marrow_score_limit"] as? Double) != nil)
        let text = try FlowMRDBinary.run(["analyze", "samples/positive.fcs", "--reference", bundled, "--quiet", "--no-checksum"])
        #expect(text.stdout.contains("normal reference \(bundled) (SYNTHETIC: built from generated marrows, not a lab's own), 20 marrows"))
        let dir = try folder()
        defer { try? manager.removeItem(at: dir) }
        // The report names the reference and draws its subsets behind the plasma-cell plots only.
        let html = dir.appendingPathComponent("r.html").path, plain = dir.appendingPathComponent("plain.html").path
        #expect(try FlowMRDBinary.run(["analyze", "samples/positive.fcs", "--reference", bundled, "--report", html, "--quiet", "--no-checksum"]).status == 10)
        #expect(try FlowMRDBinary.run(["analyze", "samples/positive.fcs", "--report", plain, "--quiet", "--no-checksum"]).status == 10)
        let page = try String(contentsOfFile: html, encoding: .utf8), without = try String(contentsOfFile: plain, encoding: .utf8)
        #expect(page.contains("SYNTHETIC (built from generated marrows, not a lab&apos;s own)") && !without.contains("SYNTHETIC"), "\(page.prefix(3000))")
        // Four of the five plasma-cell plots have both markers in the reference (κ vs λ has none).
        let plasmaPlots = page.components(separatedBy: "<svg").filter { $0.contains("aria-label=\"Plasma cells:") }
        #expect(plasmaPlots.count == 5 && plasmaPlots.filter { $0.contains("class=\"reference-subset\"") }.count == 4)
        #expect(!plasmaPlots.first { $0.contains("cyKappa vs cyLambda") }!.contains("reference-subset") && !without.contains("reference-subset"))
        let damaged = dir.appendingPathComponent("damaged.reference").path
        let original = try String(contentsOfFile: FlowMRDBinary.packageRoot.appendingPathComponent(bundled).path, encoding: .utf8)
        try original.replacingOccurrences(of: "\"files\" : [", with: "\"files\" : [ ").replacingOccurrences(of: "16 normal", with: "17 normal")
            .write(toFile: damaged, atomically: true, encoding: .utf8)
        let refused = try FlowMRDBinary.run(["qc", "samples/positive.fcs", "--reference", damaged])
        #expect(refused.status == 1 && refused.stderr == "error: normal reference \(damaged) fails its checksum (content_sha256): it was edited or damaged after it was built\n", "\(refused.stderr)")
        let few = try FlowMRDBinary.run(["reference", "build", "samples/positive.fcs", "--out", dir.appendingPathComponent("x.reference").path])
        #expect(few.status == 1 && few.stderr.contains("needs at least 5 normal marrows (given 1)"), "\(few.stderr)")
    }

    static func result(_ stdout: String) -> [String: Any]? {
        let json = try? JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any]
        return (json?["results"] as? [[String: Any]])?.first?["result"] as? [String: Any]
    }

    @Test("every key a result writes, with and without a reference, is named in docs/report-schema.md")
    func everyKeyDocumented() throws {
        let schema = try String(contentsOfFile: FlowMRDBinary.packageRoot.appendingPathComponent("docs/report-schema.md").path, encoding: .utf8)
        let run = try FlowMRDBinary.run(["analyze", "samples/positive.fcs", "samples/too-few.fcs", "--json", "--no-checksum", "--quiet",
                                         "--reference", "gating-templates/legend2-10color.reference"])
        let plain = try FlowMRDBinary.run(["analyze", "samples/borderline-30.fcs", "--json", "--quiet"])
        // Keys whose children are markers or channels, not fields.
        let maps: Set<String> = ["panel", "channel_assignments", "markers"]
        var keys: [String: String] = [:]
        func walk(_ value: Any, _ path: String) {
            if let object = value as? [String: Any] {
                for (key, child) in object {
                    keys[key] = path
                    if !(maps.contains(key) && child is [String: Any]) { walk(child, path + "/" + key) }
                }
            } else if let list = value as? [Any] {
                for child in list { walk(child, path + "[]") }
            }
        }
        for stdout in [run.stdout, plain.stdout] { walk(try JSONSerialization.jsonObject(with: Data(stdout.utf8)), "") }
        #expect(keys["chainless"] != nil && keys["marrow_score"] != nil && keys["content_sha256"] != nil && keys.count > 100, "\(keys.count)")
        // A key is named when it stands in the schema as a whole word (in backticks or in a {…} list).
        let undocumented = keys.keys.sorted().filter { key in
            schema.ranges(of: key).allSatisfy { range in
                let before = range.lowerBound > schema.startIndex ? schema[schema.index(before: range.lowerBound)] : " "
                let after = range.upperBound < schema.endIndex ? schema[range.upperBound] : " "
                return before.isLetter || before.isNumber || before == "_" || after.isLetter || after.isNumber || after == "_"
            }
        }
        #expect(undocumented.isEmpty, "\(undocumented.map { "\($0) (in \(keys[$0]!))" })")
    }

}
