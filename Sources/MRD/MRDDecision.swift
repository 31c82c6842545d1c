/// The MRD call: one decision table, in the order a clinician reads it (docs/templates.md
/// restates it).
///
/// | step | when | call |
/// |---|---|---|
/// | 1 | the sample cannot be read as a whole: a dead or non-finite marker channel, an unstable acquisition, no nucleated cells | not evaluable (every reason listed) |
/// | 2 | clonal excess of the MRD clusters ≥ LLOQ (template `lloq_events`) | positive (not quantified, no percentage, when a gate the nucleated or plasma-cell count rests on is switched off; so for 3 and 4) |
/// | 3 | clonal excess ≥ LOD (template `min_cluster_events`) | positive below the LLOQ |
/// | 4 | monotypic plasma cells ≥ LOD (a restricted cluster without aberrancy, or all plasma cells' κ:λ beyond the normal range) and the template counts them (`monotypic: positive`) | positive (monotypic) |
/// | 5 | any condition of a negative unmet (below) | not evaluable (every reason listed) |
/// | 6 | otherwise | negative: "not detected (< LOD x%)" |
///
/// A negative needs all of: at least `min_nucleated_cells` nucleated cells and the target
/// sensitivity; at least `min_normal_plasma_cells` polyclonal plasma cells, unless the run
/// declares their absence (`--context post-car-t`); every gate it rests on placed from the
/// sample's data (a gate the data could not place is switched off, not replaced by a constant);
/// no hemodilution; acquisition QC passed; no monotypic population of LOD size awaiting review
/// (a restricted cluster without aberrancy, or all plasma cells' κ:λ beyond the normal range);
/// no cluster of LOD size of plasma cells reading no light chain (``ChainlessPlasmaCells``).
public struct MRDDecision: Sendable, Equatable {
    /// What the call rests on.
    public struct Evidence: Sendable, Equatable {
        public var nucleated: Int
        public var clonalExcess: Int
        public var monotypicExcess: Int
        public var monotypicIsPositive: Bool
        public var lodEvents: Int
        public var lloqEvents: Int
        public var minNucleated: Int
        public var sensitivityMet: Bool
        /// LOD as a fraction of nucleated cells.
        public var lodFraction: Double?
        public var target: Double
        public var polyclonalPlasmaCells: Int
        public var minNormalPlasmaCells: Int
        public var normalPlasmaCellsAbsenceDeclared: Bool
        public var hemodiluted: String?
        /// QC failures not stated by another condition (the caller leaves out too few cells and hemodilution).
        public var qcFailures: [String]
        /// Reasons the sample cannot be read at all (step 1).
        public var unreadable: [String]
        /// Gates the call rests on that the data could not place (switched off, selecting no
        /// event), each with the reason; a therapy context that explains one leaves it out.
        public var gatesOff: [String] = []
        /// Those of them the nucleated or plasma-cell counts rest on (their ids): a positive is
        /// then called but not quantified.
        public var countGatesOff: [String] = []
        /// Plasma cells of the dominant chain beyond the normal κ:λ range of the whole
        /// compartment (``PlasmaCellLightChains``), and that finding in words; 0 and nil inside it.
        public var compartmentExcess = 0
        public var compartmentSkew: String? = nil
        /// Plasma cells reading no light chain beyond the others' share, clustered
        /// (``ChainlessPlasmaCells``), and that finding in words; 0 and nil without one.
        public var chainlessExcess = 0
        public var chainlessFinding: String? = nil
    }

    public let call: MRDResult.Call
    public let text: String
    public let reasons: [String]
    /// The plasma cells the call counts: the clonal excess, or on the monotypic route (step 4)
    /// the monotypic cells it took.
    public let counted: Int
    /// Whether the call is positive on the monotypic route (step 4).
    public let countsMonotypic: Bool
    /// Whether a positive's count may be given as a percentage: not when a gate the counts rest
    /// on was switched off (the clone was seen, but part of the plasma cells or the denominator may not be).
    public var quantified: Bool { (call == .positive || call == .positiveBelowLLOQ) && unquantifiedBy.isEmpty }
    /// The switched-off gates that leave a positive unquantified.
    public let unquantifiedBy: [String]

