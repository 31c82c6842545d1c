import CKernels
import EventCore
import Foundation

/// Which implementation of the evaluator's column kernels runs: the AVX2 ones (C, `CKernels`:
/// compensation, rectangle and polygon masks, finished masks, the logicle/hyperlog table) when the CPU has AVX2, else the
/// portable Swift loops. Both do the same IEEE operations in the same order, so they give
/// bit-identical values (tests run both on the same data); the choice only changes speed. A
/// build for any x86-64, or for another architecture, always has the portable path.
public enum ColumnKernels {
    /// Whether this CPU can run the AVX2 kernels (checked once: CPUID and the OS's saved state).
    public static let avx2Available = ckernels_avx2_available() != 0
    /// Whether the AVX2 kernels are used by default: when available, unless the environment sets
    /// `FLOWMRD_KERNELS=portable` (to measure the portable path on the same machine).
    public static let useAVX2 = avx2Available && !KernelChoice.portableForced

    /// Lowers `low` and raises `high` to the smallest and largest finite of `count` values and
    /// returns how many were not finite (NaN, ±infinity): a panel channel's health check.
    /// - Complexity: O(count), no allocation; four values per step with AVX2.
    public static func finiteRange(_ values: UnsafePointer<Double>, count: Int, low: inout Double, high: inout Double,
                                   avx2: Bool = useAVX2) -> Int {
        if avx2 { return ckernels_finite_range_avx2(values, count, &low, &high) }
        var bad = 0
        var lo = low, hi = high
        for e in 0..<count {
            let v = values[e]
            let finite = v.isFinite
            bad &+= finite ? 0 : 1
            let w = finite ? v : lo
            lo = Swift.min(lo, w)
            let z = finite ? v : hi
            hi = Swift.max(hi, z)
        }
        low = lo
        high = hi
        return bad
    }

    /// Writes the positions of a mask's nonzero bytes (masks hold 0 or 1), in order, to
    /// `positions` (room for `count`) and returns how many there are. Eight bytes at a time: a
    /// small population (the plasma cells, about 1% of a block) leaves most words zero, skipped
    /// whole; a set byte is found by its word's trailing zeros.
    /// - Complexity: O(count / 8 + set bytes), no allocation.
    public static func listNonzero(_ mask: UnsafePointer<UInt8>, count n: Int, into positions: UnsafeMutablePointer<Int>) -> Int {
        let raw = UnsafeRawPointer(mask)
        var k = 0
        var e = 0
        while e + 8 <= n {
            // Little-endian: byte i holds bits 8·i… 8·i + 7; each set byte is cleared once listed.
            var word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: e, as: UInt64.self))
            while word != 0 {
                let byte = word.trailingZeroBitCount >> 3
                positions[k] = e + byte
                k += 1
                word &= ~(0xFF << UInt64(8 * byte))
            }
            e += 8
        }
        while e < n {
            if mask[e] != 0 { positions[k] = e; k += 1 }
            e += 1
        }
        return k
    }
}

