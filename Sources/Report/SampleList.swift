import Foundation

/// The event files a command works on: files named on the command line as they are, and the
/// event files found in a named directory (FCS, LMD and HDF5 stores, by extension, sorted by
/// name; hidden files and per-event result files `*.events.h5` skipped; a listed name that
/// cannot be opened, such as a dangling link, is kept so that it is reported, not lost).
public enum SampleList {
    /// Extensions taken from a directory (case-insensitive).
    public static let extensions: Set<String> = ["fcs", "lmd", "h5", "hdf5", "h5ad"]

    /// Expands directories; a path that does not exist is kept, so the reader reports it.
    public static func expand(_ paths: [String]) -> [String] {
        var files: [String] = []
        let manager = FileManager.default
        for path in paths {
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
                files.append(path)
                continue
            }
            let names = (try? manager.contentsOfDirectory(atPath: path)) ?? []
            for name in names.sorted() where isEventFile(name) {
                let full = (path as NSString).appendingPathComponent(name)
                var nested: ObjCBool = false
                if manager.fileExists(atPath: full, isDirectory: &nested) {
                    if !nested.boolValue { files.append(full) }
                } else {
                    // Listed but gone (a dangling link, a file removed meanwhile): kept, so it gets an error entry instead of vanishing.
                    files.append(full)
                }
            }
        }
        return files
    }

    static func isEventFile(_ name: String) -> Bool {
        guard !name.hasPrefix("."), !name.lowercased().hasSuffix(".events.h5") else { return false }
        return extensions.contains((name as NSString).pathExtension.lowercased())
    }
}
