import Foundation

/// Reads a FlowJo 10 workspace (`.wsp`) with FlowMRD's own XML reader (its nesting limit, UTF-8
/// check and line numbers) into a ``FlowJoWorkspace``.
///
/// Read: every `Sample` (data set URI, keywords, the Transformations element's scales, its
/// spillover matrix, the `SampleNode`'s gate tree), and every group's sample references. Gates:
/// rectangle (FlowJo writes quadrants as four of them), polygon, ellipse, And/Or/Not nodes,
/// nested to any depth. Anything else in a gate tree — another gate kind, a scale FlowJo does not
/// document, a spectral matrix, a malformed number — is an error naming the element and its line.
/// Layout elements (graphs, windows, tables) carry no gating and are not read.
public enum FlowJoWorkspaceReader {
    /// The largest workspace read: a cohort of thousands of samples stays far below it.
    public static let maximumFileSize = 512 << 20

    /// Reads the workspace at `path`.
    public static func read(path: String) throws(CytometryError) -> FlowJoWorkspace {
        switch XMLNode.contents(ofFile: path, limit: maximumFileSize, kind: "FlowJo workspace") {
        case .success(let data): return try read(data: data, file: path)
        case .failure(let problem): throw .flowJo(file: path, line: 0, detail: problem.detail)
        }
    }

    /// Reads a workspace document; `file` names it in errors.
    public static func read(data: Data, file: String) throws(CytometryError) -> FlowJoWorkspace {
        let root: XMLNode
        do { root = try XMLNode.parse(data, file: file) } catch {
            if case .gatingML(_, let line, let detail) = error { throw .flowJo(file: file, line: line, detail: detail) }
            throw error
        }
        return try Parser(file: file).workspace(root)
    }

    struct Parser {
        let file: String

        func fail(_ node: XMLNode, _ detail: String) -> CytometryError {
            .flowJo(file: file, line: node.line, detail: "<\(node.qualifiedName)>: \(detail)")
        }

        func text(_ node: XMLNode, _ attribute: String) throws(CytometryError) -> String {
            guard let value = node.attributes[attribute] else { throw fail(node, "attribute \(attribute) is missing") }
            return value
        }

        func number(_ node: XMLNode, _ attribute: String) throws(CytometryError) -> Double {
            let value = try text(node, attribute)
            guard let number = Double(value.trimmingCharacters(in: .whitespaces)), number.isFinite else {
                throw fail(node, "attribute \(attribute)=\"\(value)\" is not a number")
            }
            return number
        }

        func optionalNumber(_ node: XMLNode, _ attribute: String) throws(CytometryError) -> Double? {
            node.attributes[attribute] == nil ? nil : try number(node, attribute)
        }

        func count(_ node: XMLNode) -> Int? {
            node.attributes["count"].flatMap { Int($0) }.flatMap { $0 >= 0 ? $0 : nil }
        }

        func workspace(_ root: XMLNode) throws(CytometryError) -> FlowJoWorkspace {
            guard root.name == "Workspace" else { throw fail(root, "the root element must be Workspace (a FlowJo 10 workspace)") }
            guard let list = root.child(named: "SampleList") else { throw fail(root, "SampleList is missing") }
            var samples: [FlowJoWorkspace.Sample] = []
            var ids = Set<String>()
            for node in list.children(named: "Sample") {
                let sample = try sample(node)
                guard ids.insert(sample.id).inserted else { throw fail(node, "sampleID \"\(sample.id)\" is used by more than one sample") }
                samples.append(sample)
            }
            var groups: [FlowJoWorkspace.Group] = []
            for node in root.child(named: "Groups")?.children(named: "GroupNode") ?? [] {
                let name = try text(node, "name")
                var members: [String] = []
                for reference in node.child(named: "Group")?.child(named: "SampleRefs")?.children(named: "SampleRef") ?? [] {
                    let id = try text(reference, "sampleID")
                    guard ids.contains(id) else { throw fail(reference, "sampleID \"\(id)\" names no sample of the SampleList") }
                    members.append(id)
                }
                groups.append(.init(name: name, sampleIDs: members, line: node.line))
            }
            return FlowJoWorkspace(file: file, flowJoVersion: root.attributes["flowJoVersion"], samples: samples, groups: groups)
        }

