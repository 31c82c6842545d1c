import Foundation

/// A FlowJo 10 workspace (`.wsp`) as written: its samples, each with the file it points to, its
/// keywords, scales, compensation matrix and gate tree (with FlowJo's stored counts), and its
/// sample groups. Gate coordinates are FlowJo's: data values, except ellipses, which FlowJo
/// stores in its 256-channel display space. ``FlowJoWorkspace/Sample/gatingTree()`` turns a
/// sample into a ``GatingTree`` the evaluator runs.
public struct FlowJoWorkspace: Sendable {
    /// The file it was read from (named in errors).
    public let file: String
    /// `flowJoVersion` of the `Workspace` element.
    public let flowJoVersion: String?
    public let samples: [Sample]
    public let groups: [Group]

    /// A sample group and the ids of its samples.
    public struct Group: Sendable, Equatable {
        public let name: String
        public let sampleIDs: [String]
        public let line: Int
    }

    public struct Sample: Sendable {
        /// `sampleID`: unique within the workspace.
        public let id: String
        /// The `SampleNode`'s name (usually the FCS file's name).
        public let name: String
        /// The `DataSet`'s `uri` (a `file:` URI as FlowJo saw it).
        public let uri: String?
        /// Keywords FlowJo stored (the file's own, and any a user added), by name.
        public let keywords: [String: String]
        /// Events FlowJo counted in the whole sample (`SampleNode count`).
        public let storedCount: Int?
        /// The scale of each parameter, by the parameter's name as in the Transformations element.
        public let scales: [String: Scale]
        public let matrix: Matrix?
        /// Populations in document order (a parent before its children).
        public let populations: [Population]
        /// The workspace file and the line of the `Sample` element.
        public let file: String
        public let line: Int

        /// The last component of the data set's URI, percent-decoded: the FCS file's name.
        public var uriFileName: String? {
            guard let uri else { return nil }
            let path = uri.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? uri
            return path.removingPercentEncoding ?? path
        }
    }

    /// A compensation matrix (`transforms:spilloverMatrix`): the spillover of each detector into
    /// every other, and the prefix/suffix FlowJo puts on compensated parameter names ("Comp-").
    public struct Matrix: Sendable, Equatable {
        public let name: String
        public let prefix: String
        public let suffix: String
        public let detectors: [String]
        /// Row i: detector i's spillover into each detector, in `detectors` order.
        public let rows: [[Double]]
        public let line: Int
    }

    /// A parameter's scale, FlowJo's parameters as written.
    public enum Scale: Sendable, Equatable {
        case linear(minimum: Double, maximum: Double)
        case log(offset: Double, decades: Double)
        case logicle(T: Double, W: Double, M: Double, A: Double)
        case biex(negative: Double, width: Double, positive: Double, maximum: Double)
        case asinh(T: Double, M: Double, A: Double)

        /// FlowJo's element name.
        public var kind: String {
            switch self {
            case .linear: return "linear"
            case .log: return "log"
            case .logicle: return "logicle"
            case .biex: return "biex"
            case .asinh: return "fasinh"
            }
        }
    }

    /// A population: a gate (or a boolean node) under its parent, with FlowJo's stored count.
    public struct Population: Sendable {
        public let name: String
        /// Names from the top: ["Lymphocytes", "Singlets"].
        public let path: [String]
        public let shape: Shape
        /// The `count` FlowJo stored (nil when absent or negative).
        public let storedCount: Int?
        /// The group that owns the gate ("" for a gate drawn on this sample only).
        public let owningGroup: String
        public let line: Int

        /// The path as FlowJo's boolean `Dependent` elements write it: "Lymphocytes/Singlets".
        public var pathText: String { path.joined(separator: "/") }
        /// The parent's path text, or nil at the top.
        public var parentPathText: String? { path.count > 1 ? path.dropLast().joined(separator: "/") : nil }
    }

    /// What a population's gate is, with parameter names as FlowJo wrote them ("Comp-FITC-A").
    public enum Shape: Sendable, Equatable {
        /// Per dimension min ≤ x < max in data values; nil bounds are open.
        case rectangle(dimensions: [String], minimums: [Double?], maximums: [Double?], inside: Bool)
        case polygon(x: String, y: String, vertices: [Vertex], inside: Bool)
        /// Two foci and four edge points, in display channels (0…256 across each axis's scale).
        case ellipse(x: String, y: String, foci: [Vertex], edges: [Vertex], inside: Bool)
        /// And/Or/Not over other populations, named by path text.
        case boolean(BooleanOperator, dependents: [String])
    }

    /// The sample with `id`.
    public func sample(id: String) -> Sample? { samples.first { $0.id == id } }

    /// The group named `name`.
    public func group(_ name: String) -> Group? { groups.first { $0.name == name } }
}
