import FCS

/// The kinds of events in a lysed bone-marrow aspirate, with a stable numeric code used in truth files.
public enum CellPopulation: UInt8, CaseIterable, Sendable, Codable {
    case granulocyte = 1
    case myeloidPrecursor
    case monocyte
    case tCell
    case bCell
    case nkCell
    case bCellPrecursor
    case mastCell
    case erythroblast
    case normalPlasmaCell
    case aberrantPlasmaCell
    case erythrocyte
    case debris
    case doublet

    /// Whether the event is a nucleated cell (the MRD denominator).
    public var isNucleated: Bool {
        switch self {
        case .erythrocyte, .debris, .doublet: return false
        default: return true
        }
    }

    /// A short name for files and keywords.
    public var name: String {
        switch self {
        case .granulocyte: return "granulocyte"
        case .myeloidPrecursor: return "myeloid-precursor"
        case .monocyte: return "monocyte"
        case .tCell: return "t-cell"
        case .bCell: return "b-cell"
        case .nkCell: return "nk-cell"
        case .bCellPrecursor: return "b-cell-precursor"
        case .mastCell: return "mast-cell"
        case .erythroblast: return "erythroblast"
        case .normalPlasmaCell: return "normal-plasma-cell"
        case .aberrantPlasmaCell: return "aberrant-plasma-cell"
        case .erythrocyte: return "erythrocyte"
        case .debris: return "debris"
        case .doublet: return "doublet"
        }
    }
}

/// The ten markers of the LEGEND-2 panel, in channel order after FSC-A, FSC-H, SSC-A, Time.
public enum Marker: Int, CaseIterable, Sendable, Codable {
    case cd45, cd38, cd138, cd19, cd56, cd117, cd81, cd27, kappa, lambda

    public var name: String {
        ["CD45", "CD38", "CD138", "CD19", "CD56", "CD117", "CD81", "CD27", "cyKappa", "cyLambda"][rawValue]
    }
}

/// An expression level: a log-normal intensity around `median` (linear units of an 18-bit
/// instrument) with `spread` decades of standard deviation; a median of 0 means negative
/// (autofluorescence around zero).
public struct ExpressionLevel: Sendable, Equatable, Codable {
    public var median: Double
    public var spread: Double

    public init(_ median: Double, spread: Double = 0.15) {
        self.median = median
        self.spread = spread
    }

    public static let negative = ExpressionLevel(0, spread: 0)
    public static func dim(_ median: Double = 800) -> ExpressionLevel { ExpressionLevel(median, spread: 0.2) }
    public static func positive(_ median: Double = 6_000) -> ExpressionLevel { ExpressionLevel(median, spread: 0.18) }
    public static func bright(_ median: Double = 40_000) -> ExpressionLevel { ExpressionLevel(median, spread: 0.15) }
}

/// Scatter and the ten marker levels of one population.
public struct Phenotype: Sendable, Equatable, Codable {
    public var forwardScatter: ExpressionLevel
    public var sideScatter: ExpressionLevel
    /// Indexed by ``Marker/rawValue``.
    public var markers: [ExpressionLevel]

    public init(fsc: Double, ssc: Double, _ levels: [Marker: ExpressionLevel]) {
        forwardScatter = ExpressionLevel(fsc, spread: 0.06)
        sideScatter = ExpressionLevel(ssc, spread: 0.1)
        markers = Marker.allCases.map { levels[$0] ?? .negative }
    }

    public subscript(marker: Marker) -> ExpressionLevel {
        get { markers[marker.rawValue] }
        set { markers[marker.rawValue] = newValue }
    }
}

/// The light chain a clone expresses.
public enum LightChain: String, Sendable, Codable, CaseIterable {
    case kappa, lambda
}

