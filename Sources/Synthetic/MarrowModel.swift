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

/// Phenotypes and proportions of normal marrow, with the aberrant clone's phenotype.
///
/// Proportions are of nucleated cells in a lysed aspirate, from the ranges in the domain
/// primer and common reference values; hemodilution moves weight from marrow-only populations
/// (precursors, mast cells, erythroblasts, plasma cells) to blood ones.
public struct MarrowModel: Sendable {
    public var phenotypes: [CellPopulation: Phenotype]
    /// Relative share of each nucleated population other than the aberrant plasma cells.
    public var nucleatedShares: [CellPopulation: Double]
    /// Fractions of all events that are residual erythrocytes, debris and doublets.
    public var erythrocyteFraction = 0.04
    public var debrisFraction = 0.04
    public var doubletFraction = 0.025
    /// Fraction of normal plasma cells expressing kappa (the rest lambda).
    public var normalKappaFraction = 0.6

    public static func standard(aberrant: Phenotype = MarrowModel.defaultAberrant(.kappa), hemodilution: Double = 0) -> MarrowModel {
        var phenotypes: [CellPopulation: Phenotype] = [
            .granulocyte: Phenotype(fsc: 95_000, ssc: 140_000, [.cd45: .positive(5_000), .cd38: .dim(400), .cd81: .dim(500)]),
            .myeloidPrecursor: Phenotype(fsc: 85_000, ssc: 60_000, [.cd45: .positive(3_000), .cd117: .positive(6_000), .cd38: .positive(9_000), .cd81: .dim(1_500)]),
            .monocyte: Phenotype(fsc: 100_000, ssc: 70_000, [.cd45: .bright(20_000), .cd38: .dim(2_000), .cd81: .dim(1_200)]),
            .tCell: Phenotype(fsc: 55_000, ssc: 18_000, [.cd45: .bright(40_000), .cd38: .dim(1_000), .cd27: .positive(8_000), .cd81: .positive(3_000)]),
            .bCell: Phenotype(fsc: 57_000, ssc: 18_000, [.cd45: .bright(30_000), .cd19: .positive(15_000), .cd27: .dim(2_000), .cd81: .positive(8_000),
                                                       .cd38: .dim(2_000), .kappa: .dim(1_200), .lambda: .dim(900)]),
            .nkCell: Phenotype(fsc: 60_000, ssc: 25_000, [.cd45: .bright(30_000), .cd56: .positive(10_000), .cd38: .positive(5_000), .cd81: .dim(1_000)]),
            .bCellPrecursor: Phenotype(fsc: 50_000, ssc: 14_000, [.cd45: .positive(4_000), .cd19: .positive(10_000), .cd38: .bright(30_000), .cd81: .bright(30_000)]),
            .mastCell: Phenotype(fsc: 90_000, ssc: 110_000, [.cd45: .positive(12_000), .cd117: .bright(120_000), .cd81: .dim(1_500)]),
            .erythroblast: Phenotype(fsc: 50_000, ssc: 14_000, [.cd38: .dim(600)]),
            .normalPlasmaCell: Phenotype(fsc: 85_000, ssc: 40_000, [.cd45: .positive(9_000), .cd38: .bright(90_000), .cd138: .positive(20_000),
                                                                  .cd19: .positive(7_000), .cd27: .bright(25_000), .cd81: .positive(10_000)]),
            .aberrantPlasmaCell: aberrant,
            .erythrocyte: Phenotype(fsc: 22_000, ssc: 8_000, [:]),
            .debris: Phenotype(fsc: 8_000, ssc: 5_000, [:]),
        ]
        phenotypes[.debris]!.forwardScatter.spread = 0.25
        phenotypes[.debris]!.sideScatter.spread = 0.3
        let dilution = min(max(hemodilution, 0), 0.95)
        let marrowOnly: Set<CellPopulation> = [.myeloidPrecursor, .bCellPrecursor, .mastCell, .erythroblast, .normalPlasmaCell]
        var shares: [CellPopulation: Double] = [
            .granulocyte: 45, .myeloidPrecursor: 8, .monocyte: 6, .tCell: 14, .bCell: 3, .nkCell: 3,
            .bCellPrecursor: 2, .mastCell: 0.03, .erythroblast: 12, .normalPlasmaCell: 0.6,
        ]
        for (population, share) in shares where marrowOnly.contains(population) { shares[population] = share * (1 - dilution) }
        return MarrowModel(phenotypes: phenotypes, nucleatedShares: shares)
    }

    /// The default clone: CD19− CD56+ CD45− CD27 dim CD81 dim, CD38 dimmer than normal, CD138+, single light chain.
    public static func defaultAberrant(_ chain: LightChain) -> Phenotype {
        var levels: [Marker: ExpressionLevel] = [
            .cd38: .bright(25_000), .cd138: .positive(30_000), .cd56: .bright(30_000),
            .cd27: .dim(1_200), .cd81: .dim(700), .cd45: .negative,
        ]
        levels[chain == .kappa ? .kappa : .lambda] = .bright(50_000)
        return Phenotype(fsc: 90_000, ssc: 45_000, levels)
    }
}

/// The LEGEND-2 ten-colour panel as an 18-bit instrument writes it: channel names in $PnN,
/// markers in $PnS, and a spillover matrix over the ten fluorescence detectors.
public enum LegendPanel {
    /// Scatter and time first, then one detector per ``Marker``.
    public static let channels: [FCSChannelDescription] = [
        ("FSC-A", nil), ("FSC-H", nil), ("SSC-A", nil), ("Time", nil),
        ("APC-H7-A", "CD45"), ("BV510-A", "CD38"), ("APC-A", "CD138"), ("PE-Cy7-A", "CD19"), ("APC-A700-A", "CD56"),
        ("PE-Cy5.5-A", "CD117"), ("Pacific Blue-A", "CD81"), ("BV605-A", "CD27"), ("FITC-A", "cyKappa"), ("PE-A", "cyLambda"),
    ].map { FCSChannelDescription(name: $0.0, marker: $0.1, range: 262_144) }

    /// Index of the first fluorescence channel.
    public static let firstMarkerChannel = 4

    /// Each fluorochrome spills a few percent into the neighbouring detectors.
    public static var spillover: SpilloverMatrix {
        let names = channels.dropFirst(firstMarkerChannel).map(\.name)
        let n = names.count
        var values = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            values[i * n + i] = 1
            if i + 1 < n { values[i * n + i + 1] = 0.08 + 0.01 * Double(i) }
            if i > 0 { values[i * n + i - 1] = 0.03 }
            if i + 2 < n { values[i * n + i + 2] = 0.01 }
        }
        return try! SpilloverMatrix(channels: names, values: values, source: .spillover)
    }
}
