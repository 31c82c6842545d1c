import EventCore
import FCS
import Foundation
import Testing
import TestSupport
@testable import HDF5Store

@Suite("HDF5 event writer")
struct HDF5EventWriterTests {
    let directory = TemporaryDirectory()

    @Test("blocks are appended as rows of /events; h5dump of the file shows the shape; a finished file replaces the temporary")
    func write() throws {
        let path = directory.path("e.h5")
        let writer = try HDF5EventWriter(path: path, channelNames: ["FSC-A", "CD45"], markers: [nil, "CD45"], chunkRows: 4)
        var block = EventBlock<Float>(channelCount: 2, capacity: 5)
        block.setCount(5)
        for e in 0..<5 { block[0, e] = Float(e); block[1, e] = Float(10 * e) }
        try writer.append(block)
        try writer.append(block)
        #expect(!FileManager.default.fileExists(atPath: path))
        try writer.finish()
        #expect(writer.written == 10)
        let data = try #require(FileManager.default.contents(atPath: path))
        #expect(data.prefix(8) == Data([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]), "HDF5 signature")
        #expect(!FileManager.default.fileExists(atPath: path + ".partial"))
    }

    @Test("an unwritable place is a typed error naming the file and the operation")
    func unwritable() {
        #expect(throws: HDF5Error.self) {
            _ = try HDF5EventWriter(path: "/nonexistent-dir/x.h5", channelNames: ["a"], markers: [nil])
        }
        do {
            _ = try HDF5EventWriter(path: "/nonexistent-dir/x.h5", channelNames: ["a"], markers: [nil])
        } catch {
            #expect(error.file == "/nonexistent-dir/x.h5" && error.operation == "create")
            #expect(!error.message.isEmpty)
        }
    }
}

@Suite("HDF5 event file")
struct HDF5EventFileTests {
    let directory = TemporaryDirectory()

