import Foundation
import Testing

@Suite("HDF5 input to the commands", .enabled(if: FlowMRDBinary.path != nil, Comment(rawValue: FlowMRDBinary.missingMessage)))
struct HDF5CLITests {
    static func temporary(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("flowmrd-h5cli-\(UUID().uuidString)-\(name)").path
    }

    @Test("analyze gives the same result from a sample's HDF5 store as from the FCS file; inspect describes the store")
    func analyzeAndInspect() throws {
        let h5 = Self.temporary("positive.h5")
        defer { try? FileManager.default.removeItem(atPath: h5) }
        let convert = try FlowMRDBinary.run(["convert", "samples/positive.fcs", h5])
        #expect(convert.status == 0 && convert.stdout.contains("30000 events"), "\(convert.stderr)")
        let fromFCS = try FlowMRDBinary.run(["analyze", "samples/positive.fcs", "--json", "--no-checksum"])
        let fromHDF5 = try FlowMRDBinary.run(["analyze", h5, "--json", "--no-checksum"])
        #expect(fromFCS.status == 10 && fromHDF5.status == 10, "\(fromHDF5.stderr)")
        // Identical apart from the file name.
        #expect(fromHDF5.stdout.replacingOccurrences(of: h5, with: "samples/positive.fcs") == fromFCS.stdout)
        let inspect = try FlowMRDBinary.run(["inspect", "--json", h5])
        #expect(inspect.status == 0)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [[String: Any]])
        #expect(report[0]["format"] as? String == "HDF5")
        let set = try #require((report[0]["dataSets"] as? [[String: Any]])?.first)
        #expect(set["events"] as? Int == 30_000)
        #expect((set["channels"] as? [[String: Any]])?.compactMap { $0["marker"] as? String }.contains("CD138") == true)
    }

    @Test("gate counts from data1's HDF5 store equal the compliance suite's truth", .enabled(if: ConformanceData.isAvailable))
    func gate() throws {
        let h5 = Self.temporary("data1.h5")
        defer { try? FileManager.default.removeItem(atPath: h5) }
        #expect(try FlowMRDBinary.run(["convert", ConformanceData.directory.appendingPathComponent("data1.fcs").path, h5]).status == 0)
        let result = try FlowMRDBinary.run(["gate", h5, "--gating-ml", ConformanceData.directory.appendingPathComponent("gml/gml_parent_range1_boolean_and3_gate.xml").path, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let files = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        let gates = try #require(files.first?["gates"] as? [[String: Any]])
        let truth = try String(contentsOf: ConformanceData.directory.appendingPathComponent("truth/Results_ParAnd3.txt"), encoding: .utf8)
            .split(whereSeparator: \.isNewline).filter { $0 == "1" }.count
        #expect(gates.first { $0["id"] as? String == "ParAnd3" }?["count"] as? Int == truth)
    }

    @Test("a truncated HDF5 store is an error naming the file (exit 1), never a crash")
    func truncated() throws {
        let h5 = Self.temporary("cut.h5")
        defer { try? FileManager.default.removeItem(atPath: h5) }
        #expect(try FlowMRDBinary.run(["convert", "samples/positive.fcs", h5]).status == 0)
        let data = try #require(FileManager.default.contents(atPath: h5))
        try data.prefix(data.count / 3).write(to: URL(fileURLWithPath: h5))
        let result = try FlowMRDBinary.run(["analyze", h5, "--quiet"])
        #expect(result.status == 1)
        #expect(result.stderr.contains(h5), "\(result.stderr)")
        #expect(!result.stderr.contains("HDF5-DIAG"), "HDF5's own error printing must stay silent")
    }

    @Test("analyze --events-out writes the audit file; with several inputs it needs a folder and writes NAME.events.h5 in it")
    func eventsOut() throws {
        let folder = Self.temporary("events")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let single = folder + "/one.h5"
        let one = try FlowMRDBinary.run(["analyze", "samples/positive.fcs", "--events-out", single, "--quiet", "--no-checksum"])
        #expect(one.status == 10, "\(one.stderr)")
        let bytes = try #require(FileManager.default.contents(atPath: single))
        #expect(bytes.prefix(4) == Data([0x89, 0x48, 0x44, 0x46]))
        let notFolder = try FlowMRDBinary.run(["analyze", "samples/positive.fcs", "samples/too-few.fcs", "--events-out", single])
        #expect(notFolder.status != 0 && notFolder.stderr.contains("must name an existing folder"))
        let several = try FlowMRDBinary.run(["analyze", "samples/positive.fcs", "samples/borderline-30.fcs", "--events-out", folder, "--quiet", "--no-checksum"])
        #expect(several.status == 10)
        for name in ["positive", "borderline-30"] {
            #expect(FileManager.default.fileExists(atPath: "\(folder)/\(name).events.h5"), "\(name)")
        }
    }
}
