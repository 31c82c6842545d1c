import EventCore
import Foundation
import TestSupport
import Testing
@testable import FCS

@Suite("FCS reader rules")
struct ReaderTests {
    let directory = TemporaryDirectory()

    @Test("integer values, little- and big-endian, across block boundaries")
    func integersBothOrders() throws {
        for order in ["1,2,3,4", "4,3,2,1", "1,2", "2,1"] {
            let path = FCSBuilder.integers(events: 7, channels: 3, byteOrder: order).write(to: directory)
            let rows = try readAll(path, blockSize: 3)
            #expect(rows.count == 7)
            #expect(rows == (0..<7).map { e in (0..<3).map { Double(10 * e + $0) } }, "byte order \(order)")
        }
    }

    @Test("bits above $PnR are masked off: next power of two at or above the range")
    func masking() throws {
        for (range, expectedMask) in [(1024, 1023), (1000, 1023), (1025, 2047), (65536, 65535)] {
            var builder = FCSBuilder.integers(events: 1, channels: 1, range: range)
            builder.data = [0xFF, 0xFF]
            let rows = try readAll(builder.write(to: directory))
            #expect(rows == [[Double(expectedMask)]], "range \(range)")
        }
        #expect(integerMask(range: nil, width: 2) == 0xFFFF)
        #expect(integerMask(range: 1_048_576, width: 4) == 1_048_575)
    }

    @Test("keywords are case-insensitive; values keep their case")
    func caseInsensitiveKeywords() throws {
        var builder = FCSBuilder.integers(events: 2, channels: 1)
        builder.keywords = builder.keywords.map { ($0.0.lowercased(), $0.1) } + [("$CYT", "MyCytometer")]
        let file = try FCSFile(path: builder.write(to: directory))
        let set = try file.dataSet()
        #expect(set.eventCount == 2)
        #expect(set.keywords["$Tot"] == "2")
        #expect(set.cytometer == "MyCytometer")
    }

    @Test("TEXT: escaped delimiters, empty values, any delimiter, missing final delimiter")
    func textRules() throws {
        let parser = TextSegmentParser(path: "t.fcs", segmentOffset: 58)
        let escaped = try parser.parsePrimary(Array("/$P3F/488//10/$P3S//$P4S/CD4/".utf8))
        #expect(escaped.pairs.map(\.0) == ["$P3F", "$P3S", "$P4S"])
        #expect(escaped.pairs.map(\.1) == ["488/10", "", "CD4"])
        #expect(escaped.warnings.map(\.code) == [.textRepaired])

        let formFeed = try parser.parsePrimary([0x0C] + Array("$A".utf8) + [0x0C] + Array("x|y".utf8) + [0x0C])
        #expect(formFeed.pairs.map(\.1) == ["x|y"])
        #expect(formFeed.delimiter == 0x0C)

        let unterminated = try parser.parsePrimary(Array("|$A|1|$B|2".utf8))
        #expect(unterminated.pairs.map(\.1) == ["1", "2"])
        #expect(unterminated.warnings.contains { $0.code == .textRepaired && $0.message.contains("$B") })

        let strayEnd = try parser.parsePrimary(Array("/$A/1//   ".utf8))
        #expect(strayEnd.pairs.map(\.1) == ["1"])
    }

    @Test("HEADER offsets blank: TEXT $BEGINDATA/$ENDDATA are used, with no warning")
    func blankHeaderOffsets() throws {
        var builder = FCSBuilder.integers(events: 4)
        builder.headerDataBegin = ""
        builder.headerDataEnd = ""
        let file = try FCSFile(path: builder.write(to: directory))
        #expect(try file.dataSet().warnings.isEmpty)
        #expect(try readAll(file.path).count == 4)
    }

    @Test("HEADER data start inside TEXT: rejected, TEXT used, reported")
    func headerInsideText() throws {
        var builder = FCSBuilder.integers(events: 4)
        builder.headerDataBegin = "60"
        let file = try FCSFile(path: builder.write(to: directory))
        let warnings = try file.dataSet().warnings
        #expect(warnings.contains { $0.code == .dataOffsetRejected && $0.message.contains("HEADER says bytes 60-") })
        #expect(try readAll(file.path)[3] == [30, 31])
    }

