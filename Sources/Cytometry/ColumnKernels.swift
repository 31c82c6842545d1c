import CKernels
import Foundation

/// Which implementation of the evaluator's column kernels runs: the AVX2 ones (C, `CKernels`:
/// compensation, range masks, the logicle/hyperlog table) when the CPU has AVX2, else the
/// portable Swift loops. Both do the same IEEE operations in the same order, so they give
/// bit-identical values (tests run both on the same data); the choice only changes speed. A
/// build for any x86-64, or for another architecture, always has the portable path.
public enum ColumnKernels {
    /// Whether this CPU can run the AVX2 kernels (checked once: CPUID and the OS's saved state).
    public static let avx2Available = ckernels_avx2_available() != 0
    /// Whether the AVX2 kernels are used by default: when available, unless the environment sets
    /// `FLOWMRD_KERNELS=portable` (to measure the portable path on the same machine).
    public static let useAVX2 = avx2Available && ProcessInfo.processInfo.environment["FLOWMRD_KERNELS"] != "portable"
}
