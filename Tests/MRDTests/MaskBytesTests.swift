import Testing
@testable import MRD

/// The branch-free reading of gate masks that the subsample's collection compacts by.
@Suite("Mask bytes")
struct MaskBytesTests {
    @Test("isSet is 1 exactly for the nonzero bytes, and count sums them over any length")
    func everyByte() {
        for b in 0...255 { #expect(MaskBytes.isSet(UInt8(b)) == (b == 0 ? 0 : 1), "byte \(b)") }
        let mask = (0..<1_000).map { UInt8(truncatingIfNeeded: ($0 * 37) % 5 == 0 ? 0 : $0 % 256 | 1) }
        mask.withUnsafeBufferPointer { m in
            for n in [0, 1, 7, 999, 1_000] { #expect(MaskBytes.count(m.baseAddress!, n) == mask[0..<n].filter { $0 != 0 }.count) }
        }
    }
}
