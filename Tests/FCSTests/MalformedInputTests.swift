import EventCore
import Foundation
import TestSupport
import Testing
@testable import FCS

/// Each case breaks one rule and asserts the exact error, and that its message names the file and the place.
@Suite("Malformed FCS input gives typed errors")
struct MalformedInputTests {
    let directory = TemporaryDirectory()

    func write(_ bytes: [UInt8], _ name: String = "bad.fcs") -> String {
        let path = directory.path(name)
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        return path
    }

    func withKeyword(_ key: String, _ value: String, events: Int = 2) -> FCSBuilder {
        var builder = FCSBuilder.integers(events: events, channels: 2)
        builder.keywords = builder.keywords.map { $0.0 == key ? ($0.0, value) : $0 }
        return builder
    }

    @Test("DATA whose length disagrees with $TOT × bytes per event beyond one byte is refused, naming both lengths; a partial read takes what fits")
    func lyingDataLength() throws {
        // $TOT halved while DATA holds every event (4 events of 2 × 16-bit integers = 16 bytes).
        let halved = withKeyword("$TOT", "2", events: 4).write(to: directory, name: "halved.fcs")
        guard case .dataLengthMismatch(16, 2, 4, let begin)? = openError(halved)?.reason else {
            Issue.record("\(String(describing: openError(halved)))")
            return
        }
        let message = openError(halved)!.description
        #expect(message.contains(halved) && message.contains("DATA from byte \(begin) is 16 bytes, but $TOT=2 events × 4 bytes per event ($PAR and $PnB) = 8 bytes")
                && message.contains("the segment holds 4 whole events"), "\(message)")
        let partial = try FCSFile(path: halved, options: ReadOptions(allowPartialData: true)).dataSet()
        #expect(partial.eventCount == 2 && partial.warnings.contains { $0.code == .partialData && $0.message.contains("read the 2 events that fit both") })
        // 16-bit data declared as 8-bit ($P1B=8): 4 events × (1 + 2) bytes = 12 bytes, DATA 16.
        let narrow = withKeyword("$P1B", "8", events: 4).write(to: directory, name: "narrow.fcs")
        guard case .dataLengthMismatch(16, 4, 3, _)? = openError(narrow)?.reason else {
            Issue.record("\(String(describing: openError(narrow)))")
            return
        }
        #expect(openError(narrow)!.description.contains("the segment is not a whole number of events"))
        // $PAR one more than the data holds: a third 16-bit channel that is not there.
        var extra = FCSBuilder.integers(events: 4, channels: 2)
        extra.keywords = extra.keywords.map { $0.0 == "$PAR" ? ($0.0, "3") : $0 } + [("$P3N", "CH3"), ("$P3B", "16"), ("$P3E", "0,0"), ("$P3R", "1024")]
        let extraPath = extra.write(to: directory, name: "extra.fcs")
        guard case .dataLengthMismatch(16, 4, 6, _)? = openError(extraPath)?.reason else {
            Issue.record("\(String(describing: openError(extraPath)))")
            return
        }
        // $PAR one fewer: a column of the data left undescribed.
        let fewer = withKeyword("$PAR", "1", events: 4).write(to: directory, name: "fewer.fcs")
        guard case .dataLengthMismatch(16, 4, 2, _)? = openError(fewer)?.reason else {
            Issue.record("\(String(describing: openError(fewer)))")
            return
        }
        // One byte too many at the end stays the documented repair (ReaderTests.offByOneEnd).
    }

    @Test("a control byte inside a keyword name is an error at its byte, not a silently unmatched keyword")
    func controlByteInKeyword() throws {
        var builder = FCSBuilder.integers(events: 2)
        builder.keywords.append(("$P1\u{0}S", "CD38"))
        let path = builder.write(to: directory, name: "nul.fcs")
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let at = try #require((0..<(bytes.count - 4)).first { Array(bytes[$0..<($0 + 4)]) == [0x24, 0x50, 0x31, 0x00] }) + 3
        guard case .malformedText(at, let detail)? = openError(path)?.reason else {
            Issue.record("\(String(describing: openError(path))) (NUL at byte \(at))")
            return
        }
        #expect(detail.hasSuffix("contains the control byte 0x00"), "\(detail)")
        // Blanks around a name (a newline between pairs) are still trimmed.
        var spaced = FCSBuilder.integers(events: 2)
        spaced.keywords.append(("\n$P1S", "CD38"))
        #expect(try FCSFile(path: spaced.write(to: directory, name: "spaced.fcs")).dataSet().channels[0].marker == "CD38")
    }

    @Test("a $BYTEORD that names fewer bytes than the values hold is refused; 3.1's four-byte forms and FCS 2.0's 1,2 on 16-bit data are read")
    func shortByteOrder() throws {
        var wide = FCSBuilder.integers(events: 2, channels: 2, byteOrder: "1,2,3")
        wide.keywords = wide.keywords.map { $0.0.hasSuffix("B") && $0.0.hasPrefix("$P") ? ($0.0, "32") : $0 }
        wide.data = [UInt8](repeating: 1, count: 16)
        let path = wide.write(to: directory, name: "byteorder.fcs")
        #expect(openError(path) == FCSError(file: path, .invalidKeyword(keyword: "$BYTEORD", value: "1,2,3", expected: "4 byte numbers for 32-bit values (or 1,2,3,4 / 4,3,2,1)")))
        let two = FCSBuilder.integers(events: 3, byteOrder: "1,2").write(to: directory, name: "two.fcs")
        #expect(try readAll(two) == [[0, 1], [10, 11], [20, 21]])
        let four = FCSBuilder.integers(events: 3, byteOrder: "4,3,2,1").write(to: directory, name: "four.fcs")
        #expect(try readAll(four) == [[0, 1], [10, 11], [20, 21]])
    }

    @Test("a file shorter than the HEADER")
    func tooShort() {
        let path = write(Array("FCS3.0    ".utf8))
        #expect(openError(path) == FCSError(file: path, .fileTooShort(size: 10)))
    }

    @Test("not an FCS file; an unknown version")
    func notFCS() {
        let gif = write(Array("GIF89a".utf8) + [UInt8](repeating: 0x20, count: 60), "gif.fcs")
        #expect(openError(gif) == FCSError(file: gif, .notFCS(found: "GIF89a")))
        var builder = FCSBuilder.integers(events: 1)
        builder.version = "FCS4.0"
        let future = builder.write(to: directory, name: "future.fcs")
        #expect(openError(future) == FCSError(file: future, .unsupportedVersion("FCS4.0")))
    }

    @Test("a HEADER offset that is not a number")
    func badHeaderField() {
        var builder = FCSBuilder.integers(events: 1)
        builder.headerDataBegin = "12x4"
        let path = builder.write(to: directory)
        #expect(openError(path) == FCSError(file: path, .badHeaderField(field: "DATA begin", byteOffset: 26, found: "    12x4")))
    }

    @Test("TEXT running past the end of the file")
    func textPastEnd() {
        var builder = FCSBuilder.integers(events: 1)
        builder.headerTextEnd = "99999"
        let path = builder.write(to: directory)
        let error = openError(path)
        guard case .segmentOutsideFile(let segment, 58, 99999, _)? = error?.reason else {
            Issue.record("wrong error \(String(describing: error))")
            return
        }
        #expect(segment == "TEXT")
        #expect(error!.description.contains(path) && error!.description.contains("bytes 58-99999"))
    }

    @Test("data offsets past the end: truncation, not garbage")
    func dataPastEnd() {
        var builder = FCSBuilder.integers(events: 3)
        builder.truncateBy = 12
        let path = builder.write(to: directory)
        guard case .truncatedData(3, 0, _, _)? = openError(path)?.reason else {
            Issue.record("wrong error \(String(describing: openError(path)))")
            return
        }
    }

    @Test("a file that shrinks after it was opened (a half-copied share, a copy still running) is a truncation error naming what is left, never stale or zero events")
    func shrinksWhileRead() throws {
        let builder = FCSBuilder.integers(events: 10)
        let path = builder.write(to: directory, name: "shrinking.fcs")
        let file = try FCSFile(path: path)
        var reader = try file.reader(blockSize: 4)
        var block = reader.makeBlock(of: Double.self)
        #expect(try reader.next(into: &block) && block.count == 4 && block[1, 3] == 31)
        // The copy is cut short after event 6 (each event 4 bytes) while the reader is between blocks.
        let dataBegin = file.fcsDataSets[0].dataBegin
        #expect(truncate(path, off_t(dataBegin + 6 * 4)) == 0)
        #expect { _ = try reader.next(into: &block) } throws: { error in
            (error as? FCSError) == FCSError(file: path, .truncatedData(expectedEvents: 10, completeEvents: 6, dataBegin: dataBegin, fileSize: dataBegin + 24))
        }
        // And deleting it entirely: the open descriptor still reads the data as it was, so nothing is misread.
        let second = builder.write(to: directory, name: "deleted.fcs")
        let opened = try FCSFile(path: second)
        #expect(unlink(second) == 0)
        var all = try opened.reader(blockSize: 4)
        var events = 0
        while try all.next(into: &block) { events += block.count }
        #expect(events == 10)
    }

    @Test("negative, absurd and non-numeric $PAR", arguments: ["-3", "0", "1000000000", "abc", ""])
    func badPar(_ value: String) {
        let path = withKeyword("$PAR", value).write(to: directory)
        let error = openError(path)
        if value.isEmpty {
            // An empty value is read as empty: still not a count.
            #expect(error?.reason == .invalidKeyword(keyword: "$PAR", value: "", expected: "a positive integer (1-10000)"))
        } else {
            #expect(error?.reason == .invalidKeyword(keyword: "$PAR", value: value, expected: "a positive integer (1-10000)"))
        }
        #expect(error?.description.contains("$PAR") == true && error?.file == path)
    }

    @Test("an absurd $TOT is checked against the file before anything is allocated")
    func absurdTot() {
        let absurd = withKeyword("$TOT", "900000000000000").write(to: directory, name: "absurd.fcs")
        guard case .invalidKeyword("$TOT", "900000000000000", _)? = openError(absurd)?.reason else {
            Issue.record("wrong error \(String(describing: openError(absurd)))")
            return
        }
        let path = withKeyword("$TOT", "90000000000").write(to: directory)
        guard case .dataLengthMismatch(8, 90_000_000_000, 4, _)? = openError(path)?.reason else {
            Issue.record("wrong error \(String(describing: openError(path)))")
            return
        }
        let negative = withKeyword("$TOT", "-5").write(to: directory, name: "neg.fcs")
        guard case .invalidKeyword("$TOT", "-5", _)? = openError(negative)?.reason else {
            Issue.record("wrong error \(String(describing: openError(negative)))")
            return
        }
    }

    @Test("bad $PnB", arguments: [("0", "a positive integer"), ("abc", "a positive integer"), ("1000", "at most 64 bits for integer data")])
    func badBits(_ value: String, _ expected: String) {
        let path = withKeyword("$P1B", value).write(to: directory)
        #expect(openError(path)?.reason == .invalidKeyword(keyword: "$P1B", value: value, expected: expected))
    }

    @Test("missing required keywords", arguments: ["$DATATYPE", "$BYTEORD", "$P2B", "$TOT"])
    func missing(_ key: String) {
        var builder = FCSBuilder.integers(events: 2)
        builder.keywords.removeAll { $0.0 == key }
        let path = builder.write(to: directory)
        #expect(openError(path) == FCSError(file: path, .missingKeyword(key)))
    }

    @Test("invalid $DATATYPE, $BYTEORD, $MODE")
    func invalidEnumerations() {
        let type = withKeyword("$DATATYPE", "Q").write(to: directory, name: "t.fcs")
        #expect(openError(type)?.reason == .invalidKeyword(keyword: "$DATATYPE", value: "Q", expected: "I, F, D or A"))
        let order = withKeyword("$BYTEORD", "1,1,2,3").write(to: directory, name: "o.fcs")
        #expect(openError(order)?.reason == .invalidKeyword(keyword: "$BYTEORD", value: "1,1,2,3", expected: "a permutation of 1..4"))
        let mode = withKeyword("$MODE", "C").write(to: directory, name: "m.fcs")
        guard case .invalidKeyword("$MODE", "C", _)? = openError(mode)?.reason else {
            Issue.record("wrong error for $MODE")
            return
        }
    }

    @Test("a delimiter that never closes")
    func delimiterNeverCloses() {
        var builder = FCSBuilder.integers(events: 1)
        builder.rawText = Array("/$PAR".utf8) + [UInt8](repeating: 0x41, count: 20)
        let path = builder.write(to: directory)
        guard case .malformedText(59, let detail)? = openError(path)?.reason else {
            Issue.record("wrong error \(String(describing: openError(path)))")
            return
        }
        #expect(detail.contains("never follows"))
    }

    @Test("a first TEXT byte that cannot be a delimiter")
    func badDelimiter() {
        var builder = FCSBuilder.integers(events: 1)
        builder.rawText = [0xF0] + Array("$PAR".utf8)
        let path = builder.write(to: directory)
        guard case .malformedText(58, let detail)? = openError(path)?.reason else {
            Issue.record("wrong error \(String(describing: openError(path)))")
            return
        }
        #expect(detail.contains("0xf0"))
    }

    @Test("spillover of the wrong size, unknown channel, non-numeric coefficient")
    func badSpillover() throws {
        func spilloverError(_ value: String) throws -> FCSError? {
            var builder = FCSBuilder.integers(events: 1, channels: 2)
            builder.keywords.append(("$SPILLOVER", value))
            let path = builder.write(to: directory)
            let set = try FCSFile(path: path).dataSet()  // events stay readable
            if case .failure(let error) = set.spillover { return error }
            return nil
        }
        let size = try spilloverError("2,CH1,CH2,1,0,0")
        #expect(size?.reason == .malformedSpillover(keyword: "$SPILLOVER", detail: "a 2 × 2 matrix needs 1 + 2 + 4 = 7 fields, found 6"))
        let unknown = try spilloverError("2,CH1,FL9,1,0,0,1")
        guard case .malformedSpillover(_, let detail)? = unknown?.reason else {
            Issue.record("no error for an unknown channel")
            return
        }
        #expect(detail.contains("\"FL9\""))
        let text = try spilloverError("2,CH1,CH2,1,x,0,1")
        #expect(text?.reason == .malformedSpillover(keyword: "$SPILLOVER", detail: "coefficient 2 is \"x\", not a number"))
        let huge = try spilloverError("99999999,CH1")
        guard case .malformedSpillover? = huge?.reason else {
            Issue.record("no error for an absurd size")
            return
        }
    }

    @Test("both data offsets inside TEXT")
    func noUsableOffsets() {
        var builder = FCSBuilder.integers(events: 1)
        builder.headerDataBegin = "60"
        builder.textDataOffsets = ("61", "64")
        let path = builder.write(to: directory)
        guard case .noDataOffsets(let detail)? = openError(path)?.reason else {
            Issue.record("wrong error \(String(describing: openError(path)))")
            return
        }
        #expect(detail.contains("HEADER says bytes 60-") && detail.contains("TEXT says bytes 61-64"))
    }

    @Test("a missing file and a directory")
    func notAFile() {
        let missing = directory.path("absent.fcs")
        guard case .io(let message)? = openError(missing)?.reason else {
            Issue.record("no error for a missing file")
            return
        }
        #expect(message.contains("cannot open"))
        guard case .io? = openError(directory.url.path)?.reason else {
            Issue.record("no error for a directory")
            return
        }
    }

    @Test("bit-packed 10-bit data is refused, not misread")
    func bitPacked() {
        var builder = FCSBuilder.integers(events: 8, channels: 1)
        builder.keywords = builder.keywords.map { $0.0 == "$P1B" ? ($0.0, "10") : $0 }
        builder.data = [UInt8](repeating: 0, count: 10)  // 8 × 10 bits
        let path = builder.write(to: directory)
        guard case .invalidKeyword("$P1B", "10", let expected)? = openError(path)?.reason else {
            Issue.record("wrong error \(String(describing: openError(path)))")
            return
        }
        #expect(expected.contains("bit-packed"))
    }
}

