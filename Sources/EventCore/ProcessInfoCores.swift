#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The number of cores this process may use.
public enum ProcessInfoCores {
    /// The processors this process may run on (its CPU affinity, which `taskset`, cgroup
    /// cpusets and batch schedulers such as SLURM set), else the online processors; at least 1.
    /// A cluster job given 2 cores of a 64-core node then runs 2 workers, not 64.
    public static var active: Int {
        #if canImport(Glibc)
        if let allowed = affinityCount() { return allowed }
        return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        #else
        return max(1, Int(sysconf(_SC_NPROCESSORS_ONLN)))
        #endif
    }

    #if canImport(Glibc)
    /// The processors in this process's affinity mask (up to 1,024), by `sched_getaffinity`,
    /// looked up at run time (Swift's Glibc module does not declare it); nil when unavailable.
    static func affinityCount() -> Int? {
        typealias GetAffinity = @convention(c) (Int32, Int, UnsafeMutableRawPointer) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sched_getaffinity") else { return nil }
        let getAffinity = unsafeBitCast(symbol, to: GetAffinity.self)
        var mask = [UInt64](repeating: 0, count: 16)
        let status = mask.withUnsafeMutableBytes { getAffinity(0, $0.count, $0.baseAddress!) }
        let count = mask.reduce(0) { $0 + $1.nonzeroBitCount }
        return status == 0 && count > 0 ? count : nil
    }
    #endif
}

/// Which kernels run where a CPU-specific one exists (FCS decoding, the gating evaluator).
public enum KernelChoice {
    /// `FLOWMRD_KERNELS=portable` in the environment: the portable Swift loops run everywhere
    /// even where AVX2 is available (to measure or check them on the same machine).
    public static let portableForced = getenv("FLOWMRD_KERNELS").map { String(cString: $0) } == "portable"
}

/// Block sizes shared by the readers of every format.
public enum EventStreaming {
    /// The default number of events per block (16 Ki): the raw bytes of a 14-channel
    /// float32 block (900 KB) stay in a core's cache while they are decoded.
    public static let defaultBlockSize = 16_384
}
