/// Which compensation a gate dimension sees.
public enum CompensationReference: Sendable, Hashable {
    /// Scale values as read ($PnE/$PnG applied), no compensation.
    case uncompensated
    /// The file's own spillover matrix, on its own channels (Gating-ML "FCS").
    case file
    /// A named matrix of the gating tree (a Gating-ML spectrumMatrix id).
    case matrix(String)
}

/// Where a dimension's values come from.
public enum DimensionSource: Sendable, Hashable {
    /// A channel ($PnN), or a fluorochrome of the referenced compensation matrix.
    case channel(String)
    /// fratio: A·(x − B)/(y − C) of two channels (Gating-ML `new-dimension`).
    case ratio(id: String, numerator: String, denominator: String, A: Double, B: Double, C: Double)
}

/// One axis of a gate: a source, the compensation it is read through, and an optional transform.
public struct GateDimension: Sendable, Hashable {
    public var source: DimensionSource
    public var compensation: CompensationReference
    /// The transform's id (as in Gating-ML) and definition.
    public var transform: NamedTransformation?

    public init(_ source: DimensionSource, compensation: CompensationReference = .uncompensated, transform: NamedTransformation? = nil) {
        self.source = source
        self.compensation = compensation
        self.transform = transform
    }

    /// A channel dimension.
    public static func channel(_ name: String, compensation: CompensationReference = .uncompensated, transform: NamedTransformation? = nil) -> GateDimension {
        GateDimension(.channel(name), compensation: compensation, transform: transform)
    }

    /// A readable label: "FL1-H", "logicle(FITC)", "ratio(FL2-H/FL2-A)".
    public var label: String {
        var base: String
        switch source {
        case .channel(let name): base = name
        case .ratio(_, let x, let y, _, _, _): base = "\(x)/\(y)"
        }
        if case .matrix(let id) = compensation { base += " [\(id)]" }
        if let transform { base = "\(transform.id)(\(base))" }
        return base
    }
}

/// A transform with the id a gate file gave it.
public struct NamedTransformation: Sendable, Hashable {
    public let id: String
    public let transform: BoundedTransformation
    public init(id: String, _ transform: BoundedTransformation) {
        self.id = id
        self.transform = transform
    }
}

/// A 2-D vertex.
public struct Vertex: Sendable, Hashable {
    public let x: Double
    public let y: Double
    public init(_ x: Double, _ y: Double) {
        self.x = x
        self.y = y
    }
}

/// How a gate decides membership.
public enum GateShape: Sendable, Hashable {
    /// Rectangle or range: per dimension min ≤ x < max; nil bounds are open.
    case rectangle(dimensions: [GateDimension], minimums: [Double?], maximums: [Double?])
    /// Polygon in 2-D: inside when the winding number is odd (the compliance suite's rule for
    /// self-intersecting polygons; identical to non-zero winding for simple ones).
    case polygon(x: GateDimension, y: GateDimension, vertices: [Vertex])
    /// Ellipsoid in n dimensions: (x − μ)ᵀ Σ⁻¹ (x − μ) ≤ d².
    case ellipsoid(dimensions: [GateDimension], mean: [Double], covariance: [Double], distanceSquare: Double)
    /// Boolean combination of other gates; `complement` negates an operand.
    case boolean(BooleanOperator, operands: [BooleanOperand])
}

public enum BooleanOperator: String, Sendable, Hashable {
    case and, or, not
}

public struct BooleanOperand: Sendable, Hashable {
    public let gateID: String
    public let complement: Bool
    public init(_ gateID: String, complement: Bool = false) {
        self.gateID = gateID
        self.complement = complement
    }
}

/// A gate: an id, an optional parent (membership requires the parent's), and a shape.
public struct Gate: Sendable, Hashable {
    public let id: String
    public let parentID: String?
    public let shape: GateShape
    /// For gates imported from a Gating-ML QuadrantGate: the container's id.
    public let quadrantOf: String?
    /// The name shown in paths when it differs from the id (a FlowJo population's name; its id is
    /// the whole path, since FlowJo names repeat across branches).
    public let name: String?
    /// Events outside the shape instead of inside (FlowJo's `eventsInside="0"`); the parent still applies.
    public let complement: Bool

    public init(id: String, parentID: String? = nil, shape: GateShape, quadrantOf: String? = nil, name: String? = nil, complement: Bool = false) {
        self.id = id
        self.parentID = parentID
        self.shape = shape
        self.quadrantOf = quadrantOf
        self.name = name
        self.complement = complement
    }

    /// The dimensions this gate reads (none for boolean gates).
    public var dimensions: [GateDimension] {
        switch shape {
        case .rectangle(let dimensions, _, _): return dimensions
        case .polygon(let x, let y, _): return [x, y]
        case .ellipsoid(let dimensions, _, _, _): return dimensions
        case .boolean: return []
        }
    }
}