    public init(_ e: Evidence) {
        if !e.unreadable.isEmpty {
            self.init(.notEvaluable, "Not evaluable: " + e.unreadable.joined(separator: "; "), e.unreadable, counted: e.clonalExcess)
            return
        }
        if e.clonalExcess >= e.lloqEvents {
            self.init(.positive, "MRD positive: a clonal excess of \(e.clonalExcess) light-chain-restricted aberrant plasma cells among \(e.nucleated) nucleated cells", [], counted: e.clonalExcess, gatesOff: e.countGatesOff)
            return
        }
        if e.clonalExcess >= e.lodEvents {
            self.init(.positiveBelowLLOQ, "MRD positive below the LLOQ: a clonal excess of \(e.clonalExcess) light-chain-restricted aberrant plasma cells (LLOQ \(e.lloqEvents)) among \(e.nucleated) nucleated cells", [], counted: e.clonalExcess, gatesOff: e.countGatesOff)
            return
        }
        if e.monotypicIsPositive && e.monotypicExcess >= e.lodEvents {
            self.init(e.monotypicExcess >= e.lloqEvents ? .positive : .positiveBelowLLOQ,
                      "MRD positive (monotypic): \(e.monotypicExcess) light-chain-restricted plasma cells without a phenotypic aberrancy, counted as the template says", [],
                      counted: e.monotypicExcess, monotypic: true, gatesOff: e.countGatesOff)
            return
        }
        if e.monotypicIsPositive && e.compartmentExcess >= e.lodEvents, let skew = e.compartmentSkew {
            self.init(e.compartmentExcess >= e.lloqEvents ? .positive : .positiveBelowLLOQ,
                      "MRD positive (monotypic): \(skew), counted as the template says", [], counted: e.compartmentExcess, monotypic: true, gatesOff: e.countGatesOff)
            return
        }
        var blockers: [String] = []
        if e.nucleated < e.minNucleated {
            blockers.append("too few nucleated cells: \(e.nucleated) (at least \(e.minNucleated) needed)")
        } else if !e.sensitivityMet, let lod = e.lodFraction {
            blockers.append("sensitivity \(formatFraction(lod)) does not reach the target \(formatFraction(e.target))")
        }
        if e.polyclonalPlasmaCells < e.minNormalPlasmaCells && !e.normalPlasmaCellsAbsenceDeclared {
            blockers.append("no detectable normal plasma-cell compartment: \(e.polyclonalPlasmaCells) polyclonal plasma cells (at least \(e.minNormalPlasmaCells) needed); if their absence is expected (after BCMA CAR-T), declare it with --context post-car-t")
        }
        for gate in e.gatesOff { blockers.append(gate) }
        if let hemodiluted = e.hemodiluted { blockers.append(hemodiluted) }
        for failure in e.qcFailures { blockers.append("acquisition QC: \(failure)") }
        if e.monotypicExcess >= e.lodEvents {
            blockers.append("monotypic plasma cells: \(e.monotypicExcess) light-chain-restricted plasma cells without a phenotypic aberrancy — review")
        }
        if e.compartmentExcess >= e.lodEvents, let skew = e.compartmentSkew {
            blockers.append("monotypic plasma cells: \(skew) — review")
        }
        if e.chainlessExcess >= e.lodEvents, let finding = e.chainlessFinding { blockers.append(finding) }
        if !blockers.isEmpty {
            let detail = e.clonalExcess > 0 ? "; clonal excess \(e.clonalExcess) events, below the LOD of \(e.lodEvents)" : ""
            self.init(.notEvaluable, "Not evaluable: " + blockers.joined(separator: "; ") + detail, blockers, counted: e.clonalExcess)
            return
        }
        let lod = e.lodFraction.map { formatPercent(100 * $0) } ?? "?"
        let found = e.clonalExcess > 0
            ? "a clonal excess of \(e.clonalExcess) light-chain-restricted aberrant plasma cells, below the LOD of \(e.lodEvents) events,"
            : "no light-chain-restricted aberrant plasma cells"
        self.init(.negative, "MRD not detected (< LOD \(lod)%): \(found) among \(e.nucleated) nucleated cells (sensitivity \(e.lodFraction.map(formatFraction) ?? "?"))", [], counted: e.clonalExcess)
    }

    private init(_ call: MRDResult.Call, _ text: String, _ reasons: [String], counted: Int, monotypic: Bool = false, gatesOff: [String] = []) {
        // Only the positive steps pass `gatesOff`.
        self.call = call
        self.text = gatesOff.isEmpty ? text : text + "; not quantified: gate " + gatesOff.joined(separator: ", ")
            + " could not be placed from this sample's data, so plasma cells or nucleated cells it would select are not seen"
        self.reasons = reasons
        self.counted = counted
        self.countsMonotypic = monotypic
        self.unquantifiedBy = gatesOff
    }
}


/// A therapy context declared for a run.
public enum TherapyContext: String, Sendable, CaseIterable, Codable {
    /// After BCMA CAR-T: normal plasma cells may be absent; a negative does not need them.
    case postCART = "post-car-t"
    /// After anti-CD38 antibodies: CD38 is masked on every cell; the CD38 rule is off.
    case antiCD38 = "anti-cd38"
}
