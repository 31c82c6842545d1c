/// A strict, non-validating XML 1.0 reader for Gating-ML documents, written for this project so
/// that no third-party parser sees untrusted bytes (FoundationXML trapped and segfaulted on
/// malformed input found by fuzzing; see docs/reliability.md).
///
/// It reads UTF-8 (a byte-order mark is skipped; a declared encoding other than UTF-8 or
/// US-ASCII is an error), elements, attributes in either quote, character data, the five
/// predefined entities and numeric character references, CDATA sections, comments, processing
/// instructions and a DOCTYPE without an internal subset. A DOCTYPE with an internal subset is
/// refused: entity declarations are how XML documents expand without bound, and Gating-ML never
/// needs them. A namespace prefix must be declared (`xmlns:prefix`) on the element or an
/// ancestor; prefixes are kept in the qualified name and dropped from the local one, and
/// `xmlns` attributes are not stored.
///
/// Every well-formedness error is an ``XMLSyntaxError`` with the line it was found on: an
/// unclosed or mismatched tag, a duplicate attribute, `<` in an attribute value, an unknown
/// entity, a character XML does not allow, text or a second element after the root, nesting
/// deeper than ``maximumDepth``.
///
/// Cost: one pass over the bytes, O(n) time; memory is the element tree (about the size of the
/// document plus a node per element). Nothing is sized from the document's content except by
/// the bytes it actually holds.
struct XMLReader {
    /// Elements nested deeper than this are an error (the tree is freed recursively, and no
    /// Gating-ML document needs more than a dozen levels).
    static let maximumDepth = 256

    private let bytes: [UInt8]
    private var position = 0
    private var lineCountedTo = 0
    private var lineAtCounted = 1
    /// How many open elements declare each namespace prefix.
    private var boundPrefixes: [String: Int] = [:]

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Parses a whole document and returns its root element.
    static func parse(_ bytes: [UInt8]) throws(XMLSyntaxError) -> XMLNode {
        var reader = XMLReader(bytes)
        return try reader.document()
    }

    // MARK: Document structure

    private mutating func document() throws(XMLSyntaxError) -> XMLNode {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { position = 3 }
        if startsWith("<?xml"), position + 5 < bytes.count, Self.isSpace(bytes[position + 5]) {
            try declaration()
        }
        try miscellany(allowDoctype: true)
        guard position < bytes.count else { throw fail("the document has no root element") }
        guard bytes[position] == UInt8(ascii: "<") else { throw fail("text before the root element") }
        let root = try element()
        try miscellany(allowDoctype: false)
        if position < bytes.count {
            throw fail(bytes[position] == UInt8(ascii: "<") ? "a second element after the root element ends" : "text after the root element")
        }
        return root
    }

    /// `<?xml version="1.0" encoding="…" standalone="…"?>`
    private mutating func declaration() throws(XMLSyntaxError) {
        position += 5
        var pseudo: [(String, String)] = []
        while true {
            let hadSpace = skipSpaces()
            if startsWith("?>") { position += 2; break }
            guard position < bytes.count else { throw fail("the XML declaration is not closed with ?>") }
            guard hadSpace else { throw fail("the XML declaration needs a space before the next attribute") }
            let name = try self.name(what: "XML declaration attribute")
            let value = try attributeValue(after: name)
            pseudo.append((name, value))
        }
        guard pseudo.first?.0 == "version" else { throw fail("the XML declaration does not start with version") }
        for (name, value) in pseudo {
            switch name {
            case "version":
                guard value.hasPrefix("1."), value.count > 2, value.dropFirst(2).allSatisfy({ ("0"..."9").contains($0) }) else {
                    throw fail("XML version \"\(value)\" is not supported (1.x)")
                }
            case "encoding":
                guard ["utf-8", "utf8", "us-ascii", "ascii"].contains(value.lowercased()) else {
                    throw fail("encoding \"\(value)\" is not supported (Gating-ML files must be UTF-8)")
                }
            case "standalone":
                guard value == "yes" || value == "no" else { throw fail("standalone=\"\(value)\" must be yes or no") }
            default:
                throw fail("the XML declaration has an unknown attribute \(name)")
            }
        }
    }

