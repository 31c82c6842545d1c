import Foundation
import Testing

/// Faults while writing: a process killed mid-write (SIGXFSZ from a file-size limit, as a
/// `kill -9` would), a full disk (the same limit with the signal ignored, so writes fail with
/// EFBIG), and an input that vanished. Outputs must be complete or absent, and a rerun must
/// finish the job without losing or silently overwriting a finished result.
@Suite("Faults: killed runs, full disk, vanished files", .enabled(if: FlowMRDBinary.path != nil, Comment(rawValue: FlowMRDBinary.missingMessage)))
struct FaultCLITests {
    let manager = FileManager.default

    /// Runs flowmrd under bash with a file-size limit of `kilobytes`; `ignoreSignal` turns the
    /// kill into failing writes (a full disk). Spawned with SIGXFSZ at its default and no signal
    /// blocked, since a test runner's thread may hand its children an ignored or blocked SIGXFSZ
    /// (which a shell cannot undo).
    func limited(_ arguments: [String], kilobytes: Int, ignoreSignal: Bool) throws -> (status: Int32, signalled: Bool, stderr: String) {
        let quoted = ([FlowMRDBinary.path!] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let script = "cd '\(FlowMRDBinary.packageRoot.path)' && " + (ignoreSignal ? "trap '' XFSZ; " : "") + "ulimit -f \(kilobytes); exec \(quoted) 2>\"$FLOWMRD_STDERR\" >/dev/null"
        let stderrPath = NSTemporaryDirectory() + "flowmrd-fault-\(UUID().uuidString).err"
        defer { unlink(stderrPath) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGXFSZ)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        posix_spawnattr_setsigmask(&attributes, &unblocked)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let argv: [UnsafeMutablePointer<CChar>?] = ["/bin/bash", "-c", script].map { (text: String) in strdup(text) } + [nil]
        defer { for p in argv { free(p) } }
        let pairs = ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" } + ["FLOWMRD_STDERR=\(stderrPath)"]
        let environment: [UnsafeMutablePointer<CChar>?] = pairs.map { (text: String) in strdup(text) } + [nil]
        defer { for p in environment { free(p) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/bash", nil, &attributes, argv, environment)
        guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EINVAL) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let signalled = (status & 0x7f) != 0 && (status & 0x7f) != 0x7f
        let code = signalled ? status & 0x7f : (status >> 8) & 0xff
        let stderr = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
        return (code, signalled, stderr)
    }

    func folder() throws -> URL {
        let url = manager.temporaryDirectory.appendingPathComponent("flowmrd-fault-\(UUID().uuidString)")
        try manager.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test("convert killed mid-write leaves no output; out of space is a typed error and no file; a rerun gives the same bytes as a clean run")
    func convert() throws {
        let dir = try folder()
        defer { try? manager.removeItem(at: dir) }
        let out = dir.appendingPathComponent("positive.h5").path
        let killed = try limited(["convert", "samples/positive.fcs", out], kilobytes: 256, ignoreSignal: false)
        #expect(killed.signalled && killed.status == SIGXFSZ)
        #expect(!manager.fileExists(atPath: out))
        let full = try limited(["convert", "samples/positive.fcs", out], kilobytes: 256, ignoreSignal: true)
        #expect(!full.signalled && full.status == 1)
        #expect(full.stderr.contains(out), "\(full.stderr)")
        #expect(!manager.fileExists(atPath: out) && !manager.fileExists(atPath: out + ".partial"))
        let rerun = try FlowMRDBinary.run(["convert", "samples/positive.fcs", out])
        #expect(rerun.status == 0, "\(rerun.stderr)")
        let clean = dir.appendingPathComponent("clean.h5").path
        _ = try FlowMRDBinary.run(["convert", "samples/positive.fcs", clean])
        #expect(manager.contents(atPath: out) == manager.contents(atPath: clean))
        // A finished output is never replaced silently: an existing file is an error and stays as it was.
        let finished = manager.contents(atPath: out)
        let again = try FlowMRDBinary.run(["convert", "samples/too-few.fcs", out])
        #expect(again.status == 1 && again.stderr == "error: \(out) exists; give --overwrite to replace it (it was left as it is)\n", "\(again.stderr)")
        #expect(manager.contents(atPath: out) == finished)
        let replaced = try FlowMRDBinary.run(["convert", "samples/too-few.fcs", out, "--overwrite"])
        #expect(replaced.status == 0 && manager.contents(atPath: out) != finished)
    }

    @Test("batch killed mid-run, then out of space: finished samples stay, nothing half-written is kept, a rerun completes byte-identically")
    func batch() throws {
        let dir = try folder()
        defer { try? manager.removeItem(at: dir) }
        let input = dir.appendingPathComponent("in"), out = dir.appendingPathComponent("out"), clean = dir.appendingPathComponent("clean")
        try manager.createDirectory(at: input, withIntermediateDirectories: true)
        for name in ["positive.fcs", "too-few.fcs"] {
            try manager.copyItem(atPath: FlowMRDBinary.packageRoot.appendingPathComponent("samples/\(name)").path, toPath: input.appendingPathComponent(name).path)
        }
        // A vanished input: listed (a dangling link) but gone when read.
        try manager.createSymbolicLink(atPath: input.appendingPathComponent("gone.fcs").path, withDestinationPath: dir.appendingPathComponent("missing.fcs").path)
        let arguments = ["batch", input.path, "--out", out.path, "--no-checksum", "--quiet"]
        // Reports are ~300 KB: a 200 KB limit kills the run while it writes the first report.
        let killed = try limited(arguments, kilobytes: 200, ignoreSignal: false)
        #expect(killed.signalled)
        let afterKill = try manager.contentsOfDirectory(atPath: out.path)
        #expect(!afterKill.contains { $0.hasSuffix(".json") && $0 != "gone.fcs.json" }, "\(afterKill)")
        let full = try limited(arguments, kilobytes: 200, ignoreSignal: true)
        #expect(!full.signalled && full.status == 1)
        #expect(full.stderr.contains("cannot write (") && full.stderr.contains("no file was left under this name"), "\(full.stderr)")
        #expect(try manager.contentsOfDirectory(atPath: out.path).allSatisfy { !$0.hasSuffix(".partial") })
        let rerun = try FlowMRDBinary.run(arguments)
        #expect(rerun.status == 1)  // gone.fcs is an error entry
        let reference = try FlowMRDBinary.run(["batch", input.path, "--out", clean.path, "--no-checksum", "--quiet"])
        #expect(reference.status == 1)
        let names = try manager.contentsOfDirectory(atPath: clean.path).sorted()
        #expect(try manager.contentsOfDirectory(atPath: out.path).sorted() == names)
        #expect(names.contains("gone.fcs.json") && names.contains("positive.fcs.html") && names.contains("summary.csv"))
        for name in names {
            let a = manager.contents(atPath: out.appendingPathComponent(name).path), b = manager.contents(atPath: clean.appendingPathComponent(name).path)
            #expect(a == b, "\(name)")
        }
        let gone = try String(contentsOfFile: out.appendingPathComponent("gone.fcs.json").path, encoding: .utf8)
        #expect(gone.contains("\"error\"") && gone.contains("gone.fcs"))
    }
}