        func sample(_ node: XMLNode) throws(CytometryError) -> FlowJoWorkspace.Sample {
            guard let dataSet = node.child(named: "DataSet") else { throw fail(node, "DataSet is missing") }
            guard let sampleNode = node.child(named: "SampleNode") else { throw fail(node, "SampleNode is missing") }
            let id = try text(dataSet, "sampleID")
            let nodeID = try text(sampleNode, "sampleID")
            guard nodeID == id else { throw fail(sampleNode, "sampleID \"\(nodeID)\" differs from its DataSet's \"\(id)\"") }
            var keywords: [String: String] = [:]
            for keyword in node.child(named: "Keywords")?.children(named: "Keyword") ?? [] {
                keywords[try text(keyword, "name")] = keyword.attributes["value"] ?? ""
            }
            var scales: [String: FlowJoWorkspace.Scale] = [:]
            for element in node.child(named: "Transformations")?.children ?? [] {
                guard let parameter = element.child(named: "parameter") else { throw fail(element, "the parameter it scales is missing") }
                scales[try text(parameter, "name")] = try scale(element)
            }
            let matrices = node.children(named: "spilloverMatrix")
            guard matrices.count <= 1 else { throw fail(matrices[1], "a sample with more than one spillover matrix is not supported") }
            var populations: [FlowJoWorkspace.Population] = []
            if let top = sampleNode.child(named: "Subpopulations") {
                try collect(top, path: [], into: &populations)
            }
            return .init(id: id, name: try text(sampleNode, "name"), uri: dataSet.attributes["uri"], keywords: keywords,
                         storedCount: count(sampleNode), scales: scales, matrix: try matrices.first.map(matrix),
                         populations: populations, file: file, line: node.line)
        }

        func scale(_ node: XMLNode) throws(CytometryError) -> FlowJoWorkspace.Scale {
            switch node.name {
            case "linear": return .linear(minimum: try number(node, "minRange"), maximum: try number(node, "maxRange"))
            case "log": return .log(offset: try number(node, "offset"), decades: try number(node, "decades"))
            case "logicle": return .logicle(T: try number(node, "T"), W: try number(node, "W"), M: try number(node, "M"), A: try number(node, "A"))
            case "fasinh": return .asinh(T: try number(node, "T"), M: try number(node, "M"), A: try number(node, "A"))
            case "biex":
                if let length = node.attributes["length"], length != "256" {
                    throw fail(node, "biex length \(length) is not supported (FlowJo documents only 256)")
                }
                return .biex(negative: try number(node, "neg"), width: try number(node, "width"),
                             positive: try number(node, "pos"), maximum: try number(node, "maxRange"))
            default:
                throw fail(node, "FlowJo scale \"\(node.name)\" is not supported (linear, log, logicle, biex and fasinh are)")
            }
        }

        func matrix(_ node: XMLNode) throws(CytometryError) -> FlowJoWorkspace.Matrix {
            if node.attributes["spectral"] == "1" { throw fail(node, "spectral (unmixing) matrices are not supported") }
            var detectors: [String] = []
            for parameter in node.child(named: "parameters")?.children(named: "parameter") ?? [] { detectors.append(try text(parameter, "name")) }
            guard !detectors.isEmpty else { throw fail(node, "the matrix names no parameters") }
            var rows: [[Double]] = []
            for spillover in node.children(named: "spillover") {
                let coefficients = spillover.children(named: "coefficient")
                var byName: [String: Double] = [:]
                for coefficient in coefficients { byName[try text(coefficient, "parameter")] = try number(coefficient, "value") }
                guard coefficients.count == detectors.count, detectors.allSatisfy({ byName[$0] != nil }) else {
                    throw fail(spillover, "a spillover row needs one coefficient for each of the \(detectors.count) parameters")
                }
                rows.append(detectors.map { byName[$0]! })
            }
            guard rows.count == detectors.count else {
                throw fail(node, "\(detectors.count) parameters need \(detectors.count) spillover rows; the matrix has \(rows.count)")
            }
            return .init(name: try text(node, "name"), prefix: node.attributes["prefix"] ?? "", suffix: node.attributes["suffix"] ?? "",
                         detectors: detectors, rows: rows, line: node.line)
        }