    @Test("TEXT data start inside TEXT: HEADER used, reported (Accuri rule)")
    func textInsideText() throws {
        var builder = FCSBuilder.integers(events: 4)
        builder.textDataOffsets = ("0000000070", "0000000085")
        let file = try FCSFile(path: builder.write(to: directory))
        #expect(try file.dataSet().warnings.contains { $0.code == .dataOffsetRejected && $0.message.contains("TEXT says bytes 70-85") })
        #expect(try readAll(file.path)[3] == [30, 31])
    }

    @Test("HEADER and TEXT both plausible but different: HEADER wins, both values named")
    func disagreement() throws {
        var builder = FCSBuilder.integers(events: 4)
        builder.data = [UInt8](repeating: 0, count: 4) + builder.data  // TEXT offsets will point 4 bytes early
        let bytes = builder.bytes()
        // Move the HEADER's data begin 4 bytes later: the real events.
        let text = String(decoding: bytes[26..<34], as: UTF8.self).trimmingCharacters(in: .whitespaces)
        builder.headerDataBegin = String(Int(text)! + 4)
        let file = try FCSFile(path: builder.write(to: directory))
        let warning = try #require(try file.dataSet().warnings.first { $0.code == .dataOffsetDisagreement })
        #expect(warning.message.contains("HEADER says bytes \(Int(text)! + 4)-"))
        #expect(warning.message.contains("TEXT says bytes \(text)-"))
        let expected: [[Double]] = [[0, 1], [10, 11], [20, 21], [30, 31]]
        #expect(try readAll(file.path) == expected)
    }

    @Test("data end one byte past the events: read $TOT events and report the repair")
    func offByOneEnd() throws {
        var builder = FCSBuilder.integers(events: 4)
        builder.data.append(0)  // $TOT stays 4
        let file = try FCSFile(path: builder.write(to: directory))
        let warning = try #require(try file.dataSet().warnings.first { $0.code == .dataEndMismatch })
        #expect(warning.message.contains("$TOT=4 × 4 bytes = 16 bytes"))
        #expect(try readAll(file.path).count == 4)
    }

    @Test("offsets beyond 99,999,999 bytes: HEADER 0, TEXT carries them (sparse 100 MB file)")
    func largeOffsets() throws {
        let events = 3
        var builder = FCSBuilder.integers(events: events, channels: 2)
        let dataBegin = 100_000_123
        builder.textDataOffsets = (String(dataBegin), String(dataBegin + 4 * events - 1))
        builder.headerDataBegin = "0"
        builder.headerDataEnd = "0"
        let data = builder.data
        builder.data = []
        let path = directory.path("large.fcs")
        #expect(FileManager.default.createFile(atPath: path, contents: Data(builder.bytes())))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seek(toOffset: UInt64(dataBegin))
        try handle.write(contentsOf: Data(data))
        try handle.close()
        let file = try FCSFile(path: path)
        #expect(try file.dataSet().dataBegin == dataBegin)
        #expect(try readAll(path) == [[0, 1], [10, 11], [20, 21]])
    }

    @Test("mixed widths 8/16/32 and 24-bit big-endian integers")
    func mixedWidths() throws {
        let keywords: [(String, String)] = [
            ("$BYTEORD", "4,3,2,1"), ("$DATATYPE", "I"), ("$PAR", "4"), ("$TOT", "2"), ("$MODE", "L"),
            ("$P1B", "8"), ("$P1R", "256"), ("$P1E", "0,0"), ("$P1N", "A"),
            ("$P2B", "16"), ("$P2R", "65536"), ("$P2E", "0,0"), ("$P2N", "B"),
            ("$P3B", "24"), ("$P3R", "16777216"), ("$P3E", "0,0"), ("$P3N", "C"),
            ("$P4B", "32"), ("$P4R", "4294967296"), ("$P4E", "0,0"), ("$P4N", "D"),
        ]
        let event1: [UInt8] = [7, 0x01, 0x02, 0x01, 0x02, 0x03, 0xFF, 0xFF, 0xFF, 0xFE]
        let event2: [UInt8] = [255, 0xFF, 0xFF, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01]
        let data = event1 + event2
        let path = FCSBuilder(keywords: keywords, data: data).write(to: directory)
        #expect(try readAll(path) == [[7, 258, 66051, 4_294_967_294], [255, 65535, 1, 1]])
        #expect(try FCSFile(path: path).dataSet().requiresDoublePrecision)
    }

