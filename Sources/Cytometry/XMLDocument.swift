import Foundation

/// An element of a parsed XML document (see ``XMLReader``), with the line its start tag begins
/// on for error messages. `name` and attribute keys are local names (namespace prefix dropped);
/// `qualifiedName` keeps the prefix as written.
final class XMLNode {
    let name: String
    let qualifiedName: String
    let attributes: [String: String]
    let line: Int
    var children: [XMLNode] = []
    var text = ""
    /// Written as `<name/>`.
    var isEmptyElement = false

    init(name: String, qualifiedName: String, attributes: [String: String], line: Int) {
        self.name = name
        self.qualifiedName = qualifiedName
        self.attributes = attributes
        self.line = line
    }

    func children(named name: String) -> [XMLNode] { children.filter { $0.name == name } }
    func child(named name: String) -> XMLNode? { children.first { $0.name == name } }

    static func localName(_ qualified: String) -> String {
        qualified.split(separator: ":", maxSplits: 1).last.map(String.init) ?? qualified
    }

    /// The bytes of the XML file at `path`, or why not (no file, above `limit` bytes — checked
    /// before reading — or unreadable), for the caller to state in its own error.
    static func contents(ofFile path: String, limit: Int, kind: String) -> Result<Data, ReadProblem> {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return .failure(ReadProblem(detail: "no such file")) }
        if let size = attributes[.size] as? Int, size > limit {
            return .failure(ReadProblem(detail: "the file is \(size) bytes; \(kind) files above \(limit >> 20) MiB are refused"))
        }
        guard let data = FileManager.default.contents(atPath: path) else { return .failure(ReadProblem(detail: "cannot read the file")) }
        return .success(data)
    }

    struct ReadProblem: Error { let detail: String }

    /// Parses `data`; a document that is not UTF-8 or not well-formed is an error naming the line.
    static func parse(_ data: Data, file: String) throws(CytometryError) -> XMLNode {
        if let offset = firstInvalidUTF8(data) {
            let line = data.prefix(offset).reduce(1) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
            throw .gatingML(file: file, line: line, detail: "malformed XML: byte \(offset) is not valid UTF-8 (Gating-ML files must be UTF-8)")
        }
        do {
            return try XMLReader.parse([UInt8](data))
        } catch {
            throw .gatingML(file: file, line: error.line, detail: "malformed XML: \(error.message)")
        }
    }

    /// The offset of the first byte that does not belong to a valid UTF-8 sequence, or nil.
    static func firstInvalidUTF8(_ data: Data) -> Int? {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = data.makeIterator()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded): offset += encoded.count
            case .emptyInput: return nil
            case .error: return offset
            }
        }
    }
}

/// Escaping of text for XML and HTML: the five predefined entities (`& < > " '`), so a value
/// can stand in element content and in either kind of quoted attribute.
public enum XMLEscaping {
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(c)
            }
        }
        return out
    }
}
