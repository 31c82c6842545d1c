import Foundation

/// Reads Gating-ML 2.0 documents into a ``GatingTree``.
///
/// Supported: RectangleGate, PolygonGate, EllipsoidGate, QuadrantGate (each quadrant becomes
/// a gate), BooleanGate (and/or/not, use-as-complement), parent_id; transformations flin, flog,
/// fasinh, logicle, hyperlog, fratio (as new-dimension), with boundMin/boundMax; spectrumMatrix
/// (with matrix-inverted-already); compensation-ref "FCS", "uncompensated" or a matrix id.
/// Anything else is an error naming the element and line — a gate is never skipped silently.
public enum GatingMLImport {
    /// The largest Gating-ML file read (a whole panel's gates are a few hundred kilobytes).
    public static let maximumFileSize = 64 << 20

    /// Reads the file at `path`.
    public static func read(path: String) throws(CytometryError) -> GatingTree {
        switch XMLNode.contents(ofFile: path, limit: maximumFileSize, kind: "Gating-ML") {
        case .success(let data): return try read(data: data, file: path)
        case .failure(let problem): throw .gatingML(file: path, line: 0, detail: problem.detail == "no such file" ? "cannot read the file" : problem.detail)
        }
    }

    /// Reads a document; `file` names it in errors.
    public static func read(data: Data, file: String) throws(CytometryError) -> GatingTree {
        let root = try XMLNode.parse(data, file: file)
        return try Reader(file: file).tree(root)
    }

    struct Reader {
        let file: String

        func fail(_ node: XMLNode, _ detail: String) -> CytometryError {
            .gatingML(file: file, line: node.line, detail: "<\(node.qualifiedName)>: \(detail)")
        }

        func number(_ node: XMLNode, _ attribute: String) throws(CytometryError) -> Double {
            guard let text = node.attributes[attribute] else { throw fail(node, "attribute \(attribute) is missing") }
            guard let value = Double(text.trimmingCharacters(in: .whitespaces)), value.isFinite else {
                throw fail(node, "attribute \(attribute)=\"\(text)\" is not a number")
            }
            return value
        }

        func optionalNumber(_ node: XMLNode, _ attribute: String) throws(CytometryError) -> Double? {
            node.attributes[attribute] == nil ? nil : try number(node, attribute)
        }

        func required(_ node: XMLNode, _ attribute: String) throws(CytometryError) -> String {
            guard let value = node.attributes[attribute], !value.isEmpty else { throw fail(node, "attribute \(attribute) is missing") }
            return value
        }

        /// Elements that carry no gating meaning.
        static let ignorable: Set<String> = ["custom_info"]

        func tree(_ root: XMLNode) throws(CytometryError) -> GatingTree {
            guard root.name == "Gating-ML" else { throw fail(root, "the root element must be Gating-ML") }
            var transforms: [String: (NamedTransformation?, ratio: (String, String, Double, Double, Double)?)] = [:]
            var matrices: [String: CompensationMatrix] = [:]
            // First pass: transformations and matrices, which gates may reference before they are defined.
            for node in root.children {
                switch node.name {
                case "transformation":
                    let id = try required(node, "id")
                    transforms[id] = try transformation(node, id: id)
                case "spectrumMatrix":
                    let id = try required(node, "id")
                    matrices[id] = try spectrumMatrix(node)
                default: break
                }
            }
            var gates: [Gate] = []
            for node in root.children {
                switch node.name {
                case "transformation", "spectrumMatrix": continue
                case let name where Self.ignorable.contains(name): continue
                case "RectangleGate", "PolygonGate", "EllipsoidGate", "BooleanGate":
                    gates.append(try gate(node, transforms: transforms, matrices: matrices))
                case "QuadrantGate":
                    gates += try quadrants(node, transforms: transforms, matrices: matrices)
                default:
                    throw .unsupportedGatingML(file: file, line: node.line, element: node.qualifiedName)
                }
            }
            do throws(CytometryError) {
                return try GatingTree(gates: gates, matrices: matrices)
            } catch {
                if case .invalidGate(let id, let detail) = error {
                    let line = root.children.first { $0.attributes["id"] == id }?.line ?? 0
                    throw .gatingML(file: file, line: line, detail: "gate \"\(id)\": \(detail)")
                }
                throw error
            }
        }

