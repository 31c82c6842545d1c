import CKernels
import EventCore

/// Whether the AVX2 decoder runs: the CPU and system support AVX2, and the portable loops are
/// not forced (``KernelChoice/portableForced``, the same rule as the gating evaluator's).
let decodeWithAVX2 = avx2DecoderAvailable && !KernelChoice.portableForced
/// Whether this CPU and system can run the AVX2 decoder at all.
let avx2DecoderAvailable = ckernels_avx2_available() == 1

/// Decodes `count` stored events into channel-major columns.
///
/// One loop per channel, chosen once per block, so the per-event work is a load,
/// a byte swap, a mask and a conversion. No allocation.
/// Cost: O(count × channels); about 1 ns per value on one core for float32 data.
@inline(__always)
func decodeEvents<S: EventScalar>(_ layout: EventLayout, raw: UnsafeRawPointer, count: Int, into columns: UnsafeMutablePointer<S>, capacity: Int,
                                  avx2: Bool = decodeWithAVX2) {
    let stride = layout.bytesPerEvent
    // Packed float32 events into Double columns: eight events transposed at a time, the same values.
    if avx2, S.self == Double.self, let order = layout.packedFloat32Order {
        ckernels_decode_float32_avx2(raw.assumingMemoryBound(to: UInt8.self), stride, layout.fields.count, count, order == .bigEndian ? 1 : 0,
                                     UnsafeMutableRawPointer(columns).assumingMemoryBound(to: Double.self), capacity)
        return
    }
    for (channel, field) in layout.fields.enumerated() {
        let out = columns + channel * capacity
        let base = raw + field.offset
        switch (field.kind, field.width, layout.byteOrder) {
        case (.float32, _, .littleEndian):
            for e in 0..<count {
                out[e] = S(Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: e * stride, as: UInt32.self))))
            }
        case (.float32, _, .bigEndian):
            for e in 0..<count {
                out[e] = S(Float(bitPattern: UInt32(bigEndian: base.loadUnaligned(fromByteOffset: e * stride, as: UInt32.self))))
            }
        case (.float64, _, .littleEndian):
            for e in 0..<count {
                out[e] = S(Double(bitPattern: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: e * stride, as: UInt64.self))))
            }
        case (.float64, _, .bigEndian):
            for e in 0..<count {
                out[e] = S(Double(bitPattern: UInt64(bigEndian: base.loadUnaligned(fromByteOffset: e * stride, as: UInt64.self))))
            }
        case (.float32, _, .permuted):
            for e in 0..<count {
                out[e] = S(Float(bitPattern: UInt32(truncatingIfNeeded: assemble(base + e * stride, width: 4, order: layout.byteOrder))))
            }
        case (.float64, _, .permuted):
            for e in 0..<count {
                out[e] = S(Double(bitPattern: assemble(base + e * stride, width: 8, order: layout.byteOrder)))
            }
        case (.unsigned(let mask), 1, _):
            let m = UInt8(truncatingIfNeeded: mask)
            for e in 0..<count { out[e] = S(base.load(fromByteOffset: e * stride, as: UInt8.self) & m) }
        case (.unsigned(let mask), 2, .littleEndian):
            let m = UInt16(truncatingIfNeeded: mask)
            for e in 0..<count { out[e] = S(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: e * stride, as: UInt16.self)) & m) }
        case (.unsigned(let mask), 2, .bigEndian):
            let m = UInt16(truncatingIfNeeded: mask)
            for e in 0..<count { out[e] = S(UInt16(bigEndian: base.loadUnaligned(fromByteOffset: e * stride, as: UInt16.self)) & m) }
        case (.unsigned(let mask), 4, .littleEndian):
            let m = UInt32(truncatingIfNeeded: mask)
            for e in 0..<count { out[e] = S(UInt32(littleEndian: base.loadUnaligned(fromByteOffset: e * stride, as: UInt32.self)) & m) }
        case (.unsigned(let mask), 4, .bigEndian):
            let m = UInt32(truncatingIfNeeded: mask)
            for e in 0..<count { out[e] = S(UInt32(bigEndian: base.loadUnaligned(fromByteOffset: e * stride, as: UInt32.self)) & m) }
        case (.unsigned(let mask), let width, let order):
            for e in 0..<count {
                out[e] = S(assemble(base + e * stride, width: width, order: order) & mask)
            }
        case (.ascii, let width, _):
            for e in 0..<count {
                out[e] = S(parseASCII(base + e * stride, width: width))
            }
        }
    }
}

/// Assembles an unsigned value of `width` bytes stored in `order`.
@inline(__always)
func assemble(_ pointer: UnsafeRawPointer, width: Int, order: FCSByteOrder) -> UInt64 {
    var value: UInt64 = 0
    switch order {
    case .littleEndian:
        for k in 0..<width { value |= UInt64(pointer.load(fromByteOffset: k, as: UInt8.self)) << UInt64(8 * k) }
    case .bigEndian:
        for k in 0..<width { value = (value << 8) | UInt64(pointer.load(fromByteOffset: k, as: UInt8.self)) }
    case .permuted(let significance):
        for k in 0..<width { value |= UInt64(pointer.load(fromByteOffset: k, as: UInt8.self)) << UInt64(8 * significance[k]) }
    }
    return value
}

/// Parses a fixed-width ASCII number (blanks allowed around digits, optional sign and decimals).
@inline(__always)
func parseASCII(_ pointer: UnsafeRawPointer, width: Int) -> Double {
    var value = 0.0, scale = 0.0, negative = false, seen = false
    for k in 0..<width {
        let byte = pointer.load(fromByteOffset: k, as: UInt8.self)
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            value = value * 10 + Double(byte - UInt8(ascii: "0"))
            if scale > 0 { scale *= 10 }
            seen = true
        case UInt8(ascii: "."):
            scale = 1
        case UInt8(ascii: "-"):
            negative = true
        default:
            continue
        }
    }
    if !seen { return 0 }
    if scale > 1 { value /= scale }
    return negative ? -value : value
}
