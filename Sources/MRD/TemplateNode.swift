import Foundation
import Yams

/// A strict reader over a YAML document that knows where each value was written, so every
/// mistake in a gating template is reported with its line and column.
///
/// Mappings are read with the set of keys they may hold: an unknown key (a typo) is an error,
/// never silently ignored.
struct TemplateNode {
    let node: Node
    let file: String
    /// Position of this node's parent key, used when the node itself has no mark.
    let fallbackMark: Mark?

    var line: Int { (node.mark ?? fallbackMark)?.line ?? 1 }
    var column: Int { (node.mark ?? fallbackMark)?.column ?? 1 }

    func error(_ detail: String) -> MRDError { .template(file: file, line: line, column: column, detail: detail) }

    static func parse(yaml: String, file: String) throws(MRDError) -> TemplateNode {
        do {
            guard let node = try Yams.compose(yaml: yaml, .basic) else {
                throw MRDError.template(file: file, line: 1, column: 1, detail: "the template is empty")
            }
            return TemplateNode(node: node, file: file, fallbackMark: nil)
        } catch let error as MRDError {
            throw error
        } catch let error as YamlError {
            switch error {
            case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _), .composer(let context, let problem, let mark, _):
                let opened = context.map { " (\($0.text.isEmpty ? "from" : "\($0.text) from") line \($0.mark.line), column \($0.mark.column))" } ?? ""
                throw .template(file: file, line: mark.line, column: mark.column, detail: "not valid YAML: \(problem)\(opened)")
            case .duplicatedKeysInMapping(let duplicates, let context):
                let names = duplicates.map { "\"\($0)\"" }.joined(separator: ", ")
                throw .template(file: file, line: context.mark.line, column: context.mark.column,
                                detail: "key \(names) appears more than once in the same mapping (the first is here)")
            default:
                throw .template(file: file, line: 1, column: 1, detail: "not valid YAML: \(error)")
            }
        } catch {
            throw .template(file: file, line: 1, column: 1, detail: "not valid YAML: \(error)")
        }
    }

    /// The mapping's entries, in written order; keys outside `allowed` are an error.
    func mapping(allowed: [String], what: String) throws(MRDError) -> KeyedNode {
        guard case .mapping(let mapping) = node else { throw error("\(what) must be a mapping with keys \(allowed.joined(separator: ", "))") }
        var entries: [(String, TemplateNode, Mark?)] = []
        for (key, value) in mapping {
            let keyNode = TemplateNode(node: key, file: file, fallbackMark: fallbackMark)
            guard let name = key.scalar?.string else { throw keyNode.error("\(what): keys must be plain names") }
            guard allowed.contains(name) else {
                let suggestion = allowed.min { editDistance($0, name) < editDistance($1, name) }.map { "; did you mean \"\($0)\"?" } ?? ""
                throw keyNode.error("\(what): unknown key \"\(name)\" (allowed: \(allowed.joined(separator: ", ")))\(suggestion)")
            }
            if entries.contains(where: { $0.0 == name }) { throw keyNode.error("\(what): key \"\(name)\" appears twice") }
            entries.append((name, TemplateNode(node: value, file: file, fallbackMark: key.mark), key.mark))
        }
        return KeyedNode(owner: self, what: what, entries: entries)
    }

    /// A mapping whose keys are free names (such as the panel's markers), in written order.
    func namedEntries(what: String) throws(MRDError) -> [(name: String, node: TemplateNode)] {
        guard case .mapping(let mapping) = node else { throw error("\(what) must be a mapping") }
        var result: [(String, TemplateNode)] = []
        for (key, value) in mapping {
            let keyNode = TemplateNode(node: key, file: file, fallbackMark: fallbackMark)
            guard let name = key.scalar?.string, !name.isEmpty else { throw keyNode.error("\(what): keys must be plain names") }
            if result.contains(where: { $0.0 == name }) { throw keyNode.error("\(what): \"\(name)\" appears twice") }
            result.append((name, TemplateNode(node: value, file: file, fallbackMark: key.mark)))
        }
        return result
    }

    func sequence(what: String) throws(MRDError) -> [TemplateNode] {
        guard case .sequence(let sequence) = node else { throw error("\(what) must be a list") }
        return sequence.map { TemplateNode(node: $0, file: file, fallbackMark: fallbackMark) }
    }

    var isNull: Bool {
        guard case .scalar(let scalar) = node else { return false }
        return scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    func string(what: String) throws(MRDError) -> String {
        guard case .scalar(let scalar) = node, !isNull else { throw error("\(what) must be text") }
        return scalar.string
    }

    func double(what: String) throws(MRDError) -> Double {
        guard case .scalar(let scalar) = node, scalar.style == .plain, let value = Double(scalar.string), value.isFinite else {
            throw error("\(what) must be a number")
        }
        return value
    }

    func int(what: String) throws(MRDError) -> Int {
        guard case .scalar(let scalar) = node, scalar.style == .plain, let value = Int(scalar.string.replacingOccurrences(of: "_", with: "")) else {
            throw error("\(what) must be a whole number")
        }
        return value
    }

    func strings(what: String) throws(MRDError) -> [String] {
        if case .scalar = node { return [try string(what: what)] }
        var result: [String] = []
        for item in try sequence(what: what) { result.append(try item.string(what: what)) }
        return result
    }

    func doubles(what: String, count: Int? = nil) throws(MRDError) -> [Double] {
        var result: [Double] = []
        for item in try sequence(what: what) { result.append(try item.double(what: what)) }
        if let count, result.count != count { throw error("\(what) must hold \(count) numbers, not \(result.count)") }
        return result
    }
}

/// A mapping read with its allowed keys.
struct KeyedNode {
    let owner: TemplateNode
    let what: String
    let entries: [(String, TemplateNode, Mark?)]

    subscript(key: String) -> TemplateNode? { entries.first { $0.0 == key }?.1 }

    var keys: [String] { entries.map(\.0) }

    func required(_ key: String) throws(MRDError) -> TemplateNode {
        guard let node = self[key] else { throw owner.error("\(what): missing required key \"\(key)\"") }
        return node
    }

    func error(_ detail: String) -> MRDError { owner.error("\(what): \(detail)") }

    /// The marker named under `key`, which must be one of the panel's `markers`; `label` names
    /// the value in type errors, `owner` starts the not-in-panel error.
    func marker(_ key: String, in markers: Set<String>, label: String, owner: String) throws(MRDError) -> String {
        let n = try required(key)
        let name = try n.string(what: label)
        guard markers.contains(name) else {
            throw n.error("\(owner): marker \"\(name)\" is not in the panel (it has \(markers.sorted().joined(separator: ", ")))")
        }
        return name
    }

    /// The same mapping, named `what` in errors (once, say, a gate's id is known).
    func named(_ what: String) -> KeyedNode { KeyedNode(owner: owner, what: what, entries: entries) }
}

/// Levenshtein distance, for "did you mean" suggestions.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a.lowercased()), b = Array(b.lowercased())
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
