import EventCore

/// $DATATYPE: how values are stored in DATA.
public enum FCSDataType: String, Sendable, Codable {
    case integer = "I"
    case float = "F"
    case double = "D"
    case ascii = "A"
}

/// $BYTEORD resolved to how multi-byte values are assembled.
public enum FCSByteOrder: Sendable, Equatable, CustomStringConvertible {
    case littleEndian
    case bigEndian
    /// A mixed order such as 3,4,1,2: byte k of the stored value is byte `order[k]` (0-based) of the little-endian value.
    case permuted([Int])

    /// Parses a $BYTEORD value such as "1,2,3,4", "4,3,2,1", "1,2" or "3,4,1,2".
    static func parse(_ value: String, path: String) throws(FCSError) -> FCSByteOrder {
        let parts = value.split(separator: ",").map { Int(DataSetKeywords.trimmingBlanks(String($0))) }
        guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }) else {
            throw FCSError(file: path, .invalidKeyword(keyword: "$BYTEORD", value: value, expected: "comma-separated byte numbers such as 1,2,3,4 or 4,3,2,1"))
        }
        let order = parts.map { $0! - 1 }
        guard order.sorted() == Array(0..<order.count) else {
            throw FCSError(file: path, .invalidKeyword(keyword: "$BYTEORD", value: value, expected: "a permutation of 1..\(order.count)"))
        }
        if order == Array(0..<order.count) { return .littleEndian }
        if order == Array((0..<order.count).reversed()) { return .bigEndian }
        return .permuted(order)
    }

    public var description: String {
        switch self {
        case .littleEndian: return "little-endian"
        case .bigEndian: return "big-endian"
        case .permuted(let order): return "mixed (" + order.map { String($0 + 1) }.joined(separator: ",") + ")"
        }
    }
}

/// Where one channel's value lies within an event, and how to decode it.
struct FieldLayout: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        /// Unsigned integer of `width` bytes, masked with `mask`.
        case unsigned(mask: UInt64)
        case float32
        case float64
        /// Fixed-width ASCII digits.
        case ascii
    }
    /// Byte offset of the value within an event.
    let offset: Int
    /// Stored width in bytes.
    let width: Int
    let kind: Kind
}

/// The byte layout of one event: a field per channel, in channel order.
/// Opaque outside this module; built by the reader from the $Pn keywords.
public struct EventLayout: Sendable, Equatable {
    let fields: [FieldLayout]
    let bytesPerEvent: Int
    let byteOrder: FCSByteOrder

    /// The byte order of a layout of float32 values only, channel k's at byte 4k and nothing
    /// else in an event, with at least 8 channels (what the AVX2 decoder takes); nil otherwise.
    /// - Complexity: O(channels).
    var packedFloat32Order: FCSByteOrder? {
        guard fields.count >= 8, bytesPerEvent == 4 * fields.count else { return nil }
        if case .permuted = byteOrder { return nil }
        for (k, field) in fields.enumerated() where field.kind != .float32 || field.width != 4 || field.offset != 4 * k { return nil }
        return byteOrder
    }

    /// True when every value decodes exactly into a Float32.
    var isExactInFloat32: Bool {
        fields.allSatisfy { field in
            switch field.kind {
            case .float32: return true
            case .float64: return false
            case .unsigned(let mask): return mask < (1 << 24)
            case .ascii: return field.width <= 7
            }
        }
    }
}

/// The mask keeping ceil(log2 range) low bits of an integer of `width` bytes.
/// A missing range, or a range at or above 2^(8·width), keeps every bit.
func integerMask(range: Double?, width: Int) -> UInt64 {
    let allBits: UInt64 = width >= 8 ? .max : (UInt64(1) << UInt64(width * 8)) - 1
    guard let range, range.isFinite, range > 1 else { return allBits }
    var bits = 0
    while bits < 64 && Double(UInt64(1) << UInt64(bits)) < range { bits += 1 }
    if bits >= width * 8 { return allBits }
    return (UInt64(1) << UInt64(bits)) - 1
}
