/// The outcome of one MRD analysis: every count, the figures and the call, as the text and JSON
/// reports show them (JSON schema: docs/report-schema.md, ``schemaVersion``).
public struct MRDResult: Sendable, Codable, Equatable {
    public static let schemaVersion = 10

    /// The clinical call.
    public enum Call: String, Sendable, Codable, CaseIterable {
        /// A distinct cluster of at least the LLOQ (default 50) aberrant plasma cells.
        case positive
        /// A distinct cluster of at least the minimum (default 30) but fewer than the LLOQ.
        case positiveBelowLLOQ = "positive_below_lloq"
        /// No qualifying cluster among enough nucleated cells to reach the target sensitivity.
        case negative
        /// The sample cannot answer the question; `notEvaluableReasons` says why.
        case notEvaluable = "not_evaluable"
    }

    public struct Population: Sendable, Codable, Equatable {
        public let count: Int
        /// Of all plasma cells (nil for the plasma-cell population itself).
        @Nullable public private(set) var percentOfPlasmaCells: Double?
        public let percentOfNucleated: Double
    }

    /// Which normal reference a result used.
    public struct ReferenceUse: Sendable, Codable, Equatable {
        public let file: String
        public let contentSHA256: String
        public let synthetic: Bool
        public let files: Int
        public let template: String
        enum CodingKeys: String, CodingKey { case file, synthetic, files, template, contentSHA256 = "content_sha256" }
    }

    public struct GateCount: Sendable, Codable, Equatable {
        public let id: String
        public let parent: String?
        public let count: Int
        public let parentCount: Int
        public let percentOfParent: Double
    }

    /// Where a data-driven boundary landed in this sample.
    public struct Threshold: Sendable, Codable, Equatable {
        /// Gate id, or "rule:MARKER" for an aberrancy rule.
        public let name: String
        public let marker: String
        /// fixed, valley, reference, ratio-band or flow-rate.
        public let method: String
        /// The boundary (transformed units); for a ratio band its low end, for flow-rate the events
        /// kept; nil when the data could not place it (``switchedOff``).
        @Nullable public private(set) var value: Double?
        /// The high end of a ratio band.
        @Nullable public private(set) var upper: Double?
        /// The data could not place this boundary: the gate selects no event, the rule marks no cell.
        public let switchedOff: Bool
        public let detail: String
    }

    public struct MarkerPattern: Sendable, Codable, Equatable {
        public let marker: String
        public let aberrantMedian: Double
        @Nullable public private(set) var normalMedian: Double?
        /// reduced, normal, increased, or no_reference (no normal plasma cells to compare with).
        public let pattern: String
        /// The 95% interval of the clone's median (``ExcessMedian/Estimate``); null when the
        /// median is not of a positive excess.
        @Nullable public private(set) var aberrantMedianCI95: [Double]? = nil
        /// Whether that interval reaches across the normal median ± the margin (the pattern could
        /// be another); null without a normal median or an interval.
        @Nullable public private(set) var uncertain: Bool? = nil
    }

    public struct LightChains: Sendable, Codable, Equatable {
        /// kappa, lambda, polyclonal or undetermined (no aberrant cluster, or no light chain seen).
        public let aberrant: String
        public let aberrantKappa: Int
        public let aberrantLambda: Int
        public let normalKappa: Int
        public let normalLambda: Int
        /// κ:λ of normal plasma cells (nil without λ events).
        @Nullable public private(set) var normalRatio: Double?
    }

    public struct Sensitivity: Sendable, Codable, Equatable {
        /// Events needed for a positive call (the minimum cluster size) and as % of nucleated cells.
        public let lodEvents: Int
        @Nullable public private(set) var lodPercent: Double?
        public let lloqEvents: Int
        @Nullable public private(set) var lloqPercent: Double?
        /// LOD as a fraction (e.g. 2e-5): the sensitivity this sample reached.
        @Nullable public private(set) var reached: Double?
        public let target: Double
        public let minNucleatedCells: Int
        public let met: Bool
        /// Which conditions of `met` failed, in words (empty when met).
        public var notMetBecause: [String] = []
        /// Whether the LOD reached 10⁻⁵ (IMWG 2016 flow MRD negativity needs it).
        public let imwgReached: Bool
    }

