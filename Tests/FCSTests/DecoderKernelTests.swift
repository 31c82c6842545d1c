import EventCore
import Foundation
import Testing
@testable import FCS

/// The AVX2 decoder of packed float32 events (eight events loaded whole and transposed) against
/// the Swift loops and against each stored value's own bits: every value, NaN payloads, signed
/// zeros, subnormals and infinities included, for channel counts around the kernel's groups of
/// eight and event counts around its steps of eight.
@Suite("FCS float32 decoder kernel")
struct DecoderKernelTests {
    /// Values whose conversion a wrong lane, byte order or rounding would change.
    static let special: [UInt32] = [
        0x0000_0000, 0x8000_0000,                   // +0, −0
        0x0000_0001, 0x8000_0001, 0x007F_FFFF,      // subnormals
        0x7F80_0000, 0xFF80_0000,                   // ±infinity
        0x7FC0_0000, 0x7FC0_1234, 0xFFC0_0001,      // quiet NaNs with payloads
        0x7F80_0001, 0x7FA0_0000,                   // signalling NaNs
        0x3F80_0000, 0x4B00_0001, 0x7F7F_FFFF,      // 1, 2^23 + 1, the largest float
    ]

    /// `count` events of `channels` float32 values in `order`, with the bits each holds.
    static func events(count: Int, channels: Int, bigEndian: Bool, seed: UInt64) -> (bytes: [UInt8], bits: [[UInt32]]) {
        var state = seed
        var bytes: [UInt8] = [], bits: [[UInt32]] = []
        for e in 0..<count {
            var row: [UInt32] = []
            for k in 0..<channels {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                let drawn = UInt32(truncatingIfNeeded: state >> 32)
                let value = (e * channels + k) % 5 == 0 ? special[Int(drawn) % special.count] : drawn
                row.append(value)
                let stored = bigEndian ? value.bigEndian : value.littleEndian
                withUnsafeBytes(of: stored) { bytes.append(contentsOf: $0) }
            }
            bits.append(row)
        }
        return (bytes, bits)
    }

    static func layout(channels: Int, order: FCSByteOrder) -> EventLayout {
        EventLayout(fields: (0..<channels).map { FieldLayout(offset: 4 * $0, width: 4, kind: .float32) },
                    bytesPerEvent: 4 * channels, byteOrder: order)
    }

    static func decode(_ bytes: [UInt8], layout: EventLayout, count: Int, capacity: Int, avx2: Bool) -> [Double] {
        var columns = [Double](repeating: -7, count: layout.fields.count * capacity)
        bytes.withUnsafeBytes { raw in
            columns.withUnsafeMutableBufferPointer { out in
                decodeEvents(layout, raw: raw.baseAddress ?? UnsafeRawPointer(bitPattern: 8)!, count: count, into: out.baseAddress!,
                             capacity: capacity, avx2: avx2)
            }
        }
        return columns
    }

    @Test("every value's bits, both byte orders, 8 to 17 channels, 0 to 20 events and a whole block",
          .enabled(if: avx2DecoderAvailable, "this CPU has no AVX2: only the Swift loops decode here"))
    func kernelEqualsLoops() {
        for channels in [8, 9, 14, 16, 17] {
            for count in Array(0...20) + [4_099] {
                for bigEndian in [false, true] {
                    let (bytes, bits) = Self.events(count: count, channels: channels, bigEndian: bigEndian, seed: UInt64(channels * 100 + count))
                    let layout = Self.layout(channels: channels, order: bigEndian ? .bigEndian : .littleEndian)
                    #expect(layout.packedFloat32Order != nil)
                    let capacity = count + 3
                    let kernel = Self.decode(bytes, layout: layout, count: count, capacity: capacity, avx2: true)
                    let loops = Self.decode(bytes, layout: layout, count: count, capacity: capacity, avx2: false)
                    #expect(kernel.map(\.bitPattern) == loops.map(\.bitPattern), "\(channels) channels, \(count) events, big-endian \(bigEndian)")
                    // Each value is its stored float, converted; the padding past `count` is untouched.
                    var wrong = 0
                    for k in 0..<channels {
                        for e in 0..<capacity {
                            let expected = e < count ? Double(Float(bitPattern: bits[e][k])) : -7
                            if kernel[k * capacity + e].bitPattern != expected.bitPattern { wrong += 1 }
                        }
                    }
                    #expect(wrong == 0, "\(channels) channels, \(count) events, big-endian \(bigEndian)")
                }
            }
        }
    }

    @Test("layouts the kernel does not take: fewer than 8 channels, a gap, a double, a mixed byte order")
    func layoutsLeftToTheLoops() {
        #expect(Self.layout(channels: 7, order: .littleEndian).packedFloat32Order == nil)
        #expect(Self.layout(channels: 8, order: .permuted([1, 0, 3, 2])).packedFloat32Order == nil)
        var fields = (0..<8).map { FieldLayout(offset: 4 * $0, width: 4, kind: .float32) }
        #expect(EventLayout(fields: fields, bytesPerEvent: 36, byteOrder: .littleEndian).packedFloat32Order == nil)
        fields[3] = FieldLayout(offset: 12, width: 4, kind: .unsigned(mask: 0xFFFF_FFFF))
        #expect(EventLayout(fields: fields, bytesPerEvent: 32, byteOrder: .littleEndian).packedFloat32Order == nil)
        #expect(Self.layout(channels: 8, order: .bigEndian).packedFloat32Order == .bigEndian)
    }
}