        func transformation(_ node: XMLNode, id: String) throws(CytometryError) -> (NamedTransformation?, ratio: (String, String, Double, Double, Double)?) {
            let bodies = node.children.filter { !Self.ignorable.contains($0.name) }
            guard bodies.count == 1, let body = bodies.first else { throw fail(node, "a transformation needs exactly one transform element") }
            let boundMin = try optionalNumber(body.attributes["boundMin"] != nil ? body : node, "boundMin")
            let boundMax = try optionalNumber(body.attributes["boundMax"] != nil ? body : node, "boundMax")
            let t: Transformation
            do throws(CytometryError) {
                switch body.name {
                case "flin": t = try Transformation.validated(.linear(T: number(body, "T"), A: number(body, "A")))
                case "flog": t = try Transformation.validated(.log(T: number(body, "T"), M: number(body, "M")))
                case "fasinh": t = try Transformation.validated(.asinh(T: number(body, "T"), M: number(body, "M"), A: number(body, "A")))
                case "logicle": t = .logicle(try LogicleTransform(T: number(body, "T"), W: number(body, "W"), M: number(body, "M"), A: number(body, "A")))
                case "hyperlog": t = .hyperlog(try HyperlogTransform(T: number(body, "T"), W: number(body, "W"), M: number(body, "M"), A: number(body, "A")))
                case "fratio":
                    let operands = body.children(named: "fcs-dimension")
                    guard operands.count == 2 else { throw fail(body, "fratio needs two fcs-dimension operands") }
                    return (nil, ratio: (try required(operands[0], "name"), try required(operands[1], "name"),
                                         try number(body, "A"), try number(body, "B"), try number(body, "C")))
                default:
                    throw CytometryError.unsupportedGatingML(file: file, line: body.line, element: body.qualifiedName)
                }
            } catch {
                if case .invalidTransform(let detail) = error { throw fail(body, detail) }
                throw error
            }
            return (NamedTransformation(id: id, BoundedTransformation(t, boundMin: boundMin, boundMax: boundMax)), nil)
        }

        func spectrumMatrix(_ node: XMLNode) throws(CytometryError) -> CompensationMatrix {
            func names(_ group: String) throws(CytometryError) -> [String] {
                guard let element = node.child(named: group) else { throw fail(node, "\(group) is missing") }
                var result: [String] = []
                for child in element.children(named: "fcs-dimension") { result.append(try required(child, "name")) }
                return result
            }
            let fluorochromes = try names("fluorochromes")
            let detectors = try names("detectors")
            var spectra: [[Double]] = []
            for spectrum in node.children(named: "spectrum") {
                var row: [Double] = []
                for coefficient in spectrum.children(named: "coefficient") { row.append(try number(coefficient, "value")) }
                spectra.append(row)
            }
            let inverted = node.attributes["matrix-inverted-already"] == "true"
            do throws(CytometryError) {
                return try CompensationMatrix(fluorochromes: fluorochromes, detectors: detectors, spectra: spectra, invertedAlready: inverted)
            } catch {
                throw fail(node, error.description)
            }
        }

        func compensation(_ node: XMLNode, matrices: [String: CompensationMatrix]) throws(CytometryError) -> CompensationReference {
            let value = try required(node, "compensation-ref")
            switch value {
            case "FCS": return .file
            case "uncompensated": return .uncompensated
            default:
                guard matrices[value] != nil else { throw fail(node, "compensation-ref \"\(value)\" names no spectrumMatrix") }
                return .matrix(value)
            }
        }