    /// What the call rests on: every plasma-cell cluster with its light chains, the polyclonal
    /// ratio it was judged against, and the clonal excess counted.
    public struct Clonality: Sendable, Codable, Equatable {
        /// κ:λ of the polyclonal plasma cells ("sample"), or the template's normal ratio ("template").
        public let referenceKappaLambda: Double
        public let referenceSource: String
        public let polyclonalPlasmaCells: Int
        /// Restricted-chain events of the MRD clusters beyond their polyclonal share (the MRD count).
        public let clonalExcess: Int
        public let clonalExcessCI95: [Double]
        /// Events of the restricted chain in the MRD clusters: the events drawn and audited as aberrant
        /// (the clonal excess is this less the polyclonal share among them).
        public let restrictedEvents: Int
        /// Restricted plasma cells without a phenotypic aberrancy.
        public let monotypicExcess: Int
        /// Clusters of at least the LOD, and every MRD or monotypic cluster, largest first.
        public let clusters: [PlasmaCellCluster]
        /// Declared therapy contexts (post-car-t, anti-cd38).
        public let context: [String]
        /// Aberrancy rules switched off for this sample because no data-driven threshold could be set,
        /// or because the marker is masked.
        public let rulesOff: [String]
        /// Where the normal phenotype came from: "sample" (its polyclonal clusters), "template"
        /// (`phenotype.normal_medians`, too few normal plasma cells of its own) or "none".
        public var phenotypeReference: String = "sample"
        /// Antibody masking of the template's masking marker: "declared" (`--context anti-cd38`), "detected", or absent.
        @Nullable public var masking: String? = nil
        /// The κ:λ of every plasma cell together against the template's normal range.
        public var plasmaCellKappaLambda: PlasmaCellLightChains? = nil
        /// The variance of log r₀ the clusters' excess intervals hold (``ReferenceRatioUncertainty``):
        /// null when r₀ is the template's, used as given.
        @Nullable public var referenceRatioLogVariance: RatioLogVariance? = nil
        /// The level a plasma cell's higher light chain had to exceed to be read (``LightChainReading``):
        /// the valley between the plasma cells' two chain modes; null when it could not be placed.
        @Nullable public var lightChainReadLevel: Double? = nil
        /// The search for plasma cells without a light chain (``ChainlessPlasmaCells``): null when
        /// it was off (no `light_chains.chainless_gate`, or its threshold or the read level not placed).
        @Nullable public var chainless: Chainless? = nil

        /// Clusters of plasma cells above the gate's threshold that read no light chain beyond the
        /// other plasma cells' share; `populations` empty when none was found.
        public struct Chainless: Sendable, Codable, Equatable {
            public let gate: String
            public let marker: String
            public let threshold: Double
            /// The populations' excess together: what blocks a negative when it reaches the LOD.
            public let excess: Int
            public let populations: [Population]

            public struct Population: Sendable, Codable, Equatable {
                /// The cluster's position in `clusters` (null when not listed).
                @Nullable public var cluster: Int?
                /// Its events above the gate's threshold, and those of them reading no chain.
                public let aboveGate: Int
                public let withoutChain: Int
                /// Events without a chain beyond the other clustered plasma cells' share.
                public let excess: Int
                /// The one-sided Fisher exact test against the other clustered plasma cells.
                public let pValue: Double

                enum CodingKeys: String, CodingKey {
                    case cluster, excess, aboveGate = "above_gate", withoutChain = "without_chain", pValue = "p_value"
                }
            }
        }

        /// The parts of the variance of log r₀ (docs/templates.md): sampling, between the
        /// polyclonal clusters, and within them along the phenotype markers; the interval uses
        /// sampling plus the larger of the other two.
        public struct RatioLogVariance: Sendable, Codable, Equatable {
            public let sampling: Double
            public let betweenClusters: Double
            public let withinClusters: Double

            enum CodingKeys: String, CodingKey {
                case sampling, betweenClusters = "between_clusters", withinClusters = "within_clusters"
            }
        }

        enum CodingKeys: String, CodingKey {
            case clusters, context
            case referenceKappaLambda = "reference_kappa_lambda", referenceSource = "reference_source"
            case polyclonalPlasmaCells = "polyclonal_plasma_cells", clonalExcess = "clonal_excess", clonalExcessCI95 = "clonal_excess_ci95"
            case monotypicExcess = "monotypic_excess", rulesOff = "rules_off", restrictedEvents = "restricted_events"
            case phenotypeReference = "phenotype_reference", masking, plasmaCellKappaLambda = "plasma_cell_kappa_lambda"
            case referenceRatioLogVariance = "reference_ratio_log_variance", lightChainReadLevel = "light_chain_read_level", chainless
        }
    }

