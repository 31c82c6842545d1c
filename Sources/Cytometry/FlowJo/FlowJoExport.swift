import Foundation

/// Writes a ``GatingTree`` resolved for one sample as a FlowJo 10 workspace (`.wsp`) that
/// references the FCS file, so that a reviewer can open FlowMRD's gates in FlowJo (or FlowKit).
///
/// FlowJo keeps coordinates in data values and one scale per parameter; FlowMRD's gates live
/// in transformed values. So each parameter gets the scale of the gates that read it (linear,
/// logicle and fasinh map exactly; flog becomes FlowJo's log, which differs only below its
/// offset), rectangle bounds and polygon vertices go back to data values through the gate's own
/// transform, compensated parameters get the matrix's prefix (`Comp-`), complemented boolean
/// operands become a NotNode at the top, and `complement` gates `eventsInside="0"`.
///
/// What FlowJo cannot hold is left out and listed — never silently approximated: ellipsoids,
/// ratio dimensions, a polygon whose axis another gate already scaled differently (or scaled by
/// a transform FlowJo lacks, or by flog), gates on a second matrix, and every gate below or
/// depending on a gate left out.
///
/// - Complexity: O(gates × (vertices + dimensions)).
public enum FlowJoExport {
    /// The workspace text and the gates left out, each with why.
    public struct Output: Sendable {
        public let xml: String
        public let omitted: [(id: String, reason: String)]
    }