    /// Whitespace, comments, processing instructions and (before the root) one DOCTYPE.
    private mutating func miscellany(allowDoctype: Bool) throws(XMLSyntaxError) {
        var doctypeSeen = false
        while true {
            skipSpaces()
            if startsWith("<!--") { try comment() }
            else if startsWith("<?") { try processingInstruction() }
            else if startsWith("<!DOCTYPE") {
                guard allowDoctype, !doctypeSeen else { throw fail("a DOCTYPE is only allowed once, before the root element") }
                try doctype()
                doctypeSeen = true
            } else { return }
        }
    }

    private mutating func doctype() throws(XMLSyntaxError) {
        position += 9
        var quote: UInt8? = nil
        while position < bytes.count {
            let byte = bytes[position]
            if let q = quote {
                if byte == q { quote = nil }
            } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                quote = byte
            } else if byte == UInt8(ascii: "[") {
                throw fail("a DOCTYPE with an internal subset is not supported (entity declarations are refused)")
            } else if byte == UInt8(ascii: ">") {
                position += 1
                return
            }
            position += 1
        }
        throw fail("the DOCTYPE is not closed with >")
    }

    private mutating func comment() throws(XMLSyntaxError) {
        let start = position
        position += 4
        _ = try skip(past: "--", openedAt: start, unclosed: "a comment is not closed with -->")
        guard position < bytes.count, bytes[position] == UInt8(ascii: ">") else {
            position -= 2
            throw fail("-- inside a comment")
        }
        position += 1
    }

    private mutating func processingInstruction() throws(XMLSyntaxError) {
        let start = position
        position += 2
        let target = try name(what: "processing instruction target")
        guard !target.contains(":") else { throw fail("the processing instruction target \(target) contains a colon") }
        guard target.lowercased() != "xml" else { throw fail("an XML declaration is only allowed at the very start") }
        guard startsWith("?>") || (position < bytes.count && Self.isSpace(bytes[position])) else {
            throw fail("the processing instruction \(target) is not followed by a space or ?>")
        }
        _ = try skip(past: "?>", openedAt: start, unclosed: "the processing instruction \(target) is not closed with ?>")
    }

    // MARK: Elements

    /// Reads an element and everything inside it, iteratively (no recursion per level).
    private mutating func element() throws(XMLSyntaxError) -> XMLNode {
        var stack: [XMLNode] = []
        var declaredOnStack: [[String]] = []
        var root: XMLNode?
        while true {
            // At a `<` that opens a start tag.
            let (node, declared, prefixes) = try startTag()
            for prefix in declared { boundPrefixes[prefix, default: 0] += 1 }
            for prefix in prefixes where boundPrefixes[prefix, default: 0] == 0 {
                throw XMLSyntaxError(line: node.line, message: "namespace prefix \(prefix) in <\(node.qualifiedName)> is not declared (xmlns:\(prefix)=\"…\")")
            }
            if let parent = stack.last { parent.children.append(node) } else { root = node }
            if node.isEmptyElement {
                for prefix in declared { boundPrefixes[prefix]! -= 1 }
                if stack.isEmpty { return node }
            } else {
                guard stack.count < Self.maximumDepth else { throw fail("elements are nested deeper than \(Self.maximumDepth) levels") }
                stack.append(node)
                declaredOnStack.append(declared)
            }
            // Content until the next start tag, or end tags until the stack is empty.
            while let open = stack.last {
                try characterData(into: open)
                guard position < bytes.count else {
                    throw fail("the document ends inside <\(open.qualifiedName)> (opened on line \(open.line))")
                }
                if startsWith("</") {
                    try endTag(closing: open)
                    stack.removeLast()
                    for prefix in declaredOnStack.removeLast() { boundPrefixes[prefix]! -= 1 }
                    if stack.isEmpty { return root! }
                } else if startsWith("<!--") {
                    try comment()
                } else if startsWith("<![CDATA[") {
                    try cdata(into: open)
                } else if startsWith("<?") {
                    try processingInstruction()
                } else if startsWith("<!") {
                    throw fail("unexpected <! inside <\(open.qualifiedName)>")
                } else {
                    break   // a child's start tag
                }
            }
        }
    }

    /// A start tag: the node, the namespace prefixes it declares, and the prefixes its name
    /// and attributes use.
    private mutating func startTag() throws(XMLSyntaxError) -> (XMLNode, declared: [String], used: [String]) {
        let line = currentLine()
        position += 1
        let qualified = try qualifiedName(what: "element name")
        var attributes: [String: String] = [:]
        var seen = Set<String>()
        var declared: [String] = []
        var used: [String] = []
        if let prefix = Self.prefix(qualified) { used.append(prefix) }
        while true {
            let hadSpace = skipSpaces()
            guard position < bytes.count else { throw fail("the start tag <\(qualified)> is not closed") }
            let empty = startsWith("/>")
            if empty || bytes[position] == UInt8(ascii: ">") {
                position += empty ? 2 : 1
                let node = XMLNode(name: XMLNode.localName(qualified), qualifiedName: qualified, attributes: attributes, line: line)
                node.isEmptyElement = empty
                return (node, declared, used)
            }
            guard hadSpace else { throw fail("the start tag <\(qualified)> needs a space before the next attribute") }
            let attribute = try qualifiedName(what: "attribute name")
            guard seen.insert(attribute).inserted else { throw fail("attribute \(attribute) is given twice in <\(qualified)>") }
            let value = try attributeValue(after: attribute)
            if attribute == "xmlns" { continue }
            if attribute.hasPrefix("xmlns:") {
                let prefix = String(attribute.dropFirst(6))
                guard !prefix.isEmpty, !prefix.contains(":"), !value.isEmpty else { throw fail("the namespace declaration \(attribute)=\"\(value)\" is not valid") }
                declared.append(prefix)
                continue
            }
            if let prefix = Self.prefix(attribute) { used.append(prefix) }
            attributes[XMLNode.localName(attribute)] = value
        }
    }

    /// The namespace prefix of a qualified name, if it has one that must be declared (`xml` is
    /// bound by definition). A name with an empty part (`:a`, `a:`) has none and stays as written.
    private static func prefix(_ qualified: String) -> String? {
        guard let colon = qualified.firstIndex(of: ":"), colon != qualified.startIndex,
              qualified.index(after: colon) != qualified.endIndex else { return nil }
        let prefix = String(qualified[..<colon])
        return prefix == "xml" ? nil : prefix
    }

    private mutating func endTag(closing open: XMLNode) throws(XMLSyntaxError) {
        position += 2
        let closing = try qualifiedName(what: "end tag name")
        skipSpaces()
        guard position < bytes.count, bytes[position] == UInt8(ascii: ">") else { throw fail("the end tag </\(closing)> is not closed with >") }
        guard closing == open.qualifiedName else {
            throw fail("</\(closing)> does not close <\(open.qualifiedName)> (opened on line \(open.line))")
        }
        position += 1
    }

    /// `= "value"` after an attribute name, with references expanded and whitespace normalized.
    private mutating func attributeValue(after attribute: String) throws(XMLSyntaxError) -> String {
        skipSpaces()
        guard position < bytes.count, bytes[position] == UInt8(ascii: "=") else { throw fail("attribute \(attribute) has no =") }
        position += 1
        skipSpaces()
        guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") || bytes[position] == UInt8(ascii: "'") else {
            throw fail("the value of attribute \(attribute) is not quoted")
        }
        let quote = bytes[position]
        position += 1
        var value: [UInt8] = []
        while true {
            guard position < bytes.count else { throw fail("the value of attribute \(attribute) is not closed") }
            let byte = bytes[position]
            if byte == quote { position += 1; break }
            switch byte {
            case UInt8(ascii: "<"): throw fail("< inside the value of attribute \(attribute)")
            case UInt8(ascii: "&"): try reference(into: &value)
            case 0x0D:   // CR LF and lone CR are one line end, which normalizes to a space
                value.append(UInt8(ascii: " "))
                position += 1
                if position < bytes.count, bytes[position] == 0x0A { position += 1 }
            case 0x09, 0x0A: value.append(UInt8(ascii: " ")); position += 1
            default:
                try checkCharacter(at: position)
                value.append(byte)
                position += 1
            }
        }
        return String(decoding: value, as: UTF8.self)
    }

    /// Character data and references up to the next `<` (or the end), appended to `node.text`.
    private mutating func characterData(into node: XMLNode) throws(XMLSyntaxError) {
        var text: [UInt8] = []
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "<") { break }
            if byte == UInt8(ascii: "&") { try reference(into: &text); continue }
            if byte == 0x0D {
                text.append(0x0A)
                position += 1
                if position < bytes.count, bytes[position] == 0x0A { position += 1 }
                continue
            }
            if byte == UInt8(ascii: ">"), position >= 2, bytes[position - 1] == UInt8(ascii: "]"), bytes[position - 2] == UInt8(ascii: "]") {
                throw fail("]]> in character data")
            }
            try checkCharacter(at: position)
            text.append(byte)
            position += 1
        }
        if !text.isEmpty { node.text += String(decoding: text, as: UTF8.self) }
    }

    private mutating func cdata(into node: XMLNode) throws(XMLSyntaxError) {
        let start = position
        position += 9
        let content = try skip(past: "]]>", openedAt: start, unclosed: "a CDATA section is not closed with ]]>")
        node.text += String(decoding: bytes[content], as: UTF8.self)
    }

    /// Moves past the next `terminator`, checking every character before it, and returns their
    /// range. Without one, the error is reported at `openedAt`, where the construct began.
    private mutating func skip(past terminator: StaticString, openedAt: Int, unclosed: String) throws(XMLSyntaxError) -> Range<Int> {
        let contentStart = position
        while position < bytes.count {
            if startsWith(terminator) {
                let content = contentStart..<position
                position += terminator.utf8CodeUnitCount
                return content
            }
            try checkCharacter(at: position)
            position += 1
        }
        position = openedAt
        throw fail(unclosed)
    }

    /// `&name;` for the five predefined entities, `&#N;` and `&#xH;`.
    private mutating func reference(into out: inout [UInt8]) throws(XMLSyntaxError) {
        let start = position
        position += 1
        var end = position
        while end < bytes.count, end - position <= 10, bytes[end] != UInt8(ascii: ";") { end += 1 }
        guard end < bytes.count, bytes[end] == UInt8(ascii: ";") else { throw fail("& is not the start of a reference ending in ; (write &amp;)") }
        let body = String(decoding: bytes[position..<end], as: UTF8.self)
        position = end + 1
        switch body {
        case "lt": out.append(UInt8(ascii: "<"))
        case "gt": out.append(UInt8(ascii: ">"))
        case "amp": out.append(UInt8(ascii: "&"))
        case "quot": out.append(UInt8(ascii: "\""))
        case "apos": out.append(UInt8(ascii: "'"))
        default:
            var scalarValue: UInt32?
            if body.hasPrefix("#x") { scalarValue = UInt32(body.dropFirst(2), radix: 16) }
            else if body.hasPrefix("#") { scalarValue = UInt32(body.dropFirst(), radix: 10) }
            else {
                position = start
                throw fail("unknown entity &\(body); (only &lt; &gt; &amp; &quot; &apos; and character references are defined)")
            }
            guard let value = scalarValue, Self.isXMLCharacter(value), let scalar = Unicode.Scalar(value) else {
                position = start
                throw fail("&\(body); is not a character XML allows")
            }
            out.append(contentsOf: Array(String(Character(scalar)).utf8))
        }
    }

    // MARK: Lexical pieces

    private mutating func name(what: String) throws(XMLSyntaxError) -> String {
        let start = position
        guard position < bytes.count, Self.isNameStart(bytes[position]) else {
            throw fail(position < bytes.count ? "expected an \(what), found \(Self.describe(bytes[position]))" : "the document ends where an \(what) was expected")
        }
        position += 1
        while position < bytes.count, Self.isNameByte(bytes[position]) { position += 1 }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    /// A name as the Namespaces in XML recommendation allows it: `local` or `prefix:local`, each
    /// part starting with a letter, `_` or a non-ASCII character.
    private mutating func qualifiedName(what: String) throws(XMLSyntaxError) -> String {
        let start = position
        let qualified = try name(what: what)
        let parts = qualified.utf8.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
        guard parts.count <= 2, parts.allSatisfy({ $0.first.map { Self.isNameStart($0) && $0 != UInt8(ascii: ":") } ?? false }) else {
            position = start
            throw fail("\(qualified) is not a valid \(what) (prefix:local, each part starting with a letter or _)")
        }
        return qualified
    }

    /// Skips whitespace; true when there was any.
    @discardableResult
    private mutating func skipSpaces() -> Bool {
        let start = position
        while position < bytes.count, Self.isSpace(bytes[position]) { position += 1 }
        return position > start
    }

    private func startsWith(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard position + count <= bytes.count else { return false }
        let pointer = literal.utf8Start
        for k in 0..<count where bytes[position + k] != pointer[k] { return false }
        return true
    }

    /// Control characters other than tab, line feed and carriage return are not XML.
    private func checkCharacter(at index: Int) throws(XMLSyntaxError) {
        let byte = bytes[index]
        if byte < 0x20, byte != 0x09, byte != 0x0A, byte != 0x0D {
            throw XMLSyntaxError(line: line(at: index), message: "control character 0x\(String(byte, radix: 16, uppercase: true)) at byte \(index) is not allowed in XML")
        }
    }

    private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }

    private static func isNameStart(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
            || b == UInt8(ascii: "_") || b == UInt8(ascii: ":") || b >= 0x80
    }

    private static func isNameByte(_ b: UInt8) -> Bool {
        isNameStart(b) || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "-") || b == UInt8(ascii: ".")
    }

    private static func isXMLCharacter(_ v: UInt32) -> Bool {
        v == 0x09 || v == 0x0A || v == 0x0D || (0x20...0xD7FF).contains(v) || (0xE000...0xFFFD).contains(v) || (0x10000...0x10FFFF).contains(v)
    }

    private static func describe(_ b: UInt8) -> String {
        b >= 0x21 && b < 0x7F ? "'\(Character(Unicode.Scalar(b)))'" : "byte 0x\(String(b, radix: 16, uppercase: true))"
    }

    // MARK: Lines

    /// The 1-based line of the current position. Positions only move forward between calls
    /// except on an error, so counting is linear overall.
    private mutating func currentLine() -> Int {
        if position < lineCountedTo { return line(at: position) }
        var k = lineCountedTo
        while k < position { if bytes[k] == 0x0A { lineAtCounted += 1 }; k += 1 }
        lineCountedTo = position
        return lineAtCounted
    }

    private func line(at index: Int) -> Int {
        var line = 1
        for k in 0..<min(index, bytes.count) where bytes[k] == 0x0A { line += 1 }
        return line
    }

    private func fail(_ message: String) -> XMLSyntaxError {
        XMLSyntaxError(line: line(at: position), message: message)
    }
}

/// A well-formedness error found by ``XMLReader``: the 1-based line and what was wrong.
struct XMLSyntaxError: Error, Equatable {
    let line: Int
    let message: String
}
