/// The phenotype of every kind of event in one synthetic marrow, from its drawn
/// ``MarrowParameters``: central levels of each population (linear units of an 18-bit
/// instrument), scaled by the file's detector gains, with the normal plasma-cell subsets, the
/// clone and anti-CD38 masking applied.
public struct MarrowModel: Sendable {
    public let parameters: MarrowParameters
    /// Populations other than normal plasma cells (whose phenotype depends on the subset: ``phenotype(for:)``).
    public let phenotypes: [CellPopulation: Phenotype]

    /// Central levels before gains: markers not listed are negative (autofluorescence).
    static let centralPhenotypes: [CellPopulation: Phenotype] = {
        var p: [CellPopulation: Phenotype] = [
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
            .erythrocyte: Phenotype(fsc: 22_000, ssc: 8_000, [:]),
            .debris: Phenotype(fsc: 8_000, ssc: 5_000, [:]),
        ]
        p[.debris]!.forwardScatter.spread = 0.25
        p[.debris]!.sideScatter.spread = 0.3
        return p
    }()

    /// The majority phenotype of normal plasma cells before gains (no light chain: each cell carries one).
    static let centralNormalPlasmaCell = Phenotype(fsc: 85_000, ssc: 40_000, [
        .cd45: .positive(9_000), .cd38: .bright(90_000), .cd138: .positive(20_000), .cd19: .positive(7_000), .cd27: .bright(25_000), .cd81: .positive(10_000),
    ])
    /// The light-chain level of a plasma cell before gains.
    static let centralLightChain = 50_000.0

    /// Whether the majority of normal plasma cells lacks the marker (CD56, CD117 and the light chains).
    public static func normalLacks(_ marker: Marker) -> Bool { centralNormalPlasmaCell[marker].median == 0 }

    public init(_ parameters: MarrowParameters) {
        self.parameters = parameters
        var phenotypes: [CellPopulation: Phenotype] = [:]
        for (population, central) in Self.centralPhenotypes { phenotypes[population] = Self.scaled(central, parameters) }
        var clone = Phenotype(fsc: 90_000, ssc: 45_000, [:])
        for marker in Marker.allCases {
            clone[marker] = ExpressionLevel(parameters.cloneMedians[marker.name] ?? 0, spread: parameters.cloneSpreads[marker.name] ?? 0)
        }
        phenotypes[.aberrantPlasmaCell] = clone
        self.phenotypes = phenotypes
    }

    /// Gains, then anti-CD38 masking.
    static func scaled(_ central: Phenotype, _ parameters: MarrowParameters, masked: Bool = true) -> Phenotype {
        var p = central
        for marker in Marker.allCases where p[marker].median > 0 {
            p[marker].median *= parameters.gain(marker)
            if masked, marker == .cd38, let masking = parameters.antiCD38MaskingDecades { p[marker].median *= pow(10, -masking) }
        }
        return p
    }

    /// The majority phenotype of this file's normal plasma cells (gains and per-marker spreads drawn).
    static func normalMajority(_ parameters: MarrowParameters, masked: Bool = true) -> Phenotype {
        var p = scaled(centralNormalPlasmaCell, parameters, masked: masked)
        for marker in Marker.allCases where p[marker].median > 0 { p[marker].spread = parameters.normalPlasmaCellSpreads[marker.name] ?? 0.15 }
        return p
    }

    /// The phenotype of an event with this label (nil for a doublet, which is made of two cells).
    /// - Complexity: O(markers).
    public func phenotype(for label: EventLabel) -> Phenotype? {
        guard let population = label.population else { return nil }
        guard population == .normalPlasmaCell else { return phenotypes[population] }
        var p = Self.normalMajority(parameters)
        for trait in label.traits {
            switch trait {
            case .cd19Negative: p[.cd19] = .negative
            case .cd45Low: p[.cd45].median *= pow(10, -parameters.cd45LowShift)
            case .cd56Positive: p[.cd56] = ExpressionLevel(parameters.cd56PositiveLevel * parameters.gain(.cd56), spread: parameters.normalPlasmaCellSpreads[Marker.cd56.name] ?? 0.15)
            case .cd27Dim: p[.cd27].median *= pow(10, -parameters.cd27DimShift)
            case .cd81Dim: p[.cd81].median *= pow(10, -parameters.cd81DimShift)
            }
        }
        let chain: Marker = label.lightChain == .lambda ? .lambda : .kappa
        p[chain] = ExpressionLevel(Self.centralLightChain * parameters.gain(chain), spread: parameters.normalPlasmaCellSpreads[chain.name] ?? 0.15)
        return p
    }

    /// Each normal plasma-cell label with its probability: traits independent at their shares,
    /// combinations of more than ``MarrowRanges/maximumTraitsPerCell`` traits excluded and the
    /// rest renormalised; κ or λ at the file's ratio. Ordered by code.
    public var normalPlasmaCellLabelShares: [(label: EventLabel, share: Double)] {
        let traits = NormalPlasmaCellTrait.allCases
        let kappa = parameters.kappaLambdaRatio / (1 + parameters.kappaLambdaRatio)
        var result: [(EventLabel, Double)] = []
        for chain in [LightChain.kappa, .lambda] {
            for bits in 0..<(1 << traits.count) where bits.nonzeroBitCount <= MarrowRanges.maximumTraitsPerCell {
                var p = chain == .kappa ? kappa : 1 - kappa
                var set = Set<NormalPlasmaCellTrait>()
                for trait in traits {
                    let share = parameters.traitShares[trait.key] ?? 0
                    if bits & (1 << trait.rawValue) != 0 { p *= share; set.insert(trait) } else { p *= 1 - share }
                }
                result.append((EventLabel.normalPlasmaCell(traits: set, lightChain: chain), p))
            }
        }
        let total = result.reduce(0) { $0 + $1.1 }
        return result.map { ($0.0, total > 0 ? $0.1 / total : 0) }.sorted { $0.0.code < $1.0.code }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
