import Foundation
import TestSupport
import Testing
@testable import Cytometry

/// FlowMRD's own XML reader (which replaced FoundationXML after fuzzing crashed it) against
/// exact errors, and against expat (Python's standard library) as an independent reader.
@Suite("XML reader")
struct XMLReaderTests {
    /// A compact Gating-ML-like document using every construct the reader supports.
    static let base = """
    <?xml version="1.0" encoding="UTF-8"?>
    <!-- exported by hand -->
    <?flowmrd note?>
    <g:Gating-ML xmlns:g="urn:g" xmlns:d="urn:d">
      <g:RectangleGate g:id="R&amp;1"
          g:parent_id='P'>
        <g:dimension g:min="1e2" g:max="&#49;0&#x30;"><d:fcs-dimension d:name="FL1-H"/></g:dimension>
      </g:RectangleGate>
      <g:value>&lt;5&gt; <![CDATA[a<b]]> &quot;&apos;</g:value>
    </g:Gating-ML>
    """

    func parse(_ text: String) throws(XMLSyntaxError) -> XMLNode { try XMLReader.parse(Array(text.utf8)) }

    @Test("reads elements, attributes, references, CDATA and lines")
    func reads() throws {
        let root = try parse(Self.base)
        #expect(root.qualifiedName == "g:Gating-ML" && root.name == "Gating-ML" && root.line == 4)
        #expect(root.attributes.isEmpty)
        let gate = try #require(root.child(named: "RectangleGate"))
        #expect(gate.attributes == ["id": "R&1", "parent_id": "P"] && gate.line == 5)
        let dimension = try #require(gate.child(named: "dimension"))
        #expect(dimension.attributes == ["min": "1e2", "max": "100"] && dimension.line == 7)
        #expect(dimension.children.first?.isEmptyElement == true && dimension.children.first?.attributes == ["name": "FL1-H"])
        #expect(root.child(named: "value")?.text == "<5> a<b \"'")
    }

    @Test("each malformation is an error naming its line", arguments: [
        ("<a>", 1, "the document ends inside <a> (opened on line 1)"),
        ("<a>\n</b>", 2, "</b> does not close <a> (opened on line 1)"),
        ("<a x='1' x='2'/>", 1, "attribute x is given twice in <a>"),
        ("<a x='<'/>", 1, "< inside the value of attribute x"),
        ("<a x=1/>", 1, "the value of attribute x is not quoted"),
        ("<a x='1'y='2'/>", 1, "the start tag <a> needs a space before the next attribute"),
        ("<a>&bogus;</a>", 1, "unknown entity &bogus; (only &lt; &gt; &amp; &quot; &apos; and character references are defined)"),
        ("<a>&#0;</a>", 1, "&#0; is not a character XML allows"),
        ("<a>& b</a>", 1, "& is not the start of a reference ending in ; (write &amp;)"),
        ("<a>\n\u{01}</a>", 2, "control character 0x1 at byte 4 is not allowed in XML"),
        ("<a/><b/>", 1, "a second element after the root element ends"),
        ("<a/>\ntext", 2, "text after the root element"),
        ("text<a/>", 1, "text before the root element"),
        ("", 1, "the document has no root element"),
        ("<!DOCTYPE a [<!ENTITY x \"y\">]><a/>", 1, "a DOCTYPE with an internal subset is not supported (entity declarations are refused)"),
        ("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a/>", 1, "encoding \"ISO-8859-1\" is not supported (Gating-ML files must be UTF-8)"),
        ("<a/>\n<?xml version=\"1.0\"?>", 2, "an XML declaration is only allowed at the very start"),
        ("<a><!-- x -- y --></a>", 1, "-- inside a comment"),
        ("<a><!-- x </a>", 1, "a comment is not closed with -->"),
        ("<a><![CDATA[x</a>", 1, "a CDATA section is not closed with ]]>"),
        ("<a>]]></a>", 1, "]]> in character data"),
        ("<p:a/>", 1, "namespace prefix p in <p:a> is not declared (xmlns:p=\"…\")"),
        ("<a xmlns:p='u'/>\n", 1, nil),
        ("<a xmlns:p=''/>", 1, "the namespace declaration xmlns:p=\"\" is not valid"),
        ("<1a/>", 1, "expected an element name, found '1'"),
        ("<a:b:c xmlns:a='u'/>", 1, "a:b:c is not a valid element name (prefix:local, each part starting with a letter or _)"),
        ("<a g:-x='1' xmlns:g='u'/>", 1, "g:-x is not a valid attribute name (prefix:local, each part starting with a letter or _)"),
        ("<?a:b c?><a/>", 1, "the processing instruction target a:b contains a colon"),
        ("<?xml version=\"1.0\"encoding=\"UTF-8\"?><a/>", 1, "the XML declaration needs a space before the next attribute"),
        ("<?xml version=\"2.0\"?><a/>", 1, "XML version \"2.0\" is not supported (1.x)"),
    ] as [(String, Int, String?)])
    func malformed(_ text: String, _ line: Int, _ message: String?) {
        do {
            _ = try parse(text)
            #expect(message == nil, "accepted \(text)")
        } catch {
            #expect(error == XMLSyntaxError(line: line, message: message ?? "-"))
        }
    }

    @Test("nesting deeper than the limit is an error, not a stack overflow")
    func depth() {
        let deep = String(repeating: "<a>", count: 100_000) + String(repeating: "</a>", count: 100_000)
        #expect(throws: XMLSyntaxError(line: 1, message: "elements are nested deeper than 256 levels")) { try parse(deep) }
        let allowed = String(repeating: "<a>", count: 256) + String(repeating: "</a>", count: 256)
        #expect((try? parse(allowed)) != nil)
    }

