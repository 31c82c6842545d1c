import Foundation
import TestSupport
import Testing
import FCS
@testable import Cytometry

@Suite("Gating-ML import and export")
struct GatingMLTests {
    func document(_ body: String) -> Data {
        Data("""
        <?xml version="1.0" encoding="UTF-8"?>
        <gating:Gating-ML xmlns:gating="http://www.isac-net.org/std/Gating-ML/v2.0/gating"
            xmlns:transforms="http://www.isac-net.org/std/Gating-ML/v2.0/transformations"
            xmlns:data-type="http://www.isac-net.org/std/Gating-ML/v2.0/datatypes">
        \(body)
        </gating:Gating-ML>
        """.utf8)
    }

    @Test("export of the whole compliance suite re-imports to identical membership", .enabled(if: SharedMaterial.isAvailable, Comment(rawValue: SharedMaterial.skipMessage)))
    func exportRoundTrip() throws {
        let directory = SharedMaterial.root!.appendingPathComponent("conformance/gatingml2")
        let original = try GatingMLImport.read(path: directory.appendingPathComponent("gml/gml_all_gates.xml").path)
        let exported = try GatingMLExport.document(original)
        let reimported = try GatingMLImport.read(data: Data(exported.utf8), file: "exported.xml")
        // Quadrants come back as rectangles with the same bounds; everything else is identical.
        #expect(reimported.gates.map(\.id) == original.gates.map(\.id))
        #expect(reimported.gates.map(\.parentID) == original.gates.map(\.parentID))
        #expect(reimported.gates.map(\.shape) == original.gates.map(\.shape))
        #expect(try GatingMLExport.document(reimported) == exported, "export is stable")
        let data = try FCSFile(path: directory.appendingPathComponent("data1.fcs").path)
        let a = try TreeEvaluator(tree: original).evaluate(file: data, membership: true)
        let b = try TreeEvaluator(tree: reimported).evaluate(file: data, membership: true)
        #expect(a.membership == b.membership)
        #expect(a.gates == b.gates)
    }

    @Test("unsupported elements are errors naming the element and line, never skipped gates")
    func unsupported() throws {
        let cases: [(String, String, Int)] = [
            ("<gating:CurlyGate gating:id=\"c\" />", "gating:CurlyGate", 5),
            ("""
             <gating:RectangleGate gating:id="r">
               <gating:dimension gating:compensation-ref="uncompensated" gating:min="1"><data-type:fcs-dimension data-type:name="X" /></gating:dimension>
               <gating:sample />
             </gating:RectangleGate>
             """, "gating:sample", 7),
            ("""
             <transforms:transformation transforms:id="t"><transforms:fsquare transforms:T="1" /></transforms:transformation>
             """, "transforms:fsquare", 5),
        ]
        for (body, element, line) in cases {
            #expect(throws: CytometryError.unsupportedGatingML(file: "t.xml", line: line, element: element)) {
                try GatingMLImport.read(data: document(body), file: "t.xml")
            }
        }
    }

    @Test("malformed values and references are errors with their line")
    func malformed() throws {
        func error(_ body: String) -> CytometryError? {
            do { _ = try GatingMLImport.read(data: document(body), file: "m.xml"); return nil } catch { return error }
        }
        let notNumber = error("""
            <gating:RectangleGate gating:id="r">
              <gating:dimension gating:compensation-ref="uncompensated" gating:min="abc"><data-type:fcs-dimension data-type:name="X" /></gating:dimension>
            </gating:RectangleGate>
            """)
        guard case .gatingML("m.xml", 6, let detail)? = notNumber else { Issue.record("got \(String(describing: notNumber))"); return }
        #expect(detail.contains("min=\"abc\" is not a number"))
        let badTransform = error("""
            <gating:RectangleGate gating:id="r">
              <gating:dimension gating:compensation-ref="uncompensated" gating:min="1" gating:transformation-ref="nope"><data-type:fcs-dimension data-type:name="X" /></gating:dimension>
            </gating:RectangleGate>
            """)
        guard case .gatingML(_, 6, let detail2)? = badTransform else { Issue.record("got \(String(describing: badTransform))"); return }
        #expect(detail2.contains("transformation-ref \"nope\""))
        let badParent = error("""
            <gating:RectangleGate gating:id="r" gating:parent_id="ghost">
              <gating:dimension gating:compensation-ref="uncompensated" gating:min="1"><data-type:fcs-dimension data-type:name="X" /></gating:dimension>
            </gating:RectangleGate>
            """)
        guard case .gatingML(_, 5, let detail3)? = badParent else { Issue.record("got \(String(describing: badParent))"); return }
        #expect(detail3.contains("parent \"ghost\" does not exist"))
        let badLogicle = error("""
            <transforms:transformation transforms:id="L"><transforms:logicle transforms:T="1000" transforms:W="5" transforms:M="4.5" transforms:A="0" /></transforms:transformation>
            """)
        guard case .gatingML(_, 5, _)? = badLogicle else { Issue.record("got \(String(describing: badLogicle))"); return }
        var notXML: CytometryError?
        do { _ = try GatingMLImport.read(data: Data("<gating:Gating-ML><a></b>".utf8), file: "m.xml") } catch { notXML = error }
        guard case .gatingML(_, _, let detail4)? = notXML else { Issue.record("got \(String(describing: notXML))"); return }
        #expect(detail4.contains("malformed XML"))
    }

    @Test("a plain asinh(x/cofactor) gate cannot be exported silently")
    func asinhExport() throws {
        let tree = try GatingTree(gates: [Gate(id: "g", shape: .rectangle(
            dimensions: [.channel("X", transform: NamedTransformation(id: "a", BoundedTransformation(.asinhCofactor(150))))],
            minimums: [1], maximums: [nil]))])
        #expect(throws: CytometryError.self) { try GatingMLExport.document(tree) }
    }
}