        /// The populations and boolean nodes under a Subpopulations element, depth first.
        func collect(_ subpopulations: XMLNode, path: [String], into populations: inout [FlowJoWorkspace.Population]) throws(CytometryError) {
            for child in subpopulations.children {
                let shape: FlowJoWorkspace.Shape
                switch child.name {
                case "Population":
                    guard let gate = child.child(named: "Gate") else { throw fail(child, "Gate is missing") }
                    let bodies = gate.children.filter { !$0.name.isEmpty }
                    guard bodies.count == 1 else { throw fail(gate, "a Gate needs exactly one gate element, has \(bodies.count)") }
                    shape = try self.shape(bodies[0])
                case "AndNode", "OrNode", "NotNode":
                    var dependents: [String] = []
                    for dependent in child.child(named: "Dependents")?.children(named: "Dependent") ?? [] { dependents.append(try text(dependent, "name")) }
                    let op: BooleanOperator = child.name == "AndNode" ? .and : child.name == "OrNode" ? .or : .not
                    switch op {
                    case .not where dependents.count != 1: throw fail(child, "a NotNode needs one Dependent, has \(dependents.count)")
                    case .and where dependents.count < 2, .or where dependents.count < 2:
                        throw fail(child, "an \(child.name) needs at least two Dependents, has \(dependents.count)")
                    default: break
                    }
                    shape = .boolean(op, dependents: dependents)
                default:
                    continue  // not a population (FlowJo also keeps statistics nodes here)
                }
                let name = try text(child, "name")
                guard !name.isEmpty else { throw fail(child, "the population has no name") }
                let population = FlowJoWorkspace.Population(name: name, path: path + [name], shape: shape, storedCount: count(child),
                                                            owningGroup: child.attributes["owningGroup"] ?? "", line: child.line)
                populations.append(population)
                if let nested = child.child(named: "Subpopulations") { try collect(nested, path: population.path, into: &populations) }
            }
        }

        func dimensionName(_ node: XMLNode) throws(CytometryError) -> String {
            if let fcs = node.child(named: "fcs-dimension") { return try text(fcs, "name") }
            if node.child(named: "new-dimension") != nil { throw fail(node, "a gate on a derived (new) dimension is not supported") }
            throw fail(node, "the dimension names no parameter (fcs-dimension)")
        }

        func vertices(_ nodes: [XMLNode]) throws(CytometryError) -> [Vertex] {
            var result: [Vertex] = []
            for vertex in nodes {
                let coordinates = vertex.children(named: "coordinate")
                guard coordinates.count == 2 else { throw fail(vertex, "a vertex needs two coordinates, has \(coordinates.count)") }
                result.append(Vertex(try number(coordinates[0], "value"), try number(coordinates[1], "value")))
            }
            return result
        }

        func shape(_ node: XMLNode) throws(CytometryError) -> FlowJoWorkspace.Shape {
            let inside = node.attributes["eventsInside"].map { $0 != "0" } ?? true
            let dimensions = node.children(named: "dimension")
            switch node.name {
            case "RectangleGate":
                guard !dimensions.isEmpty else { throw fail(node, "a RectangleGate needs at least one dimension") }
                var names: [String] = [], minimums: [Double?] = [], maximums: [Double?] = []
                for d in dimensions {
                    names.append(try dimensionName(d))
                    minimums.append(try optionalNumber(d, "min"))
                    maximums.append(try optionalNumber(d, "max"))
                    if minimums.last! == nil && maximums.last! == nil { throw fail(d, "a rectangle dimension needs min or max") }
                    if let lo = minimums.last!, let hi = maximums.last!, lo > hi { throw fail(d, "min \(lo) is above max \(hi)") }
                }
                return .rectangle(dimensions: names, minimums: minimums, maximums: maximums, inside: inside)
            case "PolygonGate":
                guard dimensions.count == 2 else { throw fail(node, "a PolygonGate needs two dimensions, has \(dimensions.count)") }
                let points = try vertices(node.children(named: "vertex"))
                guard points.count >= 3 else { throw fail(node, "a PolygonGate needs at least 3 vertices, has \(points.count)") }
                return .polygon(x: try dimensionName(dimensions[0]), y: try dimensionName(dimensions[1]), vertices: points, inside: inside)
            case "EllipsoidGate":
                guard dimensions.count == 2 else { throw fail(node, "a FlowJo ellipse needs two dimensions, has \(dimensions.count)") }
                guard let fociNode = node.child(named: "foci"), let edgeNode = node.child(named: "edge") else {
                    throw fail(node, "a FlowJo ellipse needs foci and edge")
                }
                let foci = try vertices(fociNode.children(named: "vertex"))
                let edges = try vertices(edgeNode.children(named: "vertex"))
                guard foci.count == 2 else { throw fail(fociNode, "an ellipse needs 2 foci, has \(foci.count)") }
                guard edges.count == 4 else { throw fail(edgeNode, "a FlowJo ellipse needs 4 edge points, has \(edges.count)") }
                return .ellipse(x: try dimensionName(dimensions[0]), y: try dimensionName(dimensions[1]), foci: foci, edges: edges, inside: inside)
            default:
                throw fail(node, "gate kind \(node.name) is not supported (rectangle, polygon, ellipse and boolean nodes are; FlowJo saves quadrants as rectangles)")
            }
        }
    }
}
