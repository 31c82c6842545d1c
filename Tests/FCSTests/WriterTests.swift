import EventCore
import Foundation
import TestSupport
import Testing
@testable import FCS

@Suite("FCS 3.1 writer")
struct WriterTests {
    let directory = TemporaryDirectory()

    @Test("values, channels, markers, spillover and keywords read back identically")
    func roundTrip() throws {
        let channels = [
            FCSChannelDescription(name: "FSC-A", range: 262_144),
            FCSChannelDescription(name: "CD45 APC-H7-A", marker: "CD45", range: 262_144, extra: [("V", "450")]),
            FCSChannelDescription(name: "CD38|BV510-A", marker: "CD38 / multi-epitope", range: 262_144),
        ]
        var keywords = DataSetKeywords()
        keywords["$CYT"] = "FlowMRD test | cytometer"
        keywords["$DATE"] = "26-NOV-2026"
        keywords["@VENDOR KEY"] = "ümlaut / value with delimiters |/\\"
        keywords["$TOT"] = "999"  // structural: the writer's own value wins
        let spillover = try SpilloverMatrix(channels: ["CD45 APC-H7-A", "CD38|BV510-A"], values: [1, 0.125, 0.03, 1])
        let events = 70_001
        let path = directory.path("written.fcs")
        let writer = try FCSWriter(path: path, channels: channels, eventCount: events, keywords: keywords, spillover: spillover)
        var block = EventBlock<Float>(channelCount: 3, capacity: 4096)
        var expected: [[Float]] = []
        var next = 0
        while next < events {
            let n = min(block.capacity, events - next)
            block.setCount(n)
            for e in 0..<n {
                let i = Float(next + e)
                let row: [Float] = [i, -i * 0.5 + 0.25, sin(i) * 1e5]
                for c in 0..<3 { block[c, e] = row[c] }
                expected.append(row)
            }
            try writer.append(block)
            next += n
        }
        try writer.finish()

        let file = try FCSFile(path: path)
        let set = try file.dataSet()
        #expect(set.version == "FCS3.1" && set.dataType == .float && set.eventCount == events)
        #expect(set.warnings.isEmpty, "a file we write needs no repair: \(set.warnings)")
        #expect(set.channels.map(\.name) == channels.map(\.name))
        #expect(set.channels.map(\.marker) == [nil, "CD45", "CD38 / multi-epitope"])
        #expect(set.channels.map(\.range) == [262_144, 262_144, 262_144])
        #expect(set.keywords["$P2V"] == "450")
        #expect(try set.spillover.get() == SpilloverMatrix(channels: spillover.channels, values: spillover.values, source: .spillover))
        for entry in keywords.entries where entry.key != "$TOT" {
            #expect(set.keywords[entry.key] == entry.value, "keyword \(entry.key)")
        }
        #expect(set.keywords["$TOT"] == String(events))
        var reader = try file.reader(blockSize: 10_000)
        var readBlock = reader.makeBlock(of: Float.self)
        var row = 0
        var mismatches = 0
        while try reader.next(into: &readBlock) {
            for e in 0..<readBlock.count {
                for c in 0..<3 where readBlock[c, e].bitPattern != expected[row][c].bitPattern { mismatches += 1 }
                row += 1
            }
        }
        #expect(row == events && mismatches == 0)
    }

    @Test("a corpus file rewritten keeps every value and keyword", .enabled(if: SharedMaterial.isAvailable, Comment(rawValue: SharedMaterial.skipMessage)))
    func rewriteCorpusFile() throws {
        let source = try FCSFile(path: SharedMaterial.corpus!.appendingPathComponent("FlowCal/Data004.fcs").path)
        let set = try source.dataSet()
        let channels = set.channels.map { FCSChannelDescription(name: $0.name, marker: $0.marker, range: $0.range ?? 262_144) }
        let path = directory.path("rewritten.fcs")
        let writer = try FCSWriter(path: path, channels: channels, eventCount: set.eventCount, keywords: set.keywords,
                                   spillover: try set.spillover.get())
        var reader = try source.reader()
        var block = reader.makeBlock(of: Float.self)
        while try reader.next(into: &block) { try writer.append(block) }
        try writer.finish()

        let copy = try FCSFile(path: path).dataSet()
        for entry in set.keywords where !FCSWriter.isStructural(entry.key) && !entry.value.isEmpty {
            #expect(copy.keywords[entry.key] == entry.value, "keyword \(entry.key)")
        }
        #expect(try copy.spillover.get()?.values == set.spillover.get()?.values)
        let original = try DataSetDigest(file: source, dataSet: 0)
        let rewritten = try DataSetDigest(file: FCSFile(path: path), dataSet: 0)
        #expect(original.sums == rewritten.sums && original.first == rewritten.first && original.last == rewritten.last)
    }

    @Test("too few events: an error, and no file is left under the name")
    func incomplete() throws {
        let path = directory.path("short.fcs")
        let writer = try FCSWriter(path: path, channels: [FCSChannelDescription(name: "A")], eventCount: 10)
        var block = EventBlock<Float>(channelCount: 1, capacity: 4)
        block.setCount(4)
        try writer.append(block)
        #expect(throws: FCSError(file: path, .write("4 events written but $TOT announces 10; file not created"))) { try writer.finish() }
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.url.path).isEmpty, "no temporary file left behind")
    }

    @Test("a spillover naming a channel that is not written is refused")
    func spilloverChannelCheck() throws {
        let matrix = try SpilloverMatrix(channels: ["X"], values: [1])
        #expect(throws: FCSError.self) {
            _ = try FCSWriter(path: directory.path("x.fcs"), channels: [FCSChannelDescription(name: "A")], eventCount: 1, spillover: matrix)
        }
    }
}
