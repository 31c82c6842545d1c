import Foundation

/// Test helpers shared by the test targets.

/// Locates `../shared` beside the package root, where the corpus and conformance data live.
public enum SharedMaterial {
    /// The package root, derived from this file's path (Tests/TestSupport/SharedMaterial.swift).
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `../shared`, or nil when this clone has none beside it.
    public static let root: URL? = {
        let url = packageRoot.deletingLastPathComponent().appendingPathComponent("shared")
        return FileManager.default.fileExists(atPath: url.appendingPathComponent("fcs-corpus").path) ? url : nil
    }()

    public static var isAvailable: Bool { root != nil }

    public static let skipMessage = "../shared is not beside the package root (a user's own clone): corpus and conformance tests skipped"

    public static var corpus: URL? { root?.appendingPathComponent("fcs-corpus") }

    /// Every FCS file in the corpus, as paths relative to fcs-corpus (e.g. "FlowCal/Data001.fcs"), sorted.
    public static func corpusFiles() -> [String] {
        guard let corpus else { return [] }
        let fm = FileManager.default
        var files: [String] = []
        for directory in (try? fm.contentsOfDirectory(atPath: corpus.path)) ?? [] {
            var isDirectory: ObjCBool = false
            let full = corpus.appendingPathComponent(directory)
            guard fm.fileExists(atPath: full.path, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
            for name in (try? fm.contentsOfDirectory(atPath: full.path)) ?? [] {
                files.append(directory + "/" + name)
            }
        }
        return files.sorted()
    }
}

/// A temporary directory removed when the value is released.
public final class TemporaryDirectory {
    public let url: URL
    public init() {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("flowmrd-test-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    public func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    deinit { try? FileManager.default.removeItem(at: url) }
}

/// python3 as an independent reader in cross-checks (make test installs its packages from PyPI).
public enum Python {
    /// Whether `python3` can import `module`.
    public static func hasModule(_ module: String) -> Bool {
        (try? run(["-c", "import \(module)"]))?.status == 0
    }

    /// Runs `python3 arguments…` to its end; its output and errors, whole.
    public static func run(_ arguments: [String]) throws -> (status: Int32, stdout: Data, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-W", "ignore"] + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes while the process runs, so neither fills and blocks it.
        final class Collected: @unchecked Sendable { var data = Data() }   // written by one thread, read after `wait`
        let errors = Collected()
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) { errors.data = err.fileHandleForReading.readDataToEndOfFile() }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return (process.terminationStatus, data, String(decoding: errors.data, as: UTF8.self))
    }
}

/// The bundled template's text with a negative reachable at 20,000 nucleated cells (target
/// 2×10⁻³), so that tests can reach every call on small files.
public enum SmallSampleTemplate {
    public static let path = SharedMaterial.packageRoot.appendingPathComponent("gating-templates/legend2-10color.yaml").path
    public static func text() throws -> String {
        try String(contentsOfFile: path, encoding: .utf8)
            .replacingOccurrences(of: "min_nucleated_cells: 1500000", with: "min_nucleated_cells: 20000")
            .replacingOccurrences(of: "target_sensitivity: 1.0e-4", with: "target_sensitivity: 2.0e-3")
    }
}
