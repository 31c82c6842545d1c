import Foundation

/// Writes a report or result file atomically: to `PATH.partial` beside it, flushed to disk, then
/// renamed, so a reader never sees half a file and a run killed or out of disk space leaves either
/// the complete file or none (a stale `.partial` at most, which ``removeStalePartials(in:)`` clears;
/// a failed write removes its own).
public enum ReportFile {
    public static let partialSuffix = ".partial"

    /// - Parameter overwrite: replace an existing file; without it an existing `path` is an error
    ///   and is left as it is.
    /// - Throws: ``ReportError`` naming `path` and the reason (the folder missing, permission, disk full…).
    /// - Complexity: O(text bytes).
    public static func write(_ text: String, to path: String, overwrite: Bool = true) throws(ReportError) {
        if !overwrite && FileManager.default.fileExists(atPath: path) {
            throw ReportError(path: path, detail: "exists; give --overwrite to replace it (it was left as it is)")
        }
        let temporary = path + partialSuffix
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            let reason = String(cString: strerror(errno))
            let folder = (path as NSString).deletingLastPathComponent
            var isDirectory: ObjCBool = false
            if !folder.isEmpty && !(FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) && isDirectory.boolValue) {
                throw ReportError(path: path, detail: "cannot write: the folder \(folder) does not exist")
            }
            throw ReportError(path: path, detail: "cannot write: \(reason)")
        }
        var failure: String?
        let bytes = Array(text.utf8)
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = "write failed after \(offset) of \(raw.count) bytes: \(String(cString: strerror(errno)))"
                    return
                }
                offset += n
            }
        }
        if failure == nil && fsync(descriptor) != 0 { failure = "fsync failed: \(String(cString: strerror(errno)))" }
        if close(descriptor) != 0 && failure == nil { failure = "close failed: \(String(cString: strerror(errno)))" }
        if failure == nil && rename(temporary, path) != 0 { failure = "rename failed: \(String(cString: strerror(errno)))" }
        if let failure {
            unlink(temporary)
            throw ReportError(path: path, detail: "cannot write (\(failure)); no file was left under this name")
        }
    }

    /// Removes `*.partial` files a killed run left in `directory`; returns how many.
    @discardableResult
    public static func removeStalePartials(in directory: String) -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var removed = 0
        for name in names where name.hasSuffix(partialSuffix) {
            if unlink((directory as NSString).appendingPathComponent(name)) == 0 { removed += 1 }
        }
        return removed
    }
}

/// A report that could not be written, naming the file.
public struct ReportError: Error, CustomStringConvertible {
    public let path: String
    public let detail: String
    public var description: String { "\(path): \(detail)" }
}
