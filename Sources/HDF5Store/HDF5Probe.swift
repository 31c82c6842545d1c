import CHDF5Shim
import Glibc

/// Reads an HDF5 file's metadata with libhdf5 in a separate process before FlowMRD opens it.
///
/// libhdf5 is not hardened against malformed files: fuzzing found a 303-byte file that makes
/// libhdf5 1.10.8 write through a null pointer (its metadata accumulator) while opening a
/// dataset, a segfault no caller can catch. So the first look at a file is taken by a child
/// process — this same program, started again with `FLOWMRD_HDF5_PROBE=PATH`, which a C
/// constructor in CHDF5Shim runs before `main` — that opens the file and reads every object
/// header, attribute, chunk index and string in it (`chdf5_probe_file`). If libhdf5 crashes or
/// hangs there, the file is refused with an ``HDF5Error``; FlowMRD itself never runs the code
/// path that crashed. An ordinary HDF5 error in the child is left for the caller to report
/// with libhdf5's own message.
///
/// The child's memory is watched too: libhdf5 sizes some buffers from fields in the file and
/// fills them before it checks them against the file's end (fuzzing: a 98-byte file made the
/// metadata pass touch 3 GB). A child whose resident memory passes ``memoryLimitBytes`` is
/// stopped and the file refused, since the same open in FlowMRD would take that memory too.
///
/// Cost: one process start and a metadata pass, 10–30 ms per file (no event data is read).
/// Linux only (`/proc/self/exe`); elsewhere the check is skipped.
enum HDF5Probe {
    /// How long the child may take before the file is refused as unreadable.
    static let timeoutSeconds = 60.0
    /// Most resident memory the metadata pass may use. FlowMRD's own stores need a few MB
    /// (the process itself included); 512 MiB leaves room for any real file's metadata while
    /// keeping a malformed one far from what a lab workstation or a cluster slot holds.
    static let memoryLimitBytes = 512 << 20

    /// Resident memory of process `pid` in bytes, from `/proc/PID/statm`; nil if unreadable.
    /// - Complexity: one small file read.
    static func residentBytes(_ pid: pid_t) -> Int? {
        let descriptor = open("/proc/\(pid)/statm", O_RDONLY)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: 128)
        let count = read(descriptor, &bytes, bytes.count)
        guard count > 0 else { return nil }
        let fields = String(decoding: bytes.prefix(count), as: UTF8.self).split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    static func check(path: String, timeout: Double = timeoutSeconds, memoryLimit: Int = memoryLimitBytes) throws(HDF5Error) {
        #if os(Linux)
        func fail(_ detail: String) -> HDF5Error {
            HDF5Error(file: path, operation: "check in a separate process", message: detail)
        }
        var environment = [String]()
        var index = 0
        while let entry = environ[index] {
            let text = String(cString: entry)
            if !text.hasPrefix("FLOWMRD_HDF5_PROBE=") { environment.append(text) }
            index += 1
        }
        environment.append("FLOWMRD_HDF5_PROBE=\(path)")
        var envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        var argv: [UnsafeMutablePointer<CChar>?] = [strdup("flowmrd-hdf5-probe"), nil]
        defer { (envp + argv).forEach { free($0) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // The child's crash report (if any) is not FlowMRD's output.
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var child: pid_t = 0
        let spawned = posix_spawn(&child, "/proc/self/exe", &actions, nil, &argv, &envp)
        guard spawned == 0 else { throw fail("cannot start the checking process: \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        var usage = rusage()
        var waited = 0.0
        func megabytes(_ bytes: Int) -> String { "\((bytes + (1 << 20) - 1) >> 20) MB" }
        // The figure seen is left out of the message: it depends on when /proc was read.
        let overLimit = fail("libhdf5 needed more than \(megabytes(memoryLimit)) of memory reading the file's metadata: sizes in the file are malformed, and the file was not opened")
        while true {
            let result = wait4(child, &status, WNOHANG, &usage)
            if result == child { break }
            if result < 0 && errno != EINTR { throw fail("cannot wait for the checking process: \(String(cString: strerror(errno)))") }
            if let used = residentBytes(child), used > memoryLimit {
                kill(child, SIGKILL)
                _ = waitpid(child, &status, 0)
                throw overLimit
            }
            if waited >= timeout {
                kill(child, SIGKILL)
                _ = waitpid(child, &status, 0)
                throw fail("libhdf5 did not finish reading the file's metadata within \(timeout == timeout.rounded() ? String(Int(timeout)) : String(timeout)) s; the file was not opened")
            }
            usleep(2_000)
            waited += 0.002
        }
        // Between two looks at /proc the child may have grown and exited: its peak counts too.
        let peak = Int(usage.ru_maxrss) * 1_024
        if peak > memoryLimit { throw overLimit }
        let signal = status & 0x7F
        let exitCode = (status >> 8) & 0xFF
        if signal != 0 {
            let name = signal == SIGSEGV ? " (segmentation fault)" : signal == SIGBUS ? " (bus error)" : signal == SIGABRT ? " (abort)" : ""
            throw fail("libhdf5 crashed with signal \(signal)\(name) reading the file's metadata: the file is malformed and was not opened")
        }
        // 4: an allocation failed under the child's 2 GiB address-space cap (non-sanitizer builds).
        if exitCode == 4 { throw overLimit }
        // 0: readable; 3: an HDF5 error the caller reports itself. Anything else is a crash
        // caught by a sanitizer (which exits with 1) or a runtime that did not let the probe run.
        guard exitCode == 0 || exitCode == 3 else {
            throw fail("libhdf5 failed with exit status \(exitCode) reading the file's metadata: the file is malformed and was not opened")
        }
        #endif
    }
}
