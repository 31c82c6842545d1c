/// How the flow rate behaves during the synthetic acquisition.
public enum FlowProfile: String, Sendable, Codable, CaseIterable {
    /// Constant rate.
    case stable
    /// The rate falls to a tenth between 40% and 55% of the run (a partial clog).
    case clog
    /// The rate rises fivefold between 40% and 45% of the run (a burst).
    case burst
}

/// What to generate: size, disease level, seed, the marrow's condition and any technical fault.
///
/// Everything not fixed here is drawn per file from the seed (``MarrowParameters``), within the
/// published ranges listed in docs/synthetic.md, so that an engine is tested across them.
public struct MarrowSpecification: Sendable, Codable, Equatable {
    public var events: Int
    /// Aberrant plasma cells as a fraction of nucleated cells (10⁻¹ … 10⁻⁷, or 0).
    public var aberrantFraction: Double
    /// An exact number of aberrant plasma cells, overriding `aberrantFraction`.
    public var aberrantCount: Int?
    public var seed: UInt64
    /// 0 (none) to 0.95: the share of marrow-only populations replaced by blood.
    public var hemodilution: Double
    public var lightChain: LightChain
    /// The clone's phenotype; nil for the default (``AberrantPhenotype/standard``).
    public var aberrantPhenotype: AberrantPhenotype?
    public var flow: FlowProfile
    public var eventsPerSecond: Double
    /// Normal plasma cells as % of nucleated cells before hemodilution (0–5); nil draws it.
    public var normalPlasmaCellPercent: Double?
    /// Shares (0–1) of normal plasma cells carrying a trait, by ``NormalPlasmaCellTrait/key``;
    /// traits not named are drawn.
    public var normalTraitShares: [String: Double]
    /// κ:λ of normal plasma cells (1.2–2.2 when drawn); nil draws it.
    public var kappaLambdaRatio: Double?
    /// How far (decades) each of the clone's dim or bright markers lies from the normal level; nil draws it per marker.
    public var cloneShift: Double?
    /// The clone's spread (decades of SD) on every marker; nil draws it per marker (0.12–0.35).
    public var cloneSpread: Double?
    /// How far (decades) the clone's light chain lies from the normal plasma cells' level
    /// (negative: dimmer); nil keeps the normal level.
    public var cloneLightChainShift: Double?
    /// Anti-CD38 antibody masking (daratumumab, isatuximab): every cell's CD38 scaled down.
    public var antiCD38: Bool
    /// After BCMA CAR-T: no normal plasma cells (a residual clone only when `aberrantFraction` > 0).
    public var postCART: Bool
    /// Regenerating marrow: many CD19+ CD38++ CD45 dim B-cell precursors.
    public var regenerating: Bool
    public var faults: [TechnicalFault]

    public init(events: Int, aberrantFraction: Double = 0, aberrantCount: Int? = nil, seed: UInt64 = 1,
                hemodilution: Double = 0, lightChain: LightChain = .kappa, aberrantPhenotype: AberrantPhenotype? = nil,
                flow: FlowProfile = .stable, eventsPerSecond: Double = 10_000, normalPlasmaCellPercent: Double? = nil,
                normalTraitShares: [String: Double] = [:], kappaLambdaRatio: Double? = nil, cloneShift: Double? = nil,
                cloneSpread: Double? = nil, cloneLightChainShift: Double? = nil, antiCD38: Bool = false, postCART: Bool = false, regenerating: Bool = false,
                faults: [TechnicalFault] = []) {
        self.aberrantPhenotype = aberrantPhenotype
        self.events = events
        self.aberrantFraction = aberrantFraction
        self.aberrantCount = aberrantCount
        self.seed = seed
        self.hemodilution = hemodilution
        self.lightChain = lightChain
        self.flow = flow
        self.eventsPerSecond = eventsPerSecond
        self.normalPlasmaCellPercent = normalPlasmaCellPercent
        self.normalTraitShares = normalTraitShares
        self.kappaLambdaRatio = kappaLambdaRatio
        self.cloneShift = cloneShift
        self.cloneSpread = cloneSpread
        self.cloneLightChainShift = cloneLightChainShift
        self.antiCD38 = antiCD38
        self.postCART = postCART
        self.regenerating = regenerating
        self.faults = faults
    }

    /// The same marrow with all normal plasma cells of the majority phenotype (no subsets):
    /// the old generator's uniform normal plasma cells, for tests of mechanics that predate
    /// the heterogeneous model.
    public func uniformNormals() -> MarrowSpecification {
        var copy = self
        for trait in NormalPlasmaCellTrait.allCases { copy.normalTraitShares[trait.key] = 0 }
        return copy
    }

    /// Checks every value against its range; the error names the option.
    public func validate() throws(SyntheticError) {
        guard events > 0 else { throw .invalidSpecification("events must be positive (got \(events))") }
        guard (0...0.5).contains(aberrantFraction) else { throw .invalidSpecification("the MRD fraction must be between 0 and 0.5 (got \(aberrantFraction))") }
        if let aberrantCount, aberrantCount < 0 { throw .invalidSpecification("the aberrant count must not be negative (got \(aberrantCount))") }
        guard (0...0.95).contains(hemodilution) else { throw .invalidSpecification("hemodilution must be between 0 and 0.95 (got \(hemodilution))") }
        if let p = normalPlasmaCellPercent, !(0...5).contains(p) {
            throw .invalidSpecification("normal plasma cells must be 0–5% of nucleated cells (got \(p))")
        }
        if postCART, let p = normalPlasmaCellPercent, p > 0 {
            throw .invalidSpecification("post-CAR-T marrow has no normal plasma cells, but \(p)% were asked for")
        }
        for (key, share) in normalTraitShares {
            guard NormalPlasmaCellTrait(key: key) != nil else {
                throw .invalidSpecification("unknown normal plasma-cell subset \"\(key)\"; expected one of \(NormalPlasmaCellTrait.allCases.map(\.key).joined(separator: ", "))")
            }
            guard (0...1).contains(share) else { throw .invalidSpecification("the share of \(key) normal plasma cells must be between 0 and 1 (got \(share))") }
        }
        if let r = kappaLambdaRatio, !(r > 0 && r.isFinite) { throw .invalidSpecification("κ:λ must be a positive number (got \(r))") }
        if let s = cloneShift, !(0.05...3).contains(s) { throw .invalidSpecification("the clone shift must be 0.05–3 decades (got \(s))") }
        if let s = cloneSpread, !(0.02...0.6).contains(s) { throw .invalidSpecification("the clone spread must be 0.02–0.6 decades (got \(s))") }
        if let s = cloneLightChainShift, !(-3...1).contains(s) { throw .invalidSpecification("the clone's light-chain shift must be −3 to 1 decades (got \(s))") }
        var seen = Set<String>()
        for fault in faults {
            if case .stainLabel = fault, !seen.insert("stain:\(fault.marker.name)").inserted {
                throw .invalidSpecification("the stain label of \(fault.marker.name) is given twice")
            }
        }
    }
}
