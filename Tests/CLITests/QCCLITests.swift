import Foundation
import Testing

@Suite("flowmrd qc", .enabled(if: FlowMRDBinary.path != nil, Comment(rawValue: FlowMRDBinary.missingMessage)))
struct QCCLITests {
    func temporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("flowmrd-qc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    @Test("a directory: one row per event file in table, CSV and JSON; counts equal analyze's; exit 30 when any fails")
    func directory() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let csvPath = directory.appendingPathComponent("qc.csv").path, jsonPath = directory.appendingPathComponent("qc.json").path
        let table = try FlowMRDBinary.run(["qc", "samples", "--csv", csvPath, "--json", jsonPath, "--quiet"])
        #expect(table.status == 30, "\(table.stderr)")
        // The four committed event files, sorted; the .labels and .json sidecars are not event files.
        let files = ["samples/borderline-30.fcs", "samples/demo-10color.fcs", "samples/positive.fcs", "samples/too-few.fcs"]
        let rows = table.stdout.components(separatedBy: "\n").filter { $0.hasPrefix("samples/") && $0.contains("FAIL") }
        #expect(rows.map { String($0.prefix { $0 != " " }) } == files)
        #expect(table.stdout.contains("4 file(s): 0 passed, 4 failed QC or could not be read"))
        #expect(table.stdout.contains("fail: not gated: QC failure: the file carries no spillover matrix"))

        let csv = try String(contentsOfFile: csvPath, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(csv.count == 6 && csv.last == "")
        #expect(csv[0] == "file,status,declared_events,events_read,acquisition_seconds,events_per_second,flow,singlets,non_debris,nucleated_cells,"
                + "minimum_met,lod_percent,lloq_percent,b_cell_precursors_percent,mast_cells_percent,erythroblasts_percent,"
                + "myeloid_precursors_percent,hemodiluted,failures,parser_warnings", "\(csv[0])")
        let header = csv[0].split(separator: ",", omittingEmptySubsequences: false)
        // Every CSV header is a plain identifier a script can use as a column name.
        #expect(header.allSatisfy { $0.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") } })
        let positive = try #require(csv.first { $0.hasPrefix("samples/positive.fcs,") }).split(separator: ",", omittingEmptySubsequences: false)
        #expect(positive.count == header.count)
        #expect(positive[1] == "fail" && positive[2] == "30000" && positive[3] == "30000")

        let document = try JSONSerialization.jsonObject(with: FileManager.default.contents(atPath: jsonPath)!) as! [String: Any]
        #expect(document["kind"] as? String == "flowmrd-qc" && document["all_passed"] as? Bool == false)
        let entries = document["files"] as! [[String: Any]]
        #expect(entries.map { $0["file"] as! String } == files)
        let qc = try #require(entries[2]["qc"] as? [String: Any])
        let analyzed = try FlowMRDBinary.run(["analyze", "samples/positive.fcs", "--json", "--no-checksum"])
        let result = ((try JSONSerialization.jsonObject(with: Data(analyzed.stdout.utf8)) as! [String: Any])["results"] as! [[String: Any]])[0]["result"] as! [String: Any]
        #expect(qc["nucleated_cells"] as? Int == result["nucleated_cells"] as? Int)
        #expect(String(positive[9]) == String(result["nucleated_cells"] as! Int))
        let gates = Dictionary(uniqueKeysWithValues: (result["gates"] as! [[String: Any]]).map { ($0["id"] as! String, $0["count"] as! Int) })
        #expect(qc["singlets"] as? Int == gates["singlets"] && qc["non_debris"] as? Int == gates["non-debris"])
        let indicators = qc["hemodilution"] as! [[String: Any]]
        #expect(indicators.map { $0["count"] as! Int } == ["b-cell-precursors", "mast-cells", "erythroblasts", "myeloid-precursors"].map { gates[$0]! })
        #expect((result["qc"] as! [String: Any])["passed"] as? Bool == false)
    }

