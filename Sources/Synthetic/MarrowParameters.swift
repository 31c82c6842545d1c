/// Every parameter of one synthetic marrow that was drawn from its seed (``MarrowRanges``) or
/// fixed by its specification: written to `OUT.truth.json`, so a file's model is on record.
///
/// All values are drawn in one fixed order from the seed's parameter stream, whether or not an
/// option then fixes them, so fixing one parameter never changes the others.
public struct MarrowParameters: Sendable, Codable, Equatable {
    /// % of nucleated cells per population before hemodilution, normal plasma cells included,
    /// by ``CellPopulation/name`` (sums to 100).
    public let nucleatedPercent: [String: Double]
    /// Fractions of all events.
    public let erythrocyteFraction: Double
    public let debrisFraction: Double
    public let doubletFraction: Double
    public let normalPlasmaCellPercent: Double
    public let kappaLambdaRatio: Double
    /// Share of normal plasma cells with each trait, by ``NormalPlasmaCellTrait/key`` (before the
    /// at-most-two-traits rule, which lowers the realised shares slightly; the truth counts are exact).
    public let traitShares: [String: Double]
    /// Detector gain offsets, decades, by marker name.
    public let channelGainDecades: [String: Double]
    /// SD of each marker on normal plasma cells, decades.
    public let normalPlasmaCellSpreads: [String: Double]
    public let cd45LowShift: Double
    public let cd27DimShift: Double
    public let cd81DimShift: Double
    public let cd56PositiveLevel: Double
    /// Decades by which anti-CD38 masking lowers CD38 (nil: no masking).
    public let antiCD38MaskingDecades: Double?
    /// The clone's phenotype as generated (``AberrantPhenotype/random`` resolved).
    public let clonePhenotype: String
    /// The clone's median level and spread per marker, after gains and masking.
    public private(set) var cloneMedians: [String: Double]
    public private(set) var cloneSpreads: [String: Double]

    /// Draws the parameters of `specification`'s marrow.
    /// - Complexity: O(1): about 60 uniform deviates.
    public static func draw(for specification: MarrowSpecification) -> MarrowParameters {
        var rng = RandomSource(seed: specification.seed, stream: UInt64.max - 1)
        // Marrow composition.
        var shares: [(CellPopulation, Double)] = MarrowRanges.nucleatedShares.map { ($0.0, $0.1.draw(&rng)) }
        let regeneratingBCP = MarrowRanges.regeneratingBCellPrecursors.draw(&rng)
        if specification.regenerating, let i = shares.firstIndex(where: { $0.0 == .bCellPrecursor }) { shares[i].1 = regeneratingBCP }
        let drawnPC = MarrowRanges.normalPlasmaCellPercent.draw(&rng)
        let pcPercent = specification.postCART ? 0 : (specification.normalPlasmaCellPercent ?? drawnPC)
        let otherTotal = shares.reduce(0) { $0 + $1.1 }
        var nucleated: [String: Double] = [CellPopulation.normalPlasmaCell.name: pcPercent]
        for (population, share) in shares { nucleated[population.name] = share * (100 - pcPercent) / otherTotal }
        let erythrocytes = MarrowRanges.erythrocyteFraction.draw(&rng)
        let debris = MarrowRanges.debrisFraction.draw(&rng)
        let doublets = MarrowRanges.doubletFraction.draw(&rng)
        // Normal plasma cells.
        let drawnRatio = MarrowRanges.kappaLambdaRatio.draw(&rng)
        var traitShares: [String: Double] = [:]
        for trait in NormalPlasmaCellTrait.allCases {
            let drawn = MarrowRanges.traitShares[trait]!.draw(&rng)
            traitShares[trait.key] = specification.normalTraitShares.first { NormalPlasmaCellTrait(key: $0.key) == trait }?.value ?? drawn
        }
        var gains: [String: Double] = [:], spreads: [String: Double] = [:]
        for marker in Marker.allCases {
            gains[marker.name] = MarrowRanges.channelGain.draw(&rng)
            spreads[marker.name] = MarrowRanges.normalPlasmaCellSpread.draw(&rng)
        }
        let cd45Shift = MarrowRanges.cd45LowShift.draw(&rng)
        let cd27Shift = MarrowRanges.cd27DimShift.draw(&rng)
        let cd81Shift = MarrowRanges.cd81DimShift.draw(&rng)
        let cd56Level = MarrowRanges.cd56PositiveLevel.draw(&rng)
        let masking = MarrowRanges.antiCD38Masking.draw(&rng)
        // The clone: shifts, spreads and absolute levels per marker, then the phenotype.
        var cloneShifts: [Marker: Double] = [:], cloneSpreads: [Marker: Double] = [:], absolute: [Marker: (Double, Double, Double)] = [:]
        for marker in Marker.allCases {
            cloneShifts[marker] = specification.cloneShift ?? MarrowRanges.cloneShift.draw(&rng)
            let spread = MarrowRanges.cloneSpread.draw(&rng)
            cloneSpreads[marker] = specification.cloneSpread ?? spread
            absolute[marker] = (MarrowRanges.cloneDimLevel.draw(&rng), MarrowRanges.clonePositiveLevel.draw(&rng), MarrowRanges.cloneBrightLevel.draw(&rng))
        }
        let phenotype = (specification.aberrantPhenotype ?? .standard).resolved(&rng)
        var parameters = MarrowParameters(
            nucleatedPercent: nucleated, erythrocyteFraction: erythrocytes, debrisFraction: debris, doubletFraction: doublets,
            normalPlasmaCellPercent: pcPercent, kappaLambdaRatio: specification.kappaLambdaRatio ?? drawnRatio, traitShares: traitShares,
            channelGainDecades: gains, normalPlasmaCellSpreads: spreads, cd45LowShift: cd45Shift, cd27DimShift: cd27Shift,
            cd81DimShift: cd81Shift, cd56PositiveLevel: cd56Level, antiCD38MaskingDecades: specification.antiCD38 ? masking : nil,
            clonePhenotype: phenotype.description, cloneMedians: [:], cloneSpreads: [:])
        // The clone is written relative to this file's normal majority, so it comes last.
        let clone = parameters.clone(phenotype, chain: specification.lightChain, chainShift: specification.cloneLightChainShift ?? 0,
                                     shifts: cloneShifts, spreads: cloneSpreads, absolute: absolute)
        parameters.cloneMedians = Dictionary(uniqueKeysWithValues: Marker.allCases.map { ($0.name, clone[$0].median) })
        parameters.cloneSpreads = Dictionary(uniqueKeysWithValues: Marker.allCases.map { ($0.name, clone[$0].spread) })
        return parameters
    }

