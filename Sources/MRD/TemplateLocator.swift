import Foundation

/// Finds a gating template by path or by name, for every command that takes `--template`.
///
/// A name (no `/`) is looked up as `NAME.yaml` in, in order: `$FLOWMRD_TEMPLATES`,
/// `./gating-templates`, and the `gating-templates` folder beside the running binary or one of
/// its five nearest ancestors (the checkout a development build lives in, or an installed
/// `share/flowmrd/gating-templates`). The first folder that holds the name wins.
public enum TemplateLocator {
    /// The search order for a name, in words (printed when a template is not found).
    public static let searchOrder = "$FLOWMRD_TEMPLATES, ./gating-templates, then gating-templates/ and share/flowmrd/gating-templates/ beside the flowmrd binary and up to five folders above it"

    /// The folders searched for a name, in order, those that exist only.
    /// - Complexity: O(1) file-system checks (at most eight).
    public static func folders(environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        let manager = FileManager.default
        var folders: [String] = []
        if let env = environment["FLOWMRD_TEMPLATES"], !env.isEmpty { folders.append(env) }
        folders.append(manager.currentDirectoryPath + "/gating-templates")
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            folders.append(directory.path + "/gating-templates")
            folders.append(directory.path + "/share/flowmrd/gating-templates")
            directory = directory.deletingLastPathComponent()
        }
        var seen = Set<String>()
        return folders.filter { folder in
            var isDirectory: ObjCBool = false
            return manager.fileExists(atPath: folder, isDirectory: &isDirectory) && isDirectory.boolValue && seen.insert(folder).inserted
        }
    }

    /// The template file `name` stands for.
    ///
    /// - Throws: ``MRDError/templateNotFound(name:detail:)``: for a path, that the file does not
    ///   exist; for a name, the nearest template names found (a "did you mean"), never the
    ///   folders' build-tree locations.
    public static func path(for name: String) throws(MRDError) -> String {
        let manager = FileManager.default
        if name.contains("/") || manager.fileExists(atPath: name) {
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: name, isDirectory: &isDirectory) else {
                throw .templateNotFound(name: name, detail: "no such file")
            }
            guard !isDirectory.boolValue else { throw .templateNotFound(name: name, detail: "it is a folder, not a template file") }
            return name
        }
        let file = name.hasSuffix(".yaml") ? name : name + ".yaml"
        let folders = folders()
        for folder in folders where manager.fileExists(atPath: folder + "/" + file) { return folder + "/" + file }
        let known = Set(folders.flatMap { folder in
            ((try? manager.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }
        }).sorted()
        let bare = name.hasSuffix(".yaml") ? String(name.dropLast(5)) : name
        let nearest = known.min { editDistance($0.lowercased(), bare.lowercased()) < editDistance($1.lowercased(), bare.lowercased()) }
        var detail = known.isEmpty ? "no templates found (give a path, or set FLOWMRD_TEMPLATES to a folder of templates)"
                                   : "known templates: \(known.joined(separator: ", "))"
        if let nearest, editDistance(nearest.lowercased(), bare.lowercased()) <= max(3, bare.count / 3) { detail = "did you mean \"\(nearest)\"? " + detail }
        detail += "; \(file) was looked for in \(Self.searchOrder)"
        throw .templateNotFound(name: name, detail: detail)
    }

    /// The template `name` stands for, read and checked.
    public static func template(_ name: String) throws(MRDError) -> GatingTemplate {
        try GatingTemplate(path: try path(for: name))
    }
}
