import EventCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Describes one channel of a file to be written.
public struct FCSChannelDescription: Sendable, Equatable {
    /// $PnN.
    public var name: String
    /// $PnS (marker), written when not nil.
    public var marker: String?
    /// $PnR.
    public var range: Double
    /// Further $Pn keywords without the prefix, e.g. ["V": "450"] for $PnV. Structural ones ($PnB, $PnE) are ignored.
    public var extra: [(String, String)]

    public init(name: String, marker: String? = nil, range: Double = 262_144, extra: [(String, String)] = []) {
        self.name = name
        self.marker = marker
        self.range = range
        self.extra = extra
    }

    public static func == (lhs: FCSChannelDescription, rhs: FCSChannelDescription) -> Bool {
        lhs.name == rhs.name && lhs.marker == rhs.marker && lhs.range == rhs.range
            && lhs.extra.map(\.0) == rhs.extra.map(\.0) && lhs.extra.map(\.1) == rhs.extra.map(\.1)
    }
}

/// Writes an FCS 3.1 file of little-endian float32 events, streaming block by block.
///
/// The event count is fixed up front, so the TEXT segment (with $TOT and the
/// data offsets) is written first and events follow without buffering the file.
/// The file appears under its name only when ``finish()`` succeeds: it is written
/// to a temporary file beside it and renamed, so a failed or interrupted write
/// never leaves a half file under the final name.
///
/// Keywords: every caller keyword is written except the structural ones the
/// writer owns ($BEGINDATA, $TOT, $PAR, $PnB, $PnE, …); $PnN/$PnS/$PnR come from
/// the channel descriptions; a spillover matrix goes to $SPILLOVER.
/// Cost: one `write` per block; memory is one block's bytes.
public final class FCSWriter {
    public let path: String
    public let channels: [FCSChannelDescription]
    public let eventCount: Int
    private let temporaryPath: String
    private var descriptor: Int32
    private var written = 0
    private var finished = false
    private var encodeBuffer: [UInt8] = []
    private let durable: Bool

    /// Keywords the writer computes itself; callers' values for them are dropped.
    static func isStructural(_ key: String) -> Bool {
        let upper = key.uppercased()
        let fixed: Set<String> = ["$BEGINANALYSIS", "$ENDANALYSIS", "$BEGINDATA", "$ENDDATA", "$BEGINSTEXT", "$ENDSTEXT",
                                  "$BYTEORD", "$DATATYPE", "$MODE", "$NEXTDATA", "$PAR", "$TOT", "$SPILLOVER", "SPILL", "SPILLOVER"]
        if fixed.contains(upper) { return true }
        // $PnB, $PnE, $PnN, $PnS, $PnR, $PnG, $PnDATATYPE come from the descriptions.
        if upper.hasPrefix("$P"), let last = upper.last {
            let middle = upper.dropFirst(2).dropLast(upper.hasSuffix("DATATYPE") ? 8 : 1)
            if !middle.isEmpty, middle.allSatisfy(\.isNumber) {
                return upper.hasSuffix("DATATYPE") || "BENSRG".contains(last)
            }
        }
        return false
    }

    /// Starts writing `path`.
    /// - Parameters:
    ///   - keywords: further TEXT keywords ($CYT, $DATE, vendor keywords …) in the order to write them.
    ///   - spillover: written as $SPILLOVER; its channels must be among `channels`.
    ///   - durable: flush the file to disk (`fsync`) before moving it into place; scratch and
    ///     benchmark files can skip this, clinical outputs should not.
    public init(path: String, channels: [FCSChannelDescription], eventCount: Int,
                keywords: DataSetKeywords = DataSetKeywords(), spillover: SpilloverMatrix? = nil, durable: Bool = true) throws(FCSError) {
        self.durable = durable
        guard !channels.isEmpty else { throw FCSError(file: path, .write("a file needs at least one channel")) }
        guard eventCount >= 0 else { throw FCSError(file: path, .write("event count \(eventCount) is negative")) }
        if let spillover {
            for name in spillover.channels where !channels.contains(where: { $0.name == name }) {
                throw FCSError(file: path, .malformedSpillover(keyword: "$SPILLOVER", detail: "channel \(quoted(name)) is not among the channels written"))
            }
        }
        self.path = path
        self.channels = channels
        self.eventCount = eventCount
        self.temporaryPath = path + ".partial-\(getpid())"
        let fd = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw FCSError(file: path, .write("cannot create \(temporaryPath): \(String(cString: strerror(errno)))"))
        }
        self.descriptor = fd