    /// The gain factor of a marker's detector.
    func gain(_ marker: Marker) -> Double { pow(10, channelGainDecades[marker.name] ?? 0) }

    /// The clone's phenotype, relative to the normal majority phenotype (before masking), then masked.
    private func clone(_ phenotype: AberrantPhenotype, chain: LightChain, chainShift: Double, shifts: [Marker: Double], spreads: [Marker: Double],
                       absolute: [Marker: (dim: Double, positive: Double, bright: Double)]) -> Phenotype {
        let normal = MarrowModel.normalMajority(self, masked: false)
        var result = normal
        result.forwardScatter = ExpressionLevel(90_000, spread: 0.06)
        result.sideScatter = ExpressionLevel(45_000, spread: 0.1)
        for marker in AberrantPhenotype.phenotypeMarkers {
            result[marker].spread = MarrowModel.normalLacks(marker) && normal[marker].median == 0 ? 0 : spreads[marker]!
        }
        for (marker, level) in phenotype.levels {
            let lacks = MarrowModel.normalLacks(marker)
            let n = normal[marker].median, shift = shifts[marker]!, g = gain(marker), abs = absolute[marker]!
            let median: Double
            switch level {
            case .negative: median = 0
            case .dim: median = lacks ? abs.dim * g : n * pow(10, -shift)
            case .positive: median = lacks ? abs.positive * g : n
            case .bright: median = lacks ? abs.bright * g : n * pow(10, shift)
            case .normal: median = n
            case .shift(let d): median = n * pow(10, d)
            }
            result[marker] = ExpressionLevel(median, spread: median == 0 ? 0 : spreads[marker]!)
        }
        for light in [Marker.kappa, .lambda] {
            let expressed = (light == .kappa) == (chain == .kappa)
            result[light] = expressed ? ExpressionLevel(MarrowModel.centralLightChain * gain(light) * pow(10, chainShift), spread: spreads[light]!) : .negative
        }
        if let masking = antiCD38MaskingDecades { result[.cd38].median *= pow(10, -masking) }
        return result
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