    public let schema: Int
    public let software: String
    public let file: String
    @Nullable public private(set) var fileSHA256: String?
    public let template: String
    public let templateVersion: String
    public let templateSHA256: String
    public let totalEvents: Int
    public let panel: [String: String]
    /// Markers the run mapped to channels by hand (`--channel MARKER=CHANNEL`); empty when none.
    public let channelAssignments: [String: String]
    /// The normal-marrow reference the sample was judged against (`--reference`), or null.
    @Nullable public private(set) var normalReference: ReferenceUse?
    public let gates: [GateCount]
    public let thresholds: [Threshold]
    public let nucleatedCells: Int
    public let plasmaCells: Population
    public let normalPC: Population
    public let aberrantPC: Population
    /// Events of the clusters that read too few light chains to be judged (``PlasmaCellCluster/Role/unread``):
    /// in the plasma-cell gate, but neither normal nor aberrant plasma cells.
    public var unreadPC = Population(count: 0, percentOfPlasmaCells: nil, percentOfNucleated: 0)
    /// Sizes of the aberrant clusters counted (largest first).
    public let aberrantClusters: [Int]
    /// Events that passed the aberrancy rules but lie in no cluster counted.
    public let unclusteredAberrantEvents: Int
    @Nullable public private(set) var mrdPercent: Double?
    /// Exact 95% interval of the MRD, in percent.
    @Nullable public private(set) var mrdCI95Percent: [Double]?
    public let sensitivity: Sensitivity
    public let phenotype: [MarkerPattern]
    public let lightChains: LightChains
    public let call: Call
    public let callText: String
    public let notEvaluableReasons: [String]
    public let warnings: [String]
    /// Acquisition QC: counts, time stability, hemodilution, parser warnings, pass or fail.
    public let qc: AcquisitionQC
    /// Clustering and clonality of the plasma cells (nil when the sample was not gated).
    @Nullable public private(set) var clonality: Clonality?

    enum CodingKeys: String, CodingKey {
        case schema, software, file, template, panel, gates, thresholds, phenotype, call, warnings, sensitivity, qc, clonality
        case channelAssignments = "channel_assignments", normalReference = "reference", fileSHA256 = "file_sha256", templateVersion = "template_version", templateSHA256 = "template_sha256"
        case totalEvents = "total_events", nucleatedCells = "nucleated_cells", plasmaCells = "plasma_cells"
        case normalPC = "normal_pc", aberrantPC = "aberrant_pc", unreadPC = "unread_pc", aberrantClusters = "aberrant_clusters"
        case unclusteredAberrantEvents = "unclustered_aberrant_events", mrdPercent = "mrd_percent", mrdCI95Percent = "mrd_ci95_percent"
        case lightChains = "light_chains", callText = "call_text", notEvaluableReasons = "not_evaluable_reasons"
    }
}

extension MRDResult.Population {
    enum CodingKeys: String, CodingKey {
        case count, percentOfPlasmaCells = "percent_of_plasma_cells", percentOfNucleated = "percent_of_nucleated"
    }
}

extension MRDResult.GateCount {
    enum CodingKeys: String, CodingKey {
        case id, parent, count, parentCount = "parent_count", percentOfParent = "percent_of_parent"
    }
}

extension MRDResult.Threshold {
    enum CodingKeys: String, CodingKey {
        case name, marker, method, value, upper, detail, switchedOff = "switched_off"
    }
}

extension MRDResult.MarkerPattern {
    enum CodingKeys: String, CodingKey {
        case marker, pattern, aberrantMedian = "aberrant_median", normalMedian = "normal_median"
        case aberrantMedianCI95 = "aberrant_median_ci95", uncertain
    }
}

extension MRDResult.LightChains {
    enum CodingKeys: String, CodingKey {
        case aberrant, aberrantKappa = "aberrant_kappa", aberrantLambda = "aberrant_lambda"
        case normalKappa = "normal_kappa", normalLambda = "normal_lambda", normalRatio = "normal_kappa_lambda_ratio"
    }
}

extension MRDResult.Sensitivity {
    enum CodingKeys: String, CodingKey {
        case target, met, reached
        case lodEvents = "lod_events", lodPercent = "lod_percent", lloqEvents = "lloq_events", lloqPercent = "lloq_percent"
        case minNucleatedCells = "min_nucleated_cells", imwgReached = "imwg_1e-5_reached", notMetBecause = "not_met_because"
    }
}