        // TEXT: pairs in order, then the segment with offsets that depend on its own length.
        var pairs: [(String, String)] = [
            ("$BEGINANALYSIS", "0"), ("$ENDANALYSIS", "0"), ("$BEGINSTEXT", "0"), ("$ENDSTEXT", "0"),
            ("$BYTEORD", "1,2,3,4"), ("$DATATYPE", "F"), ("$MODE", "L"), ("$NEXTDATA", "0"),
            ("$PAR", String(channels.count)), ("$TOT", String(eventCount)),
        ]
        for (i, channel) in channels.enumerated() {
            let n = i + 1
            pairs.append(("$P\(n)N", channel.name))
            if let marker = channel.marker, !marker.isEmpty { pairs.append(("$P\(n)S", marker)) }
            pairs.append(("$P\(n)B", "32"))
            pairs.append(("$P\(n)E", "0,0"))
            pairs.append(("$P\(n)R", DataSetKeywords.value(of: channel.range)))
            for (suffix, value) in channel.extra where !Self.isStructural("$P\(n)\(suffix)") {
                pairs.append(("$P\(n)\(suffix)", value))
            }
        }
        if let spillover { pairs.append(("$SPILLOVER", spillover.keywordValue)) }
        // A spillover keyword passes through as written when no matrix is given (conversions keep
        // the vendor's own text); with a matrix, $SPILLOVER is written from it instead.
        let spilloverKeys: Set<String> = ["$SPILLOVER", "SPILL", "SPILLOVER"]
        for entry in keywords where !Self.isStructural(entry.key) || (spillover == nil && spilloverKeys.contains(entry.key.uppercased())) {
            pairs.append((entry.key, entry.value.isEmpty ? " " : entry.value))
        }
        let delimiter = Self.chooseDelimiter(pairs)
        let dataBytes = eventCount * 4 * channels.count
        // Offsets are written zero-padded to 20 digits, so the TEXT length does not depend on them.
        func pad(_ value: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, 20 - digits.count)) + digits
        }
        func encodeText(beginData: Int, endData: Int) -> [UInt8] {
            var text: [UInt8] = [delimiter]
            func append(_ s: String) {
                for byte in s.utf8 {
                    text.append(byte)
                    if byte == delimiter { text.append(byte) }
                }
                text.append(delimiter)
            }
            for (key, value) in [("$BEGINDATA", pad(beginData)), ("$ENDDATA", pad(endData))] + pairs {
                append(key)
                append(value)
            }
            return text
        }
        let textBegin = FCSHeader.length
        let textLength = encodeText(beginData: 0, endData: 0).count
        let textEnd = textBegin + textLength - 1
        let dataBegin = textEnd + 1
        let dataEnd = dataBytes > 0 ? dataBegin + dataBytes - 1 : dataBegin
        let text = encodeText(beginData: dataBegin, endData: dataEnd)
        func field(_ value: Int) -> String {
            let digits = value <= 99_999_999 ? String(value) : "0"
            return String(repeating: " ", count: 8 - digits.count) + digits
        }
        let fitsHeader = dataEnd <= 99_999_999
        var header = "FCS3.1    " + field(textBegin) + field(textEnd)
        header += fitsHeader ? field(dataBegin) + field(dataEnd) : field(0) + field(0)
        header += field(0) + field(0)
        do {
            try writeAll(Array(header.utf8))
            try writeAll(text)
        } catch {
            abandon()
            throw error
        }
    }

    deinit {
        if !finished { abandon() }
    }

    /// Picks a delimiter that occurs in no keyword or value, so nothing needs escaping.
    static func chooseDelimiter(_ pairs: [(String, String)]) -> UInt8 {
        let candidates: [UInt8] = [UInt8(ascii: "|"), UInt8(ascii: "/"), UInt8(ascii: "\\"), UInt8(ascii: "*"),
                                   UInt8(ascii: "!"), UInt8(ascii: "~"), UInt8(ascii: "^"), 0x0C]
        var used = Set<UInt8>()
        for (key, value) in pairs {
            used.formUnion(key.utf8)
            used.formUnion(value.utf8)
        }
        // A value starting with the delimiter would read as an empty value: prefer any unused byte.
        return candidates.first { !used.contains($0) } ?? UInt8(ascii: "|")
    }

    /// Appends the events of `block` (all its channels, in order).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func append<S: EventScalar>(_ block: EventBlock<S>) throws(FCSError) {
        guard block.channelCount == channels.count else {
            throw FCSError(file: path, .write("block has \(block.channelCount) channels; the file has \(channels.count)"))
        }
        guard written + block.count <= eventCount else {
            throw FCSError(file: path, .write("more events appended (\(written + block.count)) than announced in $TOT (\(eventCount))"))
        }
        let rowBytes = 4 * channels.count
        if encodeBuffer.count < block.count * rowBytes { encodeBuffer = [UInt8](repeating: 0, count: block.capacity * rowBytes) }
        let n = block.count, capacity = block.capacity
        encodeBuffer.withUnsafeMutableBytes { out in
            block.withUnsafeStorage { columns in
                for c in 0..<block.channelCount {
                    let column = columns + c * capacity
                    for e in 0..<n {
                        out.storeBytes(of: Float(column[e]).bitPattern.littleEndian, toByteOffset: e * rowBytes + c * 4, as: UInt32.self)
                    }
                }
            }
        }
        var failure: FCSError?
        encodeBuffer.withUnsafeBytes { raw in
            do throws(FCSError) { try writeAll(UnsafeRawBufferPointer(rebasing: raw[0..<(n * rowBytes)])) } catch { failure = error }
        }
        if let failure { throw failure }
        written += n
    }

    /// Checks that every announced event was written, then moves the file into place.
    public func finish() throws(FCSError) {
        guard !finished else { return }
        guard written == eventCount else {
            abandon()
            throw FCSError(file: path, .write("\(written) events written but $TOT announces \(eventCount); file not created"))
        }
        if (durable && fsync(descriptor) != 0) || close(descriptor) != 0 {
            let message = String(cString: strerror(errno))
            descriptor = -1
            abandon()
            throw FCSError(file: path, .write("cannot complete the file: \(message)"))
        }
        descriptor = -1
        if rename(temporaryPath, path) != 0 {
            let message = String(cString: strerror(errno))
            abandon()
            throw FCSError(file: path, .write("cannot move \(temporaryPath) into place: \(message)"))
        }
        finished = true
    }

    private func abandon() {
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
        unlink(temporaryPath)
        finished = true
    }

    private func writeAll(_ bytes: [UInt8]) throws(FCSError) {
        var failure: FCSError?
        bytes.withUnsafeBytes { raw in
            do throws(FCSError) { try writeAll(raw) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws(FCSError) {
        var done = 0
        while done < bytes.count {
            let n = write(descriptor, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw FCSError(file: path, .write("write failed after \(written) events: \(String(cString: strerror(errno)))"))
            }
            done += n
        }
    }
}
