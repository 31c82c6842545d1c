import Foundation

/// The event files a command works on: files named on the command line as they are, and the
/// event files found in a named directory (FCS, LMD and HDF5 stores, by extension, sorted by
/// name; hidden files and per-event result files `*.events.h5` skipped; a listed name that
/// cannot be opened, such as a dangling link, is kept so that it is reported, not lost).
public enum SampleList {
    /// Extensions taken from a directory (case-insensitive).
    public static let extensions: Set<String> = ["fcs", "lmd", "h5", "hdf5", "h5ad"]

    /// An entry of a named directory that is not analysed, and why.
    public struct Skipped: Sendable, Equatable, Encodable {
        public let file: String
        public let reason: String
    }

    /// Expands directories; a path that does not exist is kept, so the reader reports it.
    /// - Complexity: O(directory entries · log entries).
    public static func expand(_ paths: [String]) -> [String] { scan(paths).files }

    /// The event files of `paths`, and every directory entry left out with its reason.
    /// - Complexity: O(directory entries · log entries).
    public static func scan(_ paths: [String]) -> (files: [String], skipped: [Skipped]) {
        var files: [String] = [], skipped: [Skipped] = []
        let manager = FileManager.default
        for path in paths {
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
                files.append(path)
                continue
            }
            let names = (try? manager.contentsOfDirectory(atPath: path)) ?? []
            for name in names.sorted() {
                let full = (path as NSString).appendingPathComponent(name)
                if let reason = exclusion(name) {
                    skipped.append(Skipped(file: full, reason: reason))
                    continue
                }
                var nested: ObjCBool = false
                if manager.fileExists(atPath: full, isDirectory: &nested) {
                    if nested.boolValue { skipped.append(Skipped(file: full, reason: "a folder (folders are not searched)")) } else { files.append(full) }
                } else {
                    // Listed but gone (a dangling link, a file removed meanwhile): kept, so it gets an error entry instead of vanishing.
                    files.append(full)
                }
            }
        }
        return (files, skipped)
    }

    static func isEventFile(_ name: String) -> Bool { exclusion(name) == nil }

    /// Why a directory entry is not an event file to analyse (nil when it is one).
    static func exclusion(_ name: String) -> String? {
        if name.hasPrefix(".") { return "a hidden file" }
        if name.lowercased().hasSuffix(".events.h5") { return "per-event results of an earlier analysis (*.events.h5)" }
        let ext = (name as NSString).pathExtension.lowercased()
        guard extensions.contains(ext) else {
            return ext.isEmpty ? "no file extension (event files end in \(extensions.sorted().map { "." + $0 }.joined(separator: ", ")))"
                               : "not an event file (.\(ext); event files end in \(extensions.sorted().map { "." + $0 }.joined(separator: ", ")))"
        }
        return nil
    }
}