    @Test("exit 0 when every file passes; --limit moves a hemodilution limit and the flag follows")
    func passAndLimits() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let template = directory.appendingPathComponent("small.yaml").path
        let text = try String(contentsOfFile: FlowMRDBinary.packageRoot.appendingPathComponent("gating-templates/legend2-10color.yaml").path, encoding: .utf8)
        try text.replacingOccurrences(of: "min_nucleated_cells: 1500000", with: "min_nucleated_cells: 20000").write(toFile: template, atomically: true, encoding: .utf8)
        let pass = try FlowMRDBinary.run(["qc", "samples/positive.fcs", "--template", template, "--format", "json"])
        #expect(pass.status == 0, "\(pass.stdout)\(pass.stderr)")
        // Two limits above this marrow's values flag it hemodiluted (flag_when_below: 2).
        let flagged = try FlowMRDBinary.run(["qc", "samples/positive.fcs", "--template", template, "--limit", "mast-cells=0.1", "--limit", "B-cell precursors=5"])
        #expect(flagged.status == 30)
        #expect(flagged.stdout.contains("fail: hemodiluted: 2 of 4 marrow indicators below their reference limit (B-cell precursors"), "\(flagged.stdout)")
        let unknown = try FlowMRDBinary.run(["qc", "samples/positive.fcs", "--limit", "mast=0.1"])
        #expect(unknown.status == 1 && unknown.stderr.contains("no hemodilution indicator is called \"mast\""), "\(unknown.stderr)")
        let malformed = try FlowMRDBinary.run(["qc", "samples/positive.fcs", "--limit", "mast-cells"])
        #expect(malformed.status == 64 && malformed.stderr.contains("expected GATE=PERCENT"))
    }

    @Test("an HDF5 event store gets the same QC as the FCS file it was converted from")
    func hdf5() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = directory.appendingPathComponent("positive.h5").path
        let convert = try FlowMRDBinary.run(["convert", "samples/positive.fcs", store])
        #expect(convert.status == 0, "\(convert.stderr)")
        let result = try FlowMRDBinary.run(["qc", "samples/positive.fcs", store, "--format", "json"])
        let files = (try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any])["files"] as! [[String: Any]]
        #expect(files.count == 2)
        #expect((files[0]["qc"] as! NSDictionary) == (files[1]["qc"] as! NSDictionary))
        #expect((files[1]["qc"] as! [String: Any])["declared_events"] as? Int == 30_000)
    }

    @Test("an unreadable file is an error row (exit 1) and the other files are still checked")
    func unreadable() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(FileManager.default.createFile(atPath: directory.appendingPathComponent("broken.fcs").path, contents: Data("FCS3.1    junk".utf8)))
        try FileManager.default.copyItem(atPath: FlowMRDBinary.packageRoot.appendingPathComponent("samples/positive.fcs").path,
                                         toPath: directory.appendingPathComponent("good.fcs").path)
        let result = try FlowMRDBinary.run(["qc", directory.path, "--format", "csv"])
        #expect(result.status == 1)
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[1].hasPrefix("\(directory.path)/broken.fcs,error,") && lines[1].contains("broken.fcs"))
        #expect(lines[2].hasPrefix("\(directory.path)/good.fcs,fail,30000,30000,"))
    }
}

@Suite("flowmrd analyze --report", .enabled(if: FlowMRDBinary.path != nil, Comment(rawValue: FlowMRDBinary.missingMessage)))
struct ReportCLITests {
    @Test("one file: the report at the path; several files: NAME.html in a folder, which must exist")
    func paths() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("flowmrd-report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let single = directory.appendingPathComponent("positive.html").path
        let one = try FlowMRDBinary.run(["analyze", "samples/positive.fcs", "--report", single, "--no-checksum", "--quiet"])
        #expect(one.status == 10, "\(one.stderr)")
        let html = try String(contentsOfFile: single, encoding: .utf8)
        #expect(html.hasPrefix("<!DOCTYPE html>") && html.contains("data-call=\"positive\""))
        let several = try FlowMRDBinary.run(["analyze", "samples/positive.fcs", "samples/too-few.fcs", "--report", directory.path, "--no-checksum", "--quiet"])
        // positive.html is there from the single run: nothing is analysed or replaced without --overwrite.
        #expect(several.status == 64 && several.stderr.contains("positive.html exists; give --overwrite to replace it"), "\(several.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("too-few.html").path))
        let replaced = try FlowMRDBinary.run(["analyze", "samples/positive.fcs", "samples/too-few.fcs", "--report", directory.path, "--no-checksum", "--quiet", "--overwrite"])
        #expect(replaced.status == 20)
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("too-few.html").path))
        #expect(try String(contentsOfFile: directory.appendingPathComponent("positive.html").path, encoding: .utf8) == html)
        let missing = try FlowMRDBinary.run(["analyze", "samples/positive.fcs", "samples/too-few.fcs", "--report", directory.appendingPathComponent("nope").path])
        #expect(missing.status == 64 && missing.stderr.contains("--report with several input files must name an existing folder"))
    }
}