    /// - Parameters:
    ///   - fcsPath: the FCS file's absolute path (the data set's URI).
    ///   - keywords: `$FIL`, `$TOT`… written as the sample's keywords, so FlowJo and
    ///     `flowmrd gate --flowjo` can match the file.
    ///   - fileCompensation: the matrix `.file` compensation stands for.
    ///   - counts: FlowMRD's count per gate id, written as each population's stored count (so
    ///     FlowJo, and `flowmrd gate --flowjo`, show them beside what they compute).
    ///   - notes: what else FlowMRD decided that no gate holds (clustering, the call), for the
    ///     workspace's annotation.
    public static func workspace(tree: GatingTree, fcsPath: String, eventCount: Int, keywords: [(String, String)],
                                 fileCompensation: CompensationMatrix?, counts: [String: Int] = [:], notes: [String]) -> Output {
        var omitted: [(id: String, reason: String)] = []
        var written = Set<String>()
        // One matrix: the file's, else the first named one a gate reads.
        var matrixRef: CompensationReference?
        var matrix: CompensationMatrix?
        for gate in tree.gates {
            for d in gate.dimensions where d.compensation != .uncompensated && matrixRef == nil {
                let m: CompensationMatrix?
                if case .matrix(let id) = d.compensation { m = tree.matrices[id] } else { m = fileCompensation }
                if let m, m.outputs == m.detectors { matrixRef = d.compensation; matrix = m }
            }
        }
        var scales: [String: Transformation?] = [:]
        func parameter(_ d: GateDimension) -> (name: String, channel: String)? {
            guard case .channel(let channel) = d.source else { return nil }
            if d.compensation == .uncompensated { return (channel, channel) }
            guard d.compensation == matrixRef, let matrix, matrix.outputs.contains(channel) else {
                return d.compensation == matrixRef ? (channel, channel) : nil   // a channel outside the matrix stays as read
            }
            return ("Comp-" + channel, channel)
        }
        func dataValue(_ y: Double?, _ d: GateDimension) -> Double? {
            guard let y, y != -.greatestFiniteMagnitude, y.isFinite else { return nil }
            return d.transform.map { $0.transform.transformation.inverse(y) } ?? y
        }
        // Polygons need FlowJo's scale to be their own transform; rectangles do not (their bounds
        // go back to data values, and every scale here is increasing), so polygons choose first.
        for gate in tree.gates {
            guard case .polygon(let x, let y, _) = gate.shape else { continue }
            for d in [x, y] {
                if let p = parameter(d), scales[p.channel] == nil { scales[p.channel] = .some(d.transform.flatMap(flowJoScale)) }
            }
        }
        // Per parent id ("" for the top): each child's id, opening XML and closing tag.
        var children: [String: [(id: String, open: String, close: String)]] = [:]
        var paths: [String: String] = [:]
        var extraTop: [String] = []          // NotNodes for complemented operands, at the top
        var extraNames = Set<String>()
        for index in tree.evaluationOrder {
            let gate = tree.gates[index]
            let name = gate.name ?? gate.id
            func omit(_ reason: String) { omitted.append((gate.id, reason)) }
            if let parent = gate.parentID, !written.contains(parent) { omit("its parent \(parent) is not in the workspace"); continue }
            let path = (gate.parentID.flatMap { paths[$0] }.map { $0 + "/" } ?? "") + name
            var body: String
            switch gate.shape {
            case .rectangle(let dimensions, let minimums, let maximums):
                var parts: [String] = []
                var failed: String?
                for (k, d) in dimensions.enumerated() {
                    guard let p = parameter(d) else { failed = "dimension \(d.label) is a ratio or reads a second matrix"; break }
                    if scales[p.channel] == nil { scales[p.channel] = .some(d.transform.flatMap(flowJoScale)) }
                    var bounds = ""
                    if let lo = dataValue(minimums[k], d) { bounds += " gating:min=\"\(number(lo))\"" }
                    if let hi = dataValue(maximums[k], d) { bounds += " gating:max=\"\(number(hi))\"" }
                    if bounds.isEmpty { bounds = " gating:min=\"\(number(-Double.greatestFiniteMagnitude))\"" }
                    parts.append("<gating:dimension\(bounds)>\(dimensionName(p.name))</gating:dimension>")
                }
                if let failed { omit(failed); continue }
                body = "<gating:RectangleGate eventsInside=\"\(gate.complement ? 0 : 1)\" gating:id=\"\(escape(gate.id))\">" + parts.joined() + "</gating:RectangleGate>"
            case .polygon(let x, let y, let vertices):
                var failed: String?
                for d in [x, y] {
                    guard let p = parameter(d) else { failed = "dimension \(d.label) is a ratio or reads a second matrix"; break }
                    guard d.transform?.transform.boundMin == nil, d.transform?.transform.boundMax == nil else { failed = "the transform of \(d.label) has bounds"; break }
                    let wanted = d.transform.flatMap(flowJoScale)
                    if d.transform != nil && wanted == nil { failed = "FlowJo has no scale for \(d.label)'s transform"; break }
                    if case .log? = d.transform?.transform.transformation { failed = "FlowJo's log scale differs from flog below its offset (\(d.label))"; break }
                    if let existing = scales[p.channel], existing != wanted { failed = "\(p.channel) is already scaled differently by another gate"; break }
                    scales[p.channel] = .some(wanted)
                }
                if let failed { omit(failed); continue }
                let px = parameter(x)!.name, py = parameter(y)!.name
                body = "<gating:PolygonGate eventsInside=\"\(gate.complement ? 0 : 1)\" gating:id=\"\(escape(gate.id))\">"
                    + "<gating:dimension>\(dimensionName(px))</gating:dimension><gating:dimension>\(dimensionName(py))</gating:dimension>"
                    + vertices.map { v in
                        "<gating:vertex><gating:coordinate data-type:value=\"\(number(dataValue(v.x, x) ?? v.x))\" /><gating:coordinate data-type:value=\"\(number(dataValue(v.y, y) ?? v.y))\" /></gating:vertex>"
                    }.joined() + "</gating:PolygonGate>"
            case .ellipsoid:
                omit("an ellipsoid in transformed values has no FlowJo form (FlowJo's ellipses live in its display raster)")
                continue
            case .boolean(let op, let operands):
                if let missing = operands.first(where: { !written.contains($0.gateID) }) { omit("it depends on \(missing.gateID), which is not in the workspace"); continue }
                var dependents: [String] = []
                for operand in operands {
                    guard operand.complement else { dependents.append(paths[operand.gateID]!); continue }
                    let notName = "\(tree.gate(operand.gateID)?.name ?? operand.gateID)~not"
                    if extraNames.insert(notName).inserted {
                        extraTop.append(booleanNode("NotNode", name: notName, dependents: [paths[operand.gateID]!], count: nil) + "</NotNode>")
                    }
                    dependents.append(notName)
                }
                let kind = op == .and ? "AndNode" : op == .or ? "OrNode" : "NotNode"
                children[gate.parentID ?? "", default: []].append((gate.id, booleanNode(kind, name: name, dependents: dependents, count: counts[gate.id]), "</\(kind)>"))
                written.insert(gate.id)
                paths[gate.id] = path
                continue
            }
            children[gate.parentID ?? "", default: []].append((gate.id, "<Population name=\"\(escape(name))\" owningGroup=\"\" count=\"\(counts[gate.id] ?? -1)\"><Gate gating:id=\"\(escape(gate.id))\">\(body)</Gate>", "</Population>"))
            written.insert(gate.id)
            paths[gate.id] = path
        }
        // Children in the tree's file order, each with its own subpopulations.
        let fileOrder = Dictionary(uniqueKeysWithValues: tree.gates.enumerated().map { ($1.id, $0) })
        func subtree(_ parent: String) -> String {
            (children[parent] ?? []).sorted { fileOrder[$0.id]! < fileOrder[$1.id]! }.map { node in
                let inner = subtree(node.id)
                return node.open + (inner.isEmpty ? "" : "<Subpopulations>\n\(inner)\n</Subpopulations>") + node.close
            }.joined(separator: "\n")
        }
        let top = subtree("") + (extraTop.isEmpty ? "" : "\n" + extraTop.joined(separator: "\n"))
        let name = fcsPath.split(separator: "/").last.map(String.init) ?? fcsPath
        var lines: [String] = []
        lines.append(#"<?xml version="1.0" encoding="UTF-8"?>"#)
        lines.append(#"<Workspace version="20.0" flowJoVersion="10.8.1" xmlns:gating="http://www.isac-net.org/std/Gating-ML/v2.0/gating" xmlns:transforms="http://www.isac-net.org/std/Gating-ML/v2.0/transformations" xmlns:data-type="http://www.isac-net.org/std/Gating-ML/v2.0/datatypes">"#)
        lines.append(#"<Groups><GroupNode name="All Samples" annotation="" owningGroup="All Samples"><Group name="All Samples"><SampleRefs><SampleRef sampleID="1" /></SampleRefs></Group></GroupNode></Groups>"#)
        lines.append("<SampleList>")
        lines.append("<Sample>")
        lines.append("<DataSet uri=\"\(escape(fileURI(fcsPath)))\" sampleID=\"1\" />")
        if let matrix {
            lines.append("<transforms:spilloverMatrix spectral=\"0\" prefix=\"Comp-\" name=\"FlowMRD\" suffix=\"\" transforms:id=\"flowmrd-matrix\"><data-type:parameters>"
                         + matrix.detectors.map { "<data-type:parameter data-type:name=\"\(escape($0))\" />" }.joined() + "</data-type:parameters>")
            for (i, row) in matrix.spectra.enumerated() {
                lines.append("<transforms:spillover data-type:parameter=\"\(escape(matrix.detectors[i]))\">"
                             + zip(matrix.detectors, row).map { "<transforms:coefficient data-type:parameter=\"\(escape($0))\" transforms:value=\"\(number($1))\" />" }.joined()
                             + "</transforms:spillover>")
            }
            lines.append("</transforms:spilloverMatrix>")
        }
        lines.append("<Transformations>")
        for channel in scales.keys.sorted() {
            let scale = scales[channel]! ?? .linear(T: 262_144, A: 0)
            lines.append(scaleElement(scale, parameter: channel))
        }
        lines.append("</Transformations>")
        lines.append("<Keywords>" + keywords.map { "<Keyword name=\"\(escape($0.0))\" value=\"\(escape($0.1))\" />" }.joined() + "</Keywords>")
        let annotation = (notes + omitted.map { "not exported: \($0.id) (\($0.reason))" }).joined(separator: "; ")
        lines.append("<SampleNode name=\"\(escape(name))\" annotation=\"\(escape(annotation))\" owningGroup=\"\" count=\"\(eventCount)\" sampleID=\"1\">")
        lines.append("<Subpopulations>")
        if !top.isEmpty { lines.append(top) }
        lines.append("</Subpopulations>")
        lines.append("</SampleNode>")
        lines.append("</Sample>")
        lines.append("</SampleList>")
        lines.append("</Workspace>")
        return Output(xml: lines.joined(separator: "\n") + "\n", omitted: omitted)
    }

    /// A boolean node's opening and dependents (its closing tag is added by the caller).
    static func booleanNode(_ kind: String, name: String, dependents: [String], count: Int?) -> String {
        "<\(kind) name=\"\(escape(name))\" owningGroup=\"\" count=\"\(count ?? -1)\"><Dependents>"
            + dependents.map { "<Dependent name=\"\(escape($0))\" />" }.joined() + "</Dependents>"
    }

    /// The FlowJo scale equal to a transform, or nil when FlowJo has none.
    static func flowJoScale(_ named: NamedTransformation) -> Transformation? {
        switch named.transform.transformation {
        case .linear, .asinh, .logicle, .flowJoLog, .flowJoBiex: return named.transform.transformation
        case .log(let T, let M): return .flowJoLog(offset: T * pow(10, -M), decades: M)
        case .hyperlog, .asinhCofactor: return nil
        }
    }

    static func scaleElement(_ scale: Transformation, parameter: String) -> String {
        let p = "<data-type:parameter data-type:name=\"\(escape(parameter))\" />"
        switch scale {
        case .linear(let T, let A):
            return "<transforms:linear transforms:minRange=\"\(number(A))\" transforms:maxRange=\"\(number(T))\" gain=\"1\">\(p)</transforms:linear>"
        case .asinh(let T, let M, let A):
            return "<transforms:fasinh transforms:length=\"256\" transforms:maxRange=\"\(number(T))\" transforms:T=\"\(number(T))\" transforms:M=\"\(number(M))\" transforms:A=\"\(number(A))\" transforms:W=\"0\">\(p)</transforms:fasinh>"
        case .logicle(let l):
            return "<transforms:logicle transforms:length=\"256\" transforms:T=\"\(number(l.T))\" transforms:W=\"\(number(l.W))\" transforms:M=\"\(number(l.M))\" transforms:A=\"\(number(l.A))\">\(p)</transforms:logicle>"
        case .flowJoLog(let offset, let decades):
            return "<transforms:log transforms:offset=\"\(number(offset))\" transforms:decades=\"\(number(decades))\">\(p)</transforms:log>"
        case .flowJoBiex(let b):
            return "<transforms:biex transforms:length=\"256\" transforms:maxRange=\"\(number(b.maximum))\" transforms:neg=\"\(number(b.negative))\" transforms:width=\"\(number(b.width))\" transforms:pos=\"\(number(b.positive))\">\(p)</transforms:biex>"
        case .log, .hyperlog, .asinhCofactor:
            return "<transforms:linear transforms:minRange=\"0\" transforms:maxRange=\"262144\" gain=\"1\">\(p)</transforms:linear>"
        }
    }

    static func dimensionName(_ name: String) -> String { "<data-type:fcs-dimension data-type:name=\"\(escape(name))\" />" }

    static func fileURI(_ path: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/")
        return "file:" + path.unicodeScalars.map { allowed.contains(Character($0)) ? String($0) : String($0.utf8.map { String(format: "%%%02X", $0) }.joined()) }.joined()
    }

    static func number(_ x: Double) -> String { "\(x)" }
    static func escape(_ s: String) -> String { XMLEscaping.escape(s) }
}