    @Test("a Gating-ML error from the reader names the file and line")
    func gatingMLError() {
        #expect(throws: CytometryError.gatingML(file: "x.xml", line: 2, detail: "malformed XML: </b> does not close <a> (opened on line 1)")) {
            try GatingMLImport.read(data: Data("<a>\n</b>".utf8), file: "x.xml")
        }
    }

    @Test("a Gating-ML file above the stated limit is refused before it is read")
    func oversized() throws {
        let directory = TemporaryDirectory()
        let path = directory.path("huge.xml")
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        #expect(truncate(path, off_t(GatingMLImport.maximumFileSize + 1)) == 0)
        #expect(throws: CytometryError.gatingML(file: path, line: 0, detail: "the file is 67108865 bytes; Gating-ML files above 64 MiB are refused")) {
            try GatingMLImport.read(path: path)
        }
    }

    // MARK: Against expat

    /// expat's verdict and element list for each document (Tests/peers/expat_dump.py).
    struct ExpatResult: Decodable {
        struct Element: Decodable { let name: String; let line: Int; let attributes: [String: String]; let text: String; let depth: Int }
        let ok: Bool
        let line: Int?
        let error: String?
        let elements: [Element]?
    }

    func expat(_ documents: [[UInt8]]) throws -> [ExpatResult] {
        let directory = TemporaryDirectory()
        let input = directory.path("docs.json"), output = directory.path("out.json")
        try JSONEncoder().encode(documents.map { Data($0).base64EncodedString() }).write(to: URL(fileURLWithPath: input))
        let run = try Python.run([SharedMaterial.packageRoot.appendingPathComponent("Tests/peers/expat_dump.py").path, input, output])
        try #require(run.status == 0, "\(run.stderr)")
        return try JSONDecoder().decode([ExpatResult].self, from: Data(contentsOf: URL(fileURLWithPath: output)))
    }

    /// Elements in document order with their depth, as expat lists them.
    func flatten(_ root: XMLNode) -> [ExpatResult.Element] {
        var out: [ExpatResult.Element] = []
        func visit(_ node: XMLNode, _ depth: Int) {
            out.append(.init(name: node.qualifiedName, line: node.line, attributes: node.attributes, text: node.text, depth: depth))
            for child in node.children { visit(child, depth + 1) }
        }
        visit(root, 0)
        return out
    }

    func sameTree(_ ours: XMLNode, _ theirs: [ExpatResult.Element], _ label: String) {
        let mine = flatten(ours)
        #expect(mine.count == theirs.count, "\(label): \(mine.count) elements, expat \(theirs.count)")
        for (a, b) in zip(mine, theirs) {
            #expect(a.name == b.name && a.line == b.line && a.attributes == b.attributes && a.text == b.text && a.depth == b.depth,
                    "\(label): \(a.name) line \(a.line) vs expat \(b.name) line \(b.line)")
        }
    }

    @Test("every compliance-suite file reads to the same elements, attributes, text and lines as expat",
          .enabled(if: SharedMaterial.isAvailable, Comment(rawValue: SharedMaterial.skipMessage)))
    func conformanceFiles() throws {
        let folder = try #require(SharedMaterial.root).appendingPathComponent("conformance/gatingml2/gml")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".xml") }.sorted()
        try #require(names.count > 20)
        let documents = try names.map { try [UInt8](Data(contentsOf: folder.appendingPathComponent($0))) }
        let results = try expat(documents)
        for (name, (document, result)) in zip(names, zip(documents, results)) {
            #expect(result.ok, "\(name): expat says \(result.error ?? "")")
            do { sameTree(try XMLReader.parse(document), result.elements ?? [], name) } catch { Issue.record("\(name): \(error)") }
        }
    }

    @Test("every one-byte deletion and substitution of a document is accepted or refused as expat does, with the same tree when accepted")
    func mutations() throws {
        let base = Array(Self.base.utf8)
        var documents: [[UInt8]] = []
        for i in base.indices {
            var deleted = base; deleted.remove(at: i); documents.append(deleted)
            for replacement in Array("<>&\"'/=:!?-;[] x".utf8) where base[i] != replacement {
                var changed = base; changed[i] = replacement; documents.append(changed)
            }
        }
        let results = try expat(documents)
        var disagreements: [String] = []
        var stricter = 0
        for (document, result) in zip(documents, results) {
            let ours = Result { () throws(XMLSyntaxError) -> XMLNode in try XMLReader.parse(document) }
            switch (ours, result.ok) {
            case (.success(let root), true): sameTree(root, result.elements ?? [], String(decoding: document, as: UTF8.self))
            case (.failure, false): break
            case (.success, false):
                disagreements.append("accepted, expat refused (\(result.error ?? "")):\n\(String(decoding: document, as: UTF8.self))")
            case (.failure(let error), true) where error.message.hasPrefix("XML version") || error.message.hasPrefix("encoding"):
                stricter += 1   // by design: version 1.[0-9]+ (XML 1.0 fifth edition) and UTF-8 only; expat takes any version token
            case (.failure(let error), true):
                disagreements.append("refused (\(error.message)), expat accepted:\n\(String(decoding: document, as: UTF8.self))")
            }
        }
        #expect(documents.count > 5_000 && stricter < 40)
        #expect(disagreements.isEmpty, "\(disagreements.count) disagreements; first: \(disagreements.prefix(3).joined(separator: "\n---\n"))")
    }
}
