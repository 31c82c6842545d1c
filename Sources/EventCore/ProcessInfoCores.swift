#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The number of cores this process may use.
public enum ProcessInfoCores {
    /// Online processors (at least 1).
    public static var active: Int {
        #if canImport(Glibc)
        return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        #else
        return max(1, Int(sysconf(_SC_NPROCESSORS_ONLN)))
        #endif
    }
}

/// Block sizes shared by the readers of every format.
public enum EventStreaming {
    /// The default number of events per block (16 Ki): the raw bytes of a 14-channel
    /// float32 block (900 KB) stay in a core's cache while they are decoded.
    public static let defaultBlockSize = 16_384
}