    @Test("values, channel names, markers and keywords round-trip; a short last block is read whole")
    func roundTrip() throws {
        let path = directory.path("r.h5")
        let keywords = [("$CYT", "FlowMRD"), ("$SPILLOVER", "2,A,B,1,0.1,0,1"), ("ÜNICODE", "µ value")]
        let writer = try HDF5EventWriter(path: path, channelNames: ["FSC-A", "FITC-A", "Time"], markers: [nil, "cyKappa", nil], keywords: keywords, chunkRows: 3)
        var block = EventBlock<Float>(channelCount: 3, capacity: 7)
        block.setCount(7)
        for e in 0..<7 { for c in 0..<3 { block[c, e] = Float(e * 10 + c) + 0.25 } }
        try writer.append(block)
        try writer.finish()
        let file = try HDF5EventFile(path: path)
        #expect(file.eventCount == 7 && file.channels == ["FSC-A", "FITC-A", "Time"] && file.markers == [nil, "cyKappa", nil])
        #expect(Dictionary(uniqueKeysWithValues: file.keywords) == Dictionary(uniqueKeysWithValues: keywords))
        var read = EventBlock<Float>(channelCount: 3, capacity: 4)
        try file.read(first: 4, into: &read)
        #expect(read.count == 3 && read.firstEvent == 4)
        for e in 0..<3 { for c in 0..<3 { #expect(read[c, e] == Float((e + 4) * 10 + c) + 0.25) } }
    }

    @Test("a non-HDF5 file and a truncated HDF5 file are typed errors naming the file")
    func badFiles() throws {
        let text = directory.path("t.h5")
        #expect(FileManager.default.createFile(atPath: text, contents: Data("not hdf5".utf8)))
        #expect { try HDF5EventFile(path: text) } throws: { ($0 as? HDF5Error)?.file == text }
        let good = directory.path("g.h5")
        let writer = try HDF5EventWriter(path: good, channelNames: ["A"], markers: [nil])
        var block = EventBlock<Float>(channelCount: 1, capacity: 1000)
        block.setCount(1000)
        try writer.append(block)
        try writer.finish()
        let data = try #require(FileManager.default.contents(atPath: good))
        let cut = directory.path("cut.h5")
        #expect(FileManager.default.createFile(atPath: cut, contents: data.prefix(data.count / 2)))
        #expect { try HDF5EventFile(path: cut) } throws: { ($0 as? HDF5Error)?.file == cut }
    }
}

@Suite("FCS ⇄ HDF5 conversion")
struct ConversionTests {
    let directory = TemporaryDirectory()

    @Test("FCS → HDF5 → FCS gives identical values and keywords")
    func roundTrip() throws {
        let original = directory.path("o.fcs")
        let channels = [FCSChannelDescription(name: "FSC-A", range: 262_144), FCSChannelDescription(name: "FITC-A", marker: "cyKappa", range: 262_144),
                        FCSChannelDescription(name: "PE-A", marker: "cyLambda", range: 1024)]
        var keywords = DataSetKeywords()
        keywords["$CYT"] = "Test cytometer"
        keywords["LAB KEYWORD"] = "value / with delimiter"
        let spillover = try SpilloverMatrix(channels: ["FITC-A", "PE-A"], values: [1, 0.12, 0.03, 1])
        let writer = try FCSWriter(path: original, channels: channels, eventCount: 40_000, keywords: keywords, spillover: spillover, durable: false)
        var block = EventBlock<Float>(channelCount: 3, capacity: 40_000)
        block.setCount(40_000)
        for e in 0..<40_000 { for c in 0..<3 { block[c, e] = Float((e * 7 + c * 13) % 5000) - 100.5 } }
        try writer.append(block)
        try writer.finish()

        let h5 = directory.path("o.h5"), back = directory.path("back.fcs")
        #expect(try HDF5Conversion.fcsToHDF5(fcsPath: original, hdf5Path: h5) == HDF5Conversion.Summary(events: 40_000, warnings: []))
        #expect(try HDF5Conversion.hdf5ToFCS(hdf5Path: h5, fcsPath: back).events == 40_000)
        let a = try FCSFile(path: original).dataSets[0], b = try FCSFile(path: back).dataSets[0]
        #expect(a.channels.map(\.name) == b.channels.map(\.name) && a.channels.map(\.marker) == b.channels.map(\.marker))
        #expect(a.channels.map(\.range) == b.channels.map(\.range))
        let structural: Set<String> = ["$BEGINDATA", "$ENDDATA", "$BEGINTEXT", "$ENDTEXT"]
        let ka = a.keywords.filter { !structural.contains($0.key.uppercased()) }.map { "\($0.key)=\($0.value)" }.sorted()
        let kb = b.keywords.filter { !structural.contains($0.key.uppercased()) }.map { "\($0.key)=\($0.value)" }.sorted()
        #expect(ka == kb)
        #expect(try a.spillover.get() == b.spillover.get())
        var ra = try FCSFile(path: original).reader(), rb = try FCSFile(path: back).reader()
        var x = ra.makeBlock(of: Float.self), y = rb.makeBlock(of: Float.self)
        while try ra.next(into: &x) {
            _ = try rb.next(into: &y)
            for c in 0..<3 { #expect(x.column(c) == y.column(c)) }
        }
    }
}

/// Whether python3 with h5py is available (make test installs it from PyPI).
enum PythonH5py {
    static let available = Python.hasModule("h5py")
    static let skipMessage = "python3 with h5py is not installed (make test installs it): the h5py interoperability test is skipped"
}

@Suite("HDF5 files read by h5py", .enabled(if: PythonH5py.available, Comment(rawValue: PythonH5py.skipMessage)))
struct H5pyInteroperabilityTests {
    let directory = TemporaryDirectory()

    @Test("h5py finds the matrix, its shape and values, the channel names, markers and keywords")
    func h5py() throws {
        let path = directory.path("py.h5")
        let writer = try HDF5EventWriter(path: path, channelNames: ["FSC-A", "FITC-A"], markers: [nil, "cyKappa"], keywords: [("$CYT", "Test"), ("$TOT", "5")])
        var block = EventBlock<Float>(channelCount: 2, capacity: 5)
        block.setCount(5)
        for e in 0..<5 { block[0, e] = Float(e) + 0.5; block[1, e] = -Float(e) }
        try writer.append(block)
        try writer.finish()
        let script = """
        import h5py, json, sys
        f = h5py.File(sys.argv[1], "r")
        x = f["events"]
        print(json.dumps({"shape": list(x.shape), "dtype": str(x.dtype), "sum0": float(x[:, 0].sum()), "sum1": float(x[:, 1].sum()),
                          "channels": [c.decode() if isinstance(c, bytes) else c for c in f["channels"][()]],
                          "markers": [c.decode() if isinstance(c, bytes) else c for c in f["markers"][()]],
                          "cyt": f["keywords"].attrs["$CYT"]}))
        """
        let run = try Python.run(["-c", script, path])
        try #require(run.status == 0, "\(run.stderr)")
        let result = try JSONSerialization.jsonObject(with: run.stdout) as! [String: Any]
        #expect(result["shape"] as? [Int] == [5, 2])
        #expect(result["dtype"] as? String == "float32")
        #expect(result["sum0"] as? Double == 12.5 && result["sum1"] as? Double == -10)
        #expect(result["channels"] as? [String] == ["FSC-A", "FITC-A"])
        #expect(result["markers"] as? [String] == ["", "cyKappa"])
        #expect(result["cyt"] as? String == "Test")
    }
}

@Suite("Lying HDF5 stores", .enabled(if: PythonH5py.available, Comment(rawValue: PythonH5py.skipMessage)))
struct LyingHDF5Tests {
    let directory = TemporaryDirectory()

    /// A store written by h5py whose /events matrix claims `rows` × 2 (chunked, nothing written: the file stays small).
    func store(rows: String, channels: Int = 2) throws -> String {
        let path = directory.path("lying-\(rows).h5")
        let script = """
        import h5py, sys
        f = h5py.File(sys.argv[1], "w")
        f.create_dataset("events", shape=(\(rows), \(channels)), dtype="f4", chunks=(1024, \(channels)), maxshape=(None, \(channels)))
        f.create_dataset("channels", data=["FSC-A", "SSC-A"][:\(channels)] + ["X"] * max(0, \(channels) - 2), dtype=h5py.string_dtype())
        f.create_dataset("markers", data=[""] * \(channels), dtype=h5py.string_dtype())
        f.create_group("keywords")
        f.close()
        """
        let run = try Python.run(["-c", script, path])
        #expect(run.status == 0, "\(run.stderr)")
        return path
    }

    @Test("an event count beyond any acquisition is a typed error naming the file, before anything is allocated")
    func hugeEventCount() throws {
        let path = try store(rows: "2**40")
        #expect { try HDF5EventFile(path: path) } throws: { error in
            "\(error)".contains(path) && "\(error)".contains("dimensions 1099511627776 × 2 are outside 0…2147483647 events × 1…4096 channels")
        }
    }

    @Test("a matrix that claims more events than were written: a typed error naming the file and rows, not fill values or a crash")
    func unwrittenChunks() throws {
        let path = try store(rows: "5000")
        let file = try HDF5EventFile(path: path)
        #expect(file.eventCount == 5000)
        let reader = try file.eventReader(dataSet: 0, blockSize: 4096)
        var block = reader.makeBlock(of: Float.self)
        var buffer: [UInt8] = []
        #expect { try reader.readBlock(1, into: &block, buffer: &buffer) } throws: { error in
            "\(error)".hasPrefix("\(path): read rows 4096-4999 failed") && "\(error)".contains("storage is not initialized")
        }
    }
}