        typealias Transforms = [String: (NamedTransformation?, ratio: (String, String, Double, Double, Double)?)]

        /// A dimension or divider element: compensation, optional transform, and an fcs-dimension or new-dimension.
        func dimension(_ node: XMLNode, transforms: Transforms, matrices: [String: CompensationMatrix]) throws(CytometryError) -> GateDimension {
            let compensation = try compensation(node, matrices: matrices)
            var transform: NamedTransformation?
            if let reference = node.attributes["transformation-ref"] {
                guard let entry = transforms[reference], let named = entry.0 else {
                    throw fail(node, "transformation-ref \"\(reference)\" names no scale transformation")
                }
                transform = named
            }
            if let fcs = node.child(named: "fcs-dimension") {
                return GateDimension(.channel(try required(fcs, "name")), compensation: compensation, transform: transform)
            }
            if let new = node.child(named: "new-dimension") {
                let reference = try required(new, "transformation-ref")
                guard let ratio = transforms[reference]?.ratio else { throw fail(new, "transformation-ref \"\(reference)\" names no fratio") }
                return GateDimension(.ratio(id: reference, numerator: ratio.0, denominator: ratio.1, A: ratio.2, B: ratio.3, C: ratio.4),
                                     compensation: compensation, transform: transform)
            }
            throw fail(node, "needs an fcs-dimension or new-dimension")
        }

        func checkChildren(_ node: XMLNode, allowed: Set<String>) throws(CytometryError) {
            for child in node.children where !allowed.contains(child.name) && !Self.ignorable.contains(child.name) {
                throw .unsupportedGatingML(file: file, line: child.line, element: child.qualifiedName)
            }
        }

        func gate(_ node: XMLNode, transforms: Transforms, matrices: [String: CompensationMatrix]) throws(CytometryError) -> Gate {
            let id = try required(node, "id")
            let parent = node.attributes["parent_id"]
            switch node.name {
            case "RectangleGate":
                try checkChildren(node, allowed: ["dimension"])
                var dimensions: [GateDimension] = [], minimums: [Double?] = [], maximums: [Double?] = []
                for d in node.children(named: "dimension") {
                    dimensions.append(try dimension(d, transforms: transforms, matrices: matrices))
                    minimums.append(try optionalNumber(d, "min"))
                    maximums.append(try optionalNumber(d, "max"))
                    if minimums.last! == nil && maximums.last! == nil { throw fail(d, "a rectangle dimension needs min or max") }
                }
                guard !dimensions.isEmpty else { throw fail(node, "a RectangleGate needs at least one dimension") }
                return Gate(id: id, parentID: parent, shape: .rectangle(dimensions: dimensions, minimums: minimums, maximums: maximums))
            case "PolygonGate":
                try checkChildren(node, allowed: ["dimension", "vertex"])
                let ds = node.children(named: "dimension")
                guard ds.count == 2 else { throw fail(node, "a PolygonGate needs exactly two dimensions, has \(ds.count)") }
                var vertices: [Vertex] = []
                for v in node.children(named: "vertex") {
                    let coordinates = v.children(named: "coordinate")
                    guard coordinates.count == 2 else { throw fail(v, "a vertex needs two coordinates") }
                    vertices.append(Vertex(try number(coordinates[0], "value"), try number(coordinates[1], "value")))
                }
                guard vertices.count >= 3 else { throw fail(node, "a PolygonGate needs at least 3 vertices, has \(vertices.count)") }
                return Gate(id: id, parentID: parent, shape: .polygon(
                    x: try dimension(ds[0], transforms: transforms, matrices: matrices),
                    y: try dimension(ds[1], transforms: transforms, matrices: matrices), vertices: vertices))
            case "EllipsoidGate":
                try checkChildren(node, allowed: ["dimension", "mean", "covarianceMatrix", "distanceSquare"])
                var dimensions: [GateDimension] = []
                for d in node.children(named: "dimension") { dimensions.append(try dimension(d, transforms: transforms, matrices: matrices)) }
                guard let meanNode = node.child(named: "mean"), let covarianceNode = node.child(named: "covarianceMatrix"),
                      let distanceNode = node.child(named: "distanceSquare") else {
                    throw fail(node, "an EllipsoidGate needs mean, covarianceMatrix and distanceSquare")
                }
                var mean: [Double] = []
                for c in meanNode.children(named: "coordinate") { mean.append(try number(c, "value")) }
                var covariance: [Double] = []
                for row in covarianceNode.children(named: "row") {
                    for entry in row.children(named: "entry") { covariance.append(try number(entry, "value")) }
                }
                let n = dimensions.count
                guard mean.count == n, covariance.count == n * n else {
                    throw fail(node, "\(n) dimensions need \(n) mean coordinates and a \(n) × \(n) covariance matrix")
                }
                return Gate(id: id, parentID: parent, shape: .ellipsoid(dimensions: dimensions, mean: mean, covariance: covariance,
                                                                        distanceSquare: try number(distanceNode, "value")))
            default:  // BooleanGate
                let operators = node.children.filter { ["and", "or", "not"].contains($0.name) }
                try checkChildren(node, allowed: ["and", "or", "not"])
                guard operators.count == 1, let body = operators.first, let op = BooleanOperator(rawValue: body.name) else {
                    throw fail(node, "a BooleanGate needs exactly one of and, or, not")
                }
                try checkChildren(body, allowed: ["gateReference"])
                var operands: [BooleanOperand] = []
                for reference in body.children(named: "gateReference") {
                    operands.append(BooleanOperand(try required(reference, "ref"), complement: reference.attributes["use-as-complement"] == "true"))
                }
                return Gate(id: id, parentID: parent, shape: .boolean(op, operands: operands))
            }
        }

