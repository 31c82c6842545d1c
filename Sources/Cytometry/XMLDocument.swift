import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// A small element tree read with the SAX parser, keeping each element's line number
/// for error messages. Names and attribute names are stored without their namespace prefix.
final class XMLNode {
    let name: String
    let qualifiedName: String
    let attributes: [String: String]
    let line: Int
    var children: [XMLNode] = []
    var text = ""

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

    /// Parses `data`; a malformed document is an error naming the line.
    static func parse(_ data: Data, file: String) throws(CytometryError) -> XMLNode {
        // FoundationXML traps on names that are not valid UTF-8 (found by fuzzing): check first.
        if let offset = firstInvalidUTF8(data) {
            let line = data.prefix(offset).reduce(1) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
            throw .gatingML(file: file, line: line, detail: "malformed XML: byte \(offset) is not valid UTF-8 (Gating-ML files must be UTF-8)")
        }
        let builder = TreeBuilder()
        let parser = XMLParser(data: withoutEmptyProcessingInstructions(data))
        parser.delegate = builder
        builder.parser = parser
        let parsed = parser.parse()
        if !parsed || builder.root == nil || builder.error != nil {
            let error = builder.error ?? parser.parserError
            let message = error.map { "\($0.localizedDescription)" } ?? "not an XML document"
            throw .gatingML(file: file, line: builder.errorLine ?? parser.lineNumber, detail: "malformed XML: \(message)")
        }
        return builder.root!
    }

    /// `data` with every processing instruction that has no data (`<?name?>`) blanked out with
    /// spaces (line numbers unchanged). FoundationXML dereferences the missing data and crashes
    /// (found by fuzzing); such an instruction carries nothing Gating-ML uses.
    static func withoutEmptyProcessingInstructions(_ data: Data) -> Data {
        var bytes = [UInt8](data)
        var i = 0
        let space = UInt8(ascii: " "), question = UInt8(ascii: "?"), open = UInt8(ascii: "<"), close = UInt8(ascii: ">")
        func isBlank(_ b: UInt8) -> Bool { b == space || b == 0x09 || b == 0x0A || b == 0x0D }
        while i + 3 < bytes.count {
            guard bytes[i] == open, bytes[i + 1] == question else { i += 1; continue }
            var j = i + 2
            while j < bytes.count, !isBlank(bytes[j]), bytes[j] != question { j += 1 }   // the target name
            var k = j
            while k < bytes.count, isBlank(bytes[k]) { k += 1 }
            if k + 1 < bytes.count, bytes[k] == question, bytes[k + 1] == close {
                for m in i...(k + 1) where bytes[m] != 0x0A { bytes[m] = space }
                i = k + 2
            } else {
                i = j
            }
        }
        return Data(bytes)
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

    private final class TreeBuilder: NSObject, XMLParserDelegate {
        var root: XMLNode?
        var stack: [XMLNode] = []
        var error: Error?
        var errorLine: Int?

        func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) {
            if error == nil {
                error = parseError
                errorLine = parser.lineNumber
            }
        }

        func parser(_ parser: XMLParser, validationErrorOccurred validationError: Error) {
            self.parser(parser, parseErrorOccurred: validationError)
        }
        weak var parser: XMLParser?

        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                    qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
            var attributes: [String: String] = [:]
            for (key, value) in attributeDict where !key.hasPrefix("xmlns") { attributes[XMLNode.localName(key)] = value }
            let node = XMLNode(name: XMLNode.localName(elementName), qualifiedName: elementName, attributes: attributes, line: parser.lineNumber)
            if let parent = stack.last { parent.children.append(node) } else { root = node }
            stack.append(node)
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
            _ = stack.popLast()
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            stack.last?.text += string
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
