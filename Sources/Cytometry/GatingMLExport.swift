/// Writes a ``GatingTree`` as a Gating-ML 2.0 document that re-imports to identical membership.
///
/// Quadrants imported from a QuadrantGate are written as RectangleGates with the same
/// bounds (min inclusive, max exclusive), which avoids divider/position rounding entirely.
/// Numbers are written in Swift's shortest round-trip form, so bounds re-import bit-exactly.
public enum GatingMLExport {
    /// - Throws: ``CytometryError/invalidTransform(_:)`` for a plain asinh(x/cofactor) transform, which Gating-ML cannot express.
    public static func document(_ tree: GatingTree) throws(CytometryError) -> String {
        for gate in tree.gates {
            if gate.complement {
                throw .invalidGate(id: gate.id, detail: "events outside a shape (FlowJo eventsInside=0) have no single Gating-ML gate")
            }
            for d in gate.dimensions {
                switch d.transform?.transform.transformation {
                case .asinhCofactor(let c)?:
                    throw .invalidTransform("gate \(gate.id): asinh(x/\(c)) has no Gating-ML 2.0 form; use fasinh")
                case .flowJoLog?, .flowJoBiex?:
                    throw .invalidTransform("gate \(gate.id): FlowJo's \(d.transform!.id) scale has no Gating-ML 2.0 form")
                default: break
                }
            }
        }
        var lines: [String] = []
        lines.append(#"<?xml version="1.0" encoding="UTF-8"?>"#)
        lines.append(#"<gating:Gating-ML xmlns:gating="http://www.isac-net.org/std/Gating-ML/v2.0/gating" xmlns:transforms="http://www.isac-net.org/std/Gating-ML/v2.0/transformations" xmlns:data-type="http://www.isac-net.org/std/Gating-ML/v2.0/datatypes">"#)
        // Transformations and ratios used by any dimension, each once, in first-use order.
        var written = Set<String>()
        for gate in tree.gates {
            for dimension in gate.dimensions {
                if case .ratio(let id, let x, let y, let A, let B, let C) = dimension.source, written.insert(id).inserted {
                    lines.append("  <transforms:transformation transforms:id=\"\(escape(id))\">")
                    lines.append("    <transforms:fratio transforms:A=\"\(number(A))\" transforms:B=\"\(number(B))\" transforms:C=\"\(number(C))\">")
                    lines.append("      <data-type:fcs-dimension data-type:name=\"\(escape(x))\" />")
                    lines.append("      <data-type:fcs-dimension data-type:name=\"\(escape(y))\" />")
                    lines.append("    </transforms:fratio>")
                    lines.append("  </transforms:transformation>")
                }
                if let named = dimension.transform, written.insert(named.id).inserted {
                    lines.append(transformation(named))
                }
            }
        }
        for id in tree.matrices.keys.sorted() {
            let matrix = tree.matrices[id]!
            lines.append("  <transforms:spectrumMatrix transforms:id=\"\(escape(id))\"\(matrix.invertedAlready ? " transforms:matrix-inverted-already=\"true\"" : "")>")
            lines.append("    <transforms:fluorochromes>")
            for name in matrix.outputs { lines.append("      <data-type:fcs-dimension data-type:name=\"\(escape(name))\" />") }
            lines.append("    </transforms:fluorochromes>")
            lines.append("    <transforms:detectors>")
            for name in matrix.detectors { lines.append("      <data-type:fcs-dimension data-type:name=\"\(escape(name))\" />") }
            lines.append("    </transforms:detectors>")
            for row in matrix.spectra {
                lines.append("    <transforms:spectrum>")
                for value in row { lines.append("      <transforms:coefficient transforms:value=\"\(number(value))\" />") }
                lines.append("    </transforms:spectrum>")
            }
            lines.append("  </transforms:spectrumMatrix>")
        }
        for gate in tree.gates { lines += self.gate(gate) }
        lines.append("</gating:Gating-ML>")
        return lines.joined(separator: "\n") + "\n"
    }

    static func transformation(_ named: NamedTransformation) -> String {
        var bounds = ""
        if let lo = named.transform.boundMin { bounds += " transforms:boundMin=\"\(number(lo))\"" }
        if let hi = named.transform.boundMax { bounds += " transforms:boundMax=\"\(number(hi))\"" }
        let body: String
        switch named.transform.transformation {
        case .linear(let T, let A): body = "<transforms:flin transforms:T=\"\(number(T))\" transforms:A=\"\(number(A))\"\(bounds) />"
        case .log(let T, let M): body = "<transforms:flog transforms:T=\"\(number(T))\" transforms:M=\"\(number(M))\"\(bounds) />"
        case .asinh(let T, let M, let A):
            body = "<transforms:fasinh transforms:T=\"\(number(T))\" transforms:M=\"\(number(M))\" transforms:A=\"\(number(A))\"\(bounds) />"
        case .logicle(let l):
            body = "<transforms:logicle transforms:T=\"\(number(l.T))\" transforms:W=\"\(number(l.W))\" transforms:M=\"\(number(l.M))\" transforms:A=\"\(number(l.A))\"\(bounds) />"
        case .hyperlog(let h):
            body = "<transforms:hyperlog transforms:T=\"\(number(h.T))\" transforms:W=\"\(number(h.W))\" transforms:M=\"\(number(h.M))\" transforms:A=\"\(number(h.A))\"\(bounds) />"
        case .asinhCofactor, .flowJoLog, .flowJoBiex:
            preconditionFailure("checked by document(_:)")
        }
        return "  <transforms:transformation transforms:id=\"\(escape(named.id))\">\n    \(body)\n  </transforms:transformation>"
    }

    static func dimension(_ d: GateDimension, bounds: String = "", element: String = "gating:dimension") -> [String] {
        var attributes = " gating:compensation-ref=\"\(compensation(d.compensation))\""
        if let transform = d.transform { attributes += " gating:transformation-ref=\"\(escape(transform.id))\"" }
        var lines = ["    <\(element)\(attributes)\(bounds)>"]
        switch d.source {
        case .channel(let name): lines.append("      <data-type:fcs-dimension data-type:name=\"\(escape(name))\" />")
        case .ratio(let id, _, _, _, _, _): lines.append("      <data-type:new-dimension data-type:transformation-ref=\"\(escape(id))\" />")
        }
        lines.append("    </\(element)>")
        return lines
    }

    static func gate(_ gate: Gate) -> [String] {
        var open = "gating:id=\"\(escape(gate.id))\""
        if let parent = gate.parentID { open += " gating:parent_id=\"\(escape(parent))\"" }
        var lines: [String] = []
        switch gate.shape {
        case .rectangle(let dimensions, let minimums, let maximums):
            lines.append("  <gating:RectangleGate \(open)>")
            for (k, d) in dimensions.enumerated() {
                var bounds = ""
                if let lo = minimums[k] { bounds += " gating:min=\"\(number(lo))\"" }
                if let hi = maximums[k] { bounds += " gating:max=\"\(number(hi))\"" }
                lines += dimension(d, bounds: bounds)
            }
            lines.append("  </gating:RectangleGate>")
        case .polygon(let x, let y, let vertices):
            lines.append("  <gating:PolygonGate \(open)>")
            lines += dimension(x) + dimension(y)
            for v in vertices {
                lines.append("    <gating:vertex><gating:coordinate data-type:value=\"\(number(v.x))\" /><gating:coordinate data-type:value=\"\(number(v.y))\" /></gating:vertex>")
            }
            lines.append("  </gating:PolygonGate>")
        case .ellipsoid(let dimensions, let mean, let covariance, let distanceSquare):
            lines.append("  <gating:EllipsoidGate \(open)>")
            for d in dimensions { lines += dimension(d) }
            lines.append("    <gating:mean>" + mean.map { "<gating:coordinate data-type:value=\"\(number($0))\" />" }.joined() + "</gating:mean>")
            lines.append("    <gating:covarianceMatrix>")
            let n = dimensions.count
            for r in 0..<n {
                lines.append("      <gating:row>" + (0..<n).map { "<gating:entry data-type:value=\"\(number(covariance[r * n + $0]))\" />" }.joined() + "</gating:row>")
            }
            lines.append("    </gating:covarianceMatrix>")
            lines.append("    <gating:distanceSquare data-type:value=\"\(number(distanceSquare))\" />")
            lines.append("  </gating:EllipsoidGate>")
        case .boolean(let op, let operands):
            lines.append("  <gating:BooleanGate \(open)>")
            lines.append("    <gating:\(op.rawValue)>")
            for operand in operands {
                lines.append("      <gating:gateReference gating:ref=\"\(escape(operand.gateID))\"\(operand.complement ? " gating:use-as-complement=\"true\"" : "") />")
            }
            lines.append("    </gating:\(op.rawValue)>")
            lines.append("  </gating:BooleanGate>")
        }
        return lines
    }

    static func compensation(_ reference: CompensationReference) -> String {
        switch reference {
        case .uncompensated: return "uncompensated"
        case .file: return "FCS"
        case .matrix(let id): return escape(id)
        }
    }

    static func number(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    static func escape(_ text: String) -> String { XMLEscaping.escape(text) }
}