        /// A QuadrantGate becomes one rectangle-shaped gate per Quadrant: for each divider a
        /// quadrant names, the interval between the divider values that holds its location.
        func quadrants(_ node: XMLNode, transforms: Transforms, matrices: [String: CompensationMatrix]) throws(CytometryError) -> [Gate] {
            let id = try required(node, "id")
            let parent = node.attributes["parent_id"]
            try checkChildren(node, allowed: ["divider", "Quadrant"])
            var dividers: [String: (GateDimension, [Double])] = [:]
            for d in node.children(named: "divider") {
                let dividerID = try required(d, "id")
                var values: [Double] = []
                for v in d.children(named: "value") {
                    guard let value = Double(v.text.trimmingCharacters(in: .whitespacesAndNewlines)), value.isFinite else {
                        throw fail(v, "divider value \"\(v.text)\" is not a number")
                    }
                    values.append(value)
                }
                guard !values.isEmpty else { throw fail(d, "a divider needs at least one value") }
                dividers[dividerID] = (try dimension(d, transforms: transforms, matrices: matrices), values.sorted())
            }
            var gates: [Gate] = []
            for q in node.children(named: "Quadrant") {
                let quadrantID = try required(q, "id")
                var dimensions: [GateDimension] = [], minimums: [Double?] = [], maximums: [Double?] = []
                for position in q.children(named: "position") {
                    let reference = try required(position, "divider_ref")
                    guard let (dimension, values) = dividers[reference] else { throw fail(position, "divider_ref \"\(reference)\" names no divider") }
                    let location = try number(position, "location")
                    let above = values.firstIndex { $0 > location } ?? values.count
                    dimensions.append(dimension)
                    minimums.append(above > 0 ? values[above - 1] : nil)
                    maximums.append(above < values.count ? values[above] : nil)
                }
                guard !dimensions.isEmpty else { throw fail(q, "a Quadrant needs at least one position") }
                gates.append(Gate(id: quadrantID, parentID: parent, shape: .rectangle(dimensions: dimensions, minimums: minimums, maximums: maximums), quadrantOf: id))
            }
            return gates
        }
    }
}
