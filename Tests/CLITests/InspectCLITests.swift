import Foundation
import Testing

/// Runs the built `flowmrd` binary as a user would.
enum FlowMRDBinary {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The debug binary built next to this test bundle (swift build --build-tests builds it).
    static let path: String? = {
        let candidates = [
            Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("flowmrd").path,
            packageRoot.appendingPathComponent(".build/debug/flowmrd").path,
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static func run(_ arguments: [String]) throws -> Result {
        try execute(path!, arguments)
    }

    /// Runs `arguments[0]` with the rest as its arguments (a script, another tool), from the package root.
    static func shell(_ arguments: [String]) throws -> Result {
        try execute(arguments[0], Array(arguments.dropFirst()))
    }

    /// Runs `executable` from the package root and collects its status and output.
    static func execute(_ executable: String, _ arguments: [String]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = packageRoot
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }

    static let missingMessage = "the flowmrd binary is not built (run swift build first)"
}

@Suite("flowmrd inspect", .enabled(if: FlowMRDBinary.path != nil, Comment(rawValue: FlowMRDBinary.missingMessage)))
struct InspectCLITests {
    @Test("--version prints the software the results record")
    func version() throws {
        let version = try FlowMRDBinary.run(["--version"])
        #expect(version.status == 0 && version.stderr.isEmpty)
        let analysis = try FlowMRDBinary.run(["analyze", "samples/demo-10color.fcs", "--json", "--no-checksum", "--quiet"])
        let json = try JSONSerialization.jsonObject(with: Data(analysis.stdout.utf8)) as? [String: Any]
        let result = ((json?["results"] as? [[String: Any]])?.first?["result"]) as? [String: Any]
        let software = try #require(result?["software"] as? String)
        #expect(version.stdout == software + "\n", "\(version.stdout)")
    }

    @Test("text output names version, instrument, channels and markers of the bundled sample")
    func text() throws {
        let result = try FlowMRDBinary.run(["inspect", "samples/demo-10color.fcs"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("FCS3.1"))
        #expect(result.stdout.contains("Events:      10000"))
        #expect(result.stdout.contains("APC-H7-A") && result.stdout.contains("CD45"))
    }

    @Test("--json gives each data set's event count under `events`, and the exit status tells unreadable files apart")
    func json() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("flowmrd-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let broken = directory.appendingPathComponent("broken.fcs").path
        #expect(FileManager.default.createFile(atPath: broken, contents: Data("FCS3.1".utf8)))
        let result = try FlowMRDBinary.run(["inspect", "--json", "samples/demo-10color.fcs", broken])
        #expect(result.status == 1)
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        #expect(parsed.count == 2)
        let sets = try #require(parsed[0]["dataSets"] as? [[String: Any]])
        #expect(sets.first?["events"] as? Int == 10000)
        #expect((parsed[1]["error"] as? String)?.contains("58-byte HEADER") == true)
        #expect((parsed[1]["error"] as? String)?.contains(broken) == true)
    }

    @Test("inspect of corpus files with several data sets lists them all", .enabled(if: FileManager.default.fileExists(atPath: FlowMRDBinary.packageRoot.deletingLastPathComponent().appendingPathComponent("shared/fcs-corpus").path)))
    func multipleDataSets() throws {
        let lmd = FlowMRDBinary.packageRoot.deletingLastPathComponent().appendingPathComponent("shared/fcs-corpus/FlowKit/coulter.lmd").path
        let result = try FlowMRDBinary.run(["inspect", "--json", lmd])
        #expect(result.status == 0)
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        let sets = try #require(parsed.first?["dataSets"] as? [[String: Any]])
        #expect(sets.map { $0["events"] as? Int } == [18110, 18110])
        #expect(sets.map { $0["isDefault"] as? Bool } == [false, true])
    }
}

@Suite("flowmrd synth and validate", .enabled(if: FlowMRDBinary.path != nil, Comment(rawValue: FlowMRDBinary.missingMessage)))
struct SynthValidateCLITests {
    @Test("synth writes the file, labels and truth; inspect reads it back")
    func synth() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("flowmrd-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("s.fcs").path
        let result = try FlowMRDBinary.run(["synth", out, "--events", "5000", "--aberrant-count", "30", "--seed", "4"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("30 aberrant plasma cells"))
        let truth = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("s.truth.json"))) as? [String: Any])
        #expect(truth["aberrantPlasmaCells"] as? Int == 30)
        #expect(FileManager.default.contents(atPath: directory.appendingPathComponent("s.labels").path)?.count == 5000)
        let inspect = try FlowMRDBinary.run(["inspect", "--json", out])
        #expect(inspect.status == 0 && inspect.stdout.contains("\"events\" : 5000"))
        let bad = try FlowMRDBinary.run(["synth", out, "--light-chain", "mu"])
        #expect(bad.status != 0 && bad.stderr.contains("--light-chain"))
    }

    @Test("validate --truth passes and prints the criteria; it refuses to run without an analysis")
    func validate() throws {
        let result = try FlowMRDBinary.run(["validate", "--truth", "--events", "10000", "--levels", "1e-1,1e-2,0", "--replicates", "2", "--quiet"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("result: PASSED") && result.stdout.contains("limit of blank"))
        // One positive file gives no linearity: the criteria fail and the exit status says so.
        let single = try FlowMRDBinary.run(["validate", "--truth", "--exact-spikes", "--events", "10000", "--levels", "1e-2,0", "--replicates", "1", "--quiet"])
        #expect(single.status == 1 && single.stdout.contains("[FAIL] linearity slope"))
        let both = try FlowMRDBinary.run(["validate", "--truth", "--gating-ml", "g.xml", "--events", "1000"])
        #expect(both.status != 0 && both.stderr.contains("choose one analysis"))
    }

    @Test("validate runs the MRD engine by default and passes its criteria on a small series")
    func validateWithEngine() throws {
        // The dilution series' mechanics on the old uniform normal plasma cells; the engine on realistic marrow is measured by the matrix.
        let result = try FlowMRDBinary.run(["validate", "--events", "30000", "--levels", "1e-1,1e-2,0", "--replicates", "2", "--quiet", "--json", "--uniform-normals"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        let levels = report["levels"] as! [[String: Any]]
        for level in levels where (level["fraction"] as! Double) > 0 {
            let recovery = level["recovery"] as! Double
            #expect(recovery > 0.95 && recovery < 1.05, "recovery \(recovery) at \(level["fraction"]!)")
        }
    }
}

@Suite("flowmrd analyze", .enabled(if: FlowMRDBinary.path != nil, Comment(rawValue: FlowMRDBinary.missingMessage)))
struct AnalyzeCLITests {
    @Test("the committed samples give their documented calls and exit statuses", arguments: [
        ("samples/positive.fcs", 10, "POSITIVE —"), ("samples/borderline-30.fcs", 11, "POSITIVE (below LLOQ)"), ("samples/too-few.fcs", 20, "NOT EVALUABLE"),
    ])
    func calls(file: String, status: Int32, text: String) throws {
        let result = try FlowMRDBinary.run(["analyze", file, "--quiet"])
        #expect(result.status == status, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("CALL: \(text)"))
    }

    @Test("--json and --out give the documented fields; several files take the worst status")
    func json() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("flowmrd-analyze-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let result = try FlowMRDBinary.run(["analyze", "samples/positive.fcs", "samples/too-few.fcs", "--json", "--out", out, "--no-checksum"])
        #expect(result.status == 20)
        let document = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        #expect(document["schema"] as? Int == 10)  // MRDResult.schemaVersion (2 added the qc block, 3 channel_assignments and nulls, 4 switched_off and gates_off, 5 clonality.plasma_cell_kappa_lambda, 6 clonality.reference_ratio_log_variance, 7 the phenotype of the clonal excess with its interval, 8 clonality.light_chain_read_level, 9 clonality.chainless and the unread role, 10 unread_pc)
        let results = document["results"] as! [[String: Any]]
        let first = results[0]["result"] as! [String: Any]
        #expect(first["call"] as? String == "positive")
        let truth = try JSONSerialization.jsonObject(with: FileManager.default.contents(atPath: FlowMRDBinary.packageRoot.appendingPathComponent("samples/positive.truth.json").path)!) as! [String: Any]
        #expect((first["aberrant_pc"] as! [String: Any])["count"] as? Int == truth["aberrantPlasmaCells"] as? Int)
        #expect(abs((first["nucleated_cells"] as! Int) - (truth["nucleatedCells"] as! Int)) < 100)
        #expect(first["mrd_percent"] is Double)
        #expect((results[1]["result"] as! [String: Any])["call"] as? String == "not_evaluable")
        #expect(FileManager.default.contents(atPath: out) == Data(result.stdout.utf8))
    }

    @Test("a template with a typo is an error (exit 1) naming the file, line and column")
    func badTemplate() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("flowmrd-bad-\(UUID().uuidString).yaml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let text = try String(contentsOfFile: FlowMRDBinary.packageRoot.appendingPathComponent("gating-templates/legend2-10color.yaml").path, encoding: .utf8)
        try text.replacingOccurrences(of: "  lloq_events: 50", with: "  lloq_event: 50").write(toFile: path, atomically: true, encoding: .utf8)
        let line = text.components(separatedBy: "\n").firstIndex { $0.contains("lloq_events: 50") }! + 1
        let result = try FlowMRDBinary.run(["analyze", "samples/positive.fcs", "--template", path])
        #expect(result.status == 1)
        #expect(result.stderr.contains("\(path):\(line):3: mrd: unknown key \"lloq_event\""), "\(result.stderr)")
    }
}