/// Extreme numbers in every keyword the reader computes with: each must give a typed error or a
/// repaired read, never an arithmetic trap.
@Suite("Extreme keyword values")
struct ExtremeKeywordTests {
    let directory = TemporaryDirectory()

    static let cases: [(String, String)] = [
        ("$BEGINDATA", "9223372036854775807"), ("$ENDDATA", "9223372036854775807"), ("$BEGINDATA", "-5"),
        ("$NEXTDATA", "9223372036854775807"), ("$NEXTDATA", "-9223372036854775808"), ("$NEXTDATA", "58"),
        ("$BEGINSTEXT", "9223372036854775800"), ("$ENDSTEXT", "9223372036854775807"),
        ("$TOT", "9223372036854775807"), ("$PAR", "9223372036854775807"), ("$P1B", "9223372036854775807"),
        ("$P1R", "1e308"), ("$P1R", "nan"), ("$P1R", "-3"), ("$P1E", "1e308,1"), ("$P1E", "nan,1"), ("$P1G", "inf"),
        ("$TIMESTEP", "1e-320"), ("$BYTEORD", "9223372036854775807,1"), ("$SPILLOVER", "9223372036854775807,CH1"),
        ("$SPILLOVER", "-1,CH1"), ("$COMP", "9223372036854775807"), ("$DFC1TO9223372036854775807", "5"),
    ]

    @Test("no trap on extreme values", arguments: cases)
    func extreme(_ key: String, _ value: String) throws {
        var builder = FCSBuilder.integers(events: 3, channels: 2)
        if builder.keywords.contains(where: { $0.0 == key }) {
            builder.keywords = builder.keywords.map { $0.0 == key ? ($0.0, value) : $0 }
        } else if key == "$BEGINDATA" || key == "$ENDDATA" {
            builder.textDataOffsets = key == "$BEGINDATA" ? (value, "0") : ("0", value)
            builder.headerDataBegin = "0"
            builder.headerDataEnd = "0"
        } else {
            builder.keywords.append((key, value))
        }
        let path = builder.write(to: directory)
        do {
            let file = try FCSFile(path: path)
            for index in file.dataSets.indices {
                var reader = try file.reader(dataSet: index)
                reader.values = .scaled
                var block = reader.makeBlock(of: Double.self)
                while try reader.next(into: &block) {}
            }
        } catch {
            #expect(error.file == path)
        }
    }
}
