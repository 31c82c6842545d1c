import EventCore
import Foundation
import TestSupport
@testable import FCS

/// Builds FCS files byte by byte, so tests can break one rule at a time.
struct FCSBuilder {
    var version = "FCS3.0"
    var delimiter: UInt8 = UInt8(ascii: "/")
    /// Keywords in order; $BEGINDATA/$ENDDATA are added with the true offsets unless `textDataOffsets` is set.
    var keywords: [(String, String)]
    var data: [UInt8]
    /// Overrides for HEADER fields (as 8-character strings, already padded or not).
    var headerDataBegin: String?
    var headerDataEnd: String?
    var headerTextEnd: String?
    /// Overrides for $BEGINDATA/$ENDDATA values; nil writes the true offsets.
    var textDataOffsets: (String, String)?
    var omitTextDataOffsets = false
    /// Raw TEXT bytes to use instead of encoding `keywords`.
    var rawText: [UInt8]?
    /// Bytes to cut from the end of the finished file.
    var truncateBy = 0

    /// A small valid FCS 3.0 integer file: `channels` 16-bit channels, events with value = 10·event + channel.
    static func integers(events: Int, channels: Int = 2, range: Int = 1024, byteOrder: String = "1,2,3,4") -> FCSBuilder {
        var keywords: [(String, String)] = [
            ("$BYTEORD", byteOrder), ("$DATATYPE", "I"), ("$MODE", "L"), ("$NEXTDATA", "0"),
            ("$PAR", String(channels)), ("$TOT", String(events)),
        ]
        for c in 1...channels {
            keywords += [("$P\(c)N", "CH\(c)"), ("$P\(c)B", "16"), ("$P\(c)E", "0,0"), ("$P\(c)R", String(range))]
        }
        var data: [UInt8] = []
        let bigEndian = byteOrder.hasPrefix("2") || byteOrder.hasPrefix("4")
        for e in 0..<events {
            for c in 0..<channels {
                let value = UInt16(truncatingIfNeeded: 10 * e + c)
                data += bigEndian ? [UInt8(value >> 8), UInt8(value & 0xFF)] : [UInt8(value & 0xFF), UInt8(value >> 8)]
            }
        }
        return FCSBuilder(keywords: keywords, data: data)
    }

    func encodedText(beginData: Int, endData: Int) -> [UInt8] {
        if let rawText { return rawText }
        var pairs = keywords
        if !omitTextDataOffsets {
            let offsets = textDataOffsets ?? (String(beginData), String(endData))
            pairs = [("$BEGINDATA", offsets.0), ("$ENDDATA", offsets.1)] + pairs
        }
        var text: [UInt8] = [delimiter]
        for (key, value) in pairs {
            for byte in key.utf8 { text.append(byte); if byte == delimiter { text.append(byte) } }
            text.append(delimiter)
            for byte in value.utf8 { text.append(byte); if byte == delimiter { text.append(byte) } }
            text.append(delimiter)
        }
        return text
    }

    func bytes() -> [UInt8] {
        // Offsets are fixed-width in TEXT, so two passes settle them.
        var text = encodedText(beginData: 0, endData: 0)
        var dataBegin = 58 + text.count
        text = encodedText(beginData: dataBegin, endData: dataBegin + data.count - 1)
        dataBegin = 58 + text.count
        text = encodedText(beginData: dataBegin, endData: dataBegin + data.count - 1)
        dataBegin = 58 + text.count
        func field(_ s: String) -> String { String(repeating: " ", count: max(0, 8 - s.count)) + s }
        var header = version.padding(toLength: 10, withPad: " ", startingAt: 0)
        header += field("58") + field(headerTextEnd ?? String(58 + text.count - 1))
        header += field(headerDataBegin ?? String(dataBegin)) + field(headerDataEnd ?? String(dataBegin + data.count - 1))
        header += field("0") + field("0")
        var file = Array(header.utf8) + text + data
        file.removeLast(min(truncateBy, file.count))
        return file
    }

    /// Writes the file into `directory` and returns its path.
    func write(to directory: TemporaryDirectory, name: String = "built.fcs") -> String {
        let path = directory.path(name)
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes()))
        return path
    }
}

/// Opens a file and returns the error, failing the test if it opens.
func openError(_ path: String, options: ReadOptions = ReadOptions()) -> FCSError? {
    do {
        _ = try FCSFile(path: path, options: options)
        return nil
    } catch {
        return error
    }
}

/// Reads every event of the default data set as rows of Double.
func readAll(_ path: String, dataSet: Int? = nil, values: EventValues = .raw, blockSize: Int = 3) throws -> [[Double]] {
    let file = try FCSFile(path: path)
    var reader = try file.reader(dataSet: dataSet, blockSize: blockSize)
    reader.values = values
    var block = reader.makeBlock(of: Double.self)
    var rows: [[Double]] = []
    while try reader.next(into: &block) {
        for e in 0..<block.count { rows.append((0..<block.channelCount).map { block[$0, e] }) }
    }
    return rows
}