    @Test("float, double and ASCII data")
    func otherTypes() throws {
        func file(_ type: String, bits: Int, order: String, data: [UInt8]) -> String {
            FCSBuilder(keywords: [("$BYTEORD", order), ("$DATATYPE", type), ("$PAR", "1"), ("$TOT", "2"),
                                  ("$P1B", String(bits)), ("$P1R", "1024"), ("$P1E", "0,0"), ("$P1N", "X")],
                       data: data).write(to: directory, name: "\(type)\(order).fcs")
        }
        let floatsLE = [Float(1.5), -2.25].flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }
        let floatsBE = [Float(1.5), -2.25].flatMap { withUnsafeBytes(of: $0.bitPattern.bigEndian, Array.init) }
        let doubles = [1e-300, 123456789.123456789].flatMap { withUnsafeBytes(of: $0.bitPattern.bigEndian, Array.init) }
        #expect(try readAll(file("F", bits: 32, order: "1,2,3,4", data: floatsLE)) == [[1.5], [-2.25]])
        #expect(try readAll(file("F", bits: 32, order: "4,3,2,1", data: floatsBE)) == [[1.5], [-2.25]])
        #expect(try readAll(file("D", bits: 64, order: "4,3,2,1", data: doubles)) == [[1e-300], [123456789.123456789]])
        #expect(try readAll(file("A", bits: 5, order: "1,2,3,4", data: Array("  12 01023".utf8))) == [[12], [1023]])
        // A mixed order applies to 4-byte values: 3,4,1,2 stores bytes 2,3,0,1 of the little-endian value.
        let value: UInt32 = 0x0A0B0C0D
        let mixed: [UInt8] = [0x0B, 0x0A, 0x0D, 0x0C]
        let path = FCSBuilder(keywords: [("$BYTEORD", "3,4,1,2"), ("$DATATYPE", "I"), ("$PAR", "1"), ("$TOT", "1"),
                                         ("$P1B", "32"), ("$P1R", "4294967296"), ("$P1E", "0,0"), ("$P1N", "X")],
                              data: mixed).write(to: directory, name: "mixed.fcs")
        #expect(try readAll(path) == [[Double(value)]])
    }

    @Test("$PnE and $PnG scaling; $PnE ignored on float data with a warning")
    func scaling() throws {
        var builder = FCSBuilder.integers(events: 1, channels: 2, range: 1024)
        builder.keywords = builder.keywords.map { key, value in
            key == "$P1E" ? (key, "4,1") : key == "$P2E" ? (key, "0,0") : (key, value)
        } + [("$P2G", "2")]
        builder.data = [0x00, 0x02, 0x64, 0x00]  // 512, 100
        let path = builder.write(to: directory)
        let scaled = try readAll(path, values: .scaled)
        #expect(abs(scaled[0][0] - 100) < 1e-9)  // 10^(4·512/1024)
        #expect(scaled[0][1] == 50)
        #expect(try readAll(path, values: .raw) == [[512, 100]])

        let floats = FCSBuilder(keywords: [("$BYTEORD", "1,2,3,4"), ("$DATATYPE", "F"), ("$PAR", "1"), ("$TOT", "1"),
                                           ("$P1B", "32"), ("$P1R", "1024"), ("$P1E", "4,1"), ("$P1N", "X")],
                                data: withUnsafeBytes(of: Float(8).bitPattern.littleEndian, Array.init))
            .write(to: directory, name: "floatlog.fcs")
        #expect(try readAll(floats, values: .scaled) == [[8]])
        #expect(try FCSFile(path: floats).dataSet().warnings.contains { $0.code == .amplificationIgnored })
    }

    @Test("$NEXTDATA chains: data sets listed, chosen by index; loops and overruns end the chain with a warning")
    func multipleDataSets() throws {
        let first = FCSBuilder.integers(events: 2, channels: 1)
        var second = FCSBuilder.integers(events: 3, channels: 1)
        second.version = "FCS3.1"
        let firstBytes = first.bytes()
        var withNext = first
        withNext.keywords = first.keywords.map { $0.0 == "$NEXTDATA" ? ($0.0, String(firstBytes.count + 0)) : $0 }
        // The NEXTDATA value has the same length as before? Recompute until stable.
        var bytes = withNext.bytes()
        withNext.keywords = first.keywords.map { $0.0 == "$NEXTDATA" ? ($0.0, String(bytes.count)) : $0 }
        bytes = withNext.bytes()
        let path = directory.path("multi.fcs")
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes + second.bytes())))
        let file = try FCSFile(path: path)
        #expect(file.dataSets.count == 2)
        #expect(file.dataSets.map(\.eventCount) == [2, 3])
        #expect(file.defaultDataSetIndex == 1)
        #expect(try readAll(path, dataSet: 0) == [[0], [10]])
        #expect(try readAll(path, dataSet: 1) == [[0], [10], [20]])
        #expect(throws: FCSError(file: path, .noSuchDataSet(index: 2, count: 2))) { try file.dataSet(2) }

        var looping = first
        looping.keywords = first.keywords.map { $0.0 == "$NEXTDATA" ? ($0.0, "0000000000") : $0 }
        looping.keywords = looping.keywords.map { $0.0 == "$NEXTDATA" ? ($0.0, "1") : $0 }
        let pastEnd = try FCSFile(path: looping.write(to: directory, name: "loop.fcs"))
        #expect(pastEnd.dataSets.count == 1)
        #expect(pastEnd.warnings.contains { $0.message.contains("$NEXTDATA") })
    }

    @Test("truncated data: typed error with counts, or the complete events when partial reading is asked for")
    func partialReading() throws {
        var builder = FCSBuilder.integers(events: 10, channels: 2)
        builder.truncateBy = 7  // 10 events × 4 bytes − 7 → 8 complete events
        let path = builder.write(to: directory)
        let error = try #require(openError(path))
        guard case .truncatedData(let expected, let complete, _, _) = error.reason else {
            Issue.record("wrong error \(error)")
            return
        }
        #expect(expected == 10 && complete == 8)
        #expect(error.description.contains(path) && error.description.contains("holds only 8 complete events"))
        let file = try FCSFile(path: path, options: ReadOptions(allowPartialData: true))
        #expect(try file.dataSet().eventCount == 8)
        #expect(try file.dataSet().warnings.contains { $0.code == .partialData && $0.message.contains("read 8") })
    }

    @Test("spillover: names, parameter numbers, $COMP, $DFCiTOj; names without values ignored with a warning")
    func spilloverForms() throws {
        func spill(_ extra: [(String, String)]) throws -> (SpilloverMatrix?, [ReadWarning]) {
            var builder = FCSBuilder.integers(events: 1, channels: 3)
            builder.keywords = builder.keywords.map { $0.0 == "$P2N" ? ($0.0, "FL1 Log") : $0.0 == "$P3N" ? ($0.0, "FL2 Log") : $0 } + extra
            let set = try FCSFile(path: builder.write(to: directory)).dataSet()
            return (try set.spillover.get(), set.warnings)
        }
        let named = try #require(try spill([("$SPILLOVER", "2,FL1 Log,FL2 Log,1,0.1,0.02,1")]).0)
        #expect(named.channels == ["FL1 Log", "FL2 Log"] && named.values == [1, 0.1, 0.02, 1] && named.source == .spillover)
        let numbered = try #require(try spill([("SPILL", "2,2,3,1,0.5,0,1")]).0)
        #expect(numbered.channels == ["FL1 Log", "FL2 Log"] && numbered[0, 1] == 0.5)
        let comp = try #require(try spill([("$COMP", "2,1,0.25,0,1")]).0)
        #expect(comp.channels == ["CH1", "FL1 Log"] && comp[0, 1] == 0.25 && comp.source == .comp)
        let dfc = try #require(try spill([("$DFC1TO2", "11.20"), ("$DFC2TO1", "0.90"), ("$DFC1TO3", "5")]).0)
        #expect(dfc.channels == ["FL1 Log", "FL2 Log"] && dfc.source == .dfc)
        #expect(zip(dfc.values, [1, 0.112, 0.009, 1]).allSatisfy { abs($0 - $1) < 1e-15 })
        let namesOnly = try spill([("$SPILLOVER", "2,FL1 Log,FL2 Log")])
        #expect(namesOnly.0 == nil && namesOnly.1.contains { $0.code == .spilloverIgnored })
    }
    @Test("a reader's blocks have padded columns (no two start the same distance into a 4 KiB page), and read the values an exact-size block reads")
    func paddedBlocks() throws {
        // 14 float32 channels, three blocks of 4,096 and a short one: the AVX2 decoder's layout.
        let channels = (0..<14).map { FCSChannelDescription(name: "C\($0)") }
        let events = 3 * 4_096 + 5
        let path = directory.path("padded.fcs")
        let writer = try FCSWriter(path: path, channels: channels, eventCount: events)
        var source = EventBlock<Float>(channelCount: 14, capacity: events)
        source.setCount(events)
        for e in 0..<events { for c in 0..<14 { source[c, e] = Float(e * 14 + c) * 0.37 - 900 } }
        try writer.append(source)
        try writer.finish()

        var padded = try FCSFile(path: path).reader(blockSize: 4_096)
        var exact = try FCSFile(path: path).reader(blockSize: 4_096)
        var block = padded.makeBlock(of: Double.self)
        var reference = EventBlock<Double>(channelCount: 14, capacity: 4_096)
        #expect(block.capacity == 4_096 + ColumnPadding.spare)
        // Column starts, in bytes, modulo a page: all different for Double columns and for mask bytes.
        #expect(Set((0..<14).map { $0 * block.capacity * 8 % 4_096 }).count == 14)
        #expect(Set((0..<14).map { $0 * block.capacity % 4_096 }).count == 14)
        var blocks = 0, mismatches = 0
        while try padded.next(into: &block) {
            #expect(try exact.next(into: &reference))
            #expect(block.count == reference.count && block.firstEvent == reference.firstEvent)
            for c in 0..<14 { for e in 0..<block.count where block[c, e].bitPattern != reference[c, e].bitPattern { mismatches += 1 } }
            blocks += 1
        }
        #expect(blocks == 4 && mismatches == 0)
    }
}

@Suite("Channel naming")
struct ChannelNamingTests {
    let directory = TemporaryDirectory()

    @Test("duplicate $PnN names get unique names, are reported, and lookups by the bare name refuse to guess")
    func duplicateNames() throws {
        var builder = FCSBuilder.integers(events: 2, channels: 3)
        builder.keywords = builder.keywords.map { $0.0 == "$P3N" ? ($0.0, "CH1") : $0 } + [("$P1S", "CD45 "), ("$P2S", "  ")]
        let set = try FCSFile(path: builder.write(to: directory)).dataSet()
        #expect(set.channels.map(\.uniqueName) == ["CH1 [P1]", "CH2", "CH1 [P3]"])
        #expect(set.channels.map(\.marker) == ["CD45", nil, nil])
        #expect(set.warnings.contains { $0.code == .duplicateChannelName && $0.message.contains("CH1") })
        #expect(set.channelIndex(named: "CH1") == nil)
        #expect(set.channelIndex(named: "CH1 [P3]") == 2)
        #expect(set.channelIndex(named: "ch2") == 1)
    }

}
