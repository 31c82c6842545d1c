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
