import Cytometry
import FCS


/// The MRD block of a template: which gates are the denominator and the plasma cells,
/// the aberrancy rules and the thresholds of the call.
public struct MRDRules: Sendable, Equatable {
    public struct Rule: Sendable, Equatable {
        public let marker: String
        public let aberrant: ThresholdSide
        public let threshold: ThresholdSpec
    }

    /// The denominator gate (nucleated cells).
    public let nucleated: String
    public let plasmaCells: String
    public let minNucleatedCells: Int
    public let targetSensitivity: Double
    public let minClusterEvents: Int
    public let lloqEvents: Int
    public let minAberrancies: Int
    public let rules: [Rule]
    public let kappa: String
    public let lambda: String
    /// Minimum difference (transformed units) between the two light chains to call an event κ or λ.
    public let lightChainMargin: Double
    /// κ:λ (or λ:κ) ratio at or above which a population is called light-chain restricted.
    public let restrictionRatio: Double
    public let clusterDimensions: [String]
    public let clusterRadius: Double
    public let clusterMinNeighbours: Int
    public let phenotypeMarkers: [String]
    public let phenotypeMargin: Double
    /// Significance level of the exact binomial test of light-chain restriction inside a cluster.
    public let clonalityAlpha: Double
    /// κ:λ of polyclonal plasma cells used when the sample has fewer than `minNormalPlasmaCells`.
    public let normalKappaLambda: Double
    /// κ:λ range of polyclonal plasma cells as a whole (`light_chains.normal_range`): all plasma
    /// cells beyond it are a monotypic population (``PlasmaCellLightChains``).
    public let normalRange: ClosedRange<Double>
    /// Normal (polyclonal) plasma cells a negative call needs, unless the run declares their absence.
    public let minNormalPlasmaCells: Int
    /// Whether monotypic plasma cells without a phenotypic aberrancy count as positive (else: review).
    public let monotypicIsPositive: Bool
    /// Expected medians of normal plasma cells per phenotype marker (transformed units), from the
    /// lab's normal marrows: the phenotype reference when a sample has too few normal plasma
    /// cells of its own (after BCMA CAR-T), and the level masking is judged against.
    public let normalMedians: [String: Double]
    /// Detection of antibody masking (anti-CD38): the sample's polyclonal plasma cells' median of
    /// `marker` more than `minDrop` below its normal median while `by` stays within the phenotype
    /// margin of its own.
    public struct Masking: Sendable, Equatable {
        public let marker: String
        public let by: String
        public let minDrop: Double
    }
    public let masking: Masking?
    /// `light_chains.chainless_gate`: a threshold gate on a marker only plasma cells carry; its
    /// plasma cells that read no chain, clustered, block a negative (``ChainlessPlasmaCells``). Nil: not looked for.
    public let chainlessGate: String?
    let references: [(String, Int, Int)]

    public static func == (a: MRDRules, b: MRDRules) -> Bool { String(describing: a) == String(describing: b) }

    static func parse(_ node: TemplateNode, markers: Set<String>) throws(MRDError) -> MRDRules {
        let k = try node.mapping(allowed: ["nucleated", "plasma_cells", "min_nucleated_cells", "target_sensitivity", "min_cluster_events",
                                           "lloq_events", "aberrancy", "light_chains", "cluster", "phenotype",
                                           "min_normal_plasma_cells", "monotypic", "masking"], what: "mrd")
        var references: [(String, Int, Int)] = []
        func gate(_ key: String) throws(MRDError) -> String {
            let n = try k.required(key)
            let id = try n.string(what: key)
            references.append((id, n.line, n.column))
            return id
        }
        func marker(_ n: TemplateNode, what: String) throws(MRDError) -> String {
            let name = try n.string(what: what)
            guard markers.contains(name) else { throw n.error("\(what): marker \"\(name)\" is not in the panel") }
            return name
        }
        func positiveInt(_ key: String, default value: Int) throws(MRDError) -> Int {
            guard let n = k[key] else { return value }
            let v = try n.int(what: key)
            guard v > 0 else { throw n.error("\(key) must be positive") }
            return v
        }
        let nucleated = try gate("nucleated")
        let plasmaCells = try gate("plasma_cells")
        let minNucleated = try positiveInt("min_nucleated_cells", default: 1_500_000)
        let minCluster = try positiveInt("min_cluster_events", default: 30)
        let lloq = try positiveInt("lloq_events", default: 50)
        var target = 1e-4
        if let n = k["target_sensitivity"] {
            target = try n.double(what: "target_sensitivity")
            guard target > 0 && target < 1 else { throw n.error("target_sensitivity must be between 0 and 1 (e.g. 1.0e-4)") }
        }
        if lloq < minCluster { throw (k["lloq_events"] ?? node).error("mrd: lloq_events (\(lloq)) must not be below min_cluster_events (\(minCluster))") }

        let a = try k.required("aberrancy").mapping(allowed: ["min_aberrancies", "rules"], what: "aberrancy")
        var rules: [Rule] = []
        for r in try a.required("rules").sequence(what: "aberrancy rules") {
            let rk = try r.mapping(allowed: ["marker", "aberrant", "threshold"], what: "aberrancy rule")
            let sideNode = try rk.required("aberrant")
            guard let side = ThresholdSide(rawValue: try sideNode.string(what: "aberrant")) else { throw sideNode.error("aberrant must be above or below") }
            let threshold = try ThresholdSpec.parse(try rk.required("threshold"), what: "aberrancy threshold")
            if let p = threshold.population { references.append((p, r.line, r.column)) }
            rules.append(Rule(marker: try marker(try rk.required("marker"), what: "aberrancy marker"), aberrant: side, threshold: threshold))
        }
        guard !rules.isEmpty else { throw a.error("at least one aberrancy rule is needed") }
        var minAberrancies = 2
        if let n = a["min_aberrancies"] {
            minAberrancies = try n.int(what: "min_aberrancies")
            guard minAberrancies >= 1 && minAberrancies <= rules.count else { throw n.error("min_aberrancies must be between 1 and the number of rules (\(rules.count))") }
        }
        let l = try k.required("light_chains").mapping(allowed: ["kappa", "lambda", "margin", "restriction_ratio", "alpha", "normal_ratio", "normal_range", "chainless_gate"],
                                                      what: "light_chains")
        let alpha = try l["alpha"]?.double(what: "alpha") ?? 0.001
        guard alpha > 0 && alpha < 0.5 else { throw (l["alpha"] ?? node).error("light_chains: alpha must be between 0 and 0.5 (e.g. 0.001)") }
        let normalRatio = try l["normal_ratio"]?.double(what: "normal_ratio") ?? 1.6
        guard normalRatio > 0.2 && normalRatio < 5 else { throw (l["normal_ratio"] ?? node).error("light_chains: normal_ratio must be a polyclonal κ:λ between 0.2 and 5") }
        var normalRange = 0.5...4.0
        if let n = l["normal_range"] {
            let bounds = try n.doubles(what: "light_chains: normal_range", count: 2)
            let (low, high) = (bounds[0], bounds[1])
            guard low > 0, low < normalRatio, high > normalRatio, high.isFinite else {
                throw n.error("light_chains: normal_range [\(formatNumber(low)), \(formatNumber(high))] must hold the normal κ:λ \(formatNumber(normalRatio)) strictly inside, with 0 < low")
            }
            normalRange = low...high
        } else if let n = l["normal_ratio"], !(normalRatio > normalRange.lowerBound && normalRatio < normalRange.upperBound) {
            // A lab's own polyclonal ratio outside the default range would flag its normal marrows.
            throw n.error("light_chains: normal_ratio \(formatNumber(normalRatio)) lies outside the default normal_range [0.5, 4]; set normal_range to the κ:λ range of your normal marrows")
        }
        let minNormal = try positiveInt("min_normal_plasma_cells", default: 20)
        var monotypicIsPositive = false
        if let n = k["monotypic"] {
            switch try n.string(what: "monotypic") {
            case "review": monotypicIsPositive = false
            case "positive": monotypicIsPositive = true
            default: throw n.error("monotypic must be review or positive")
            }
        }
        let c = try k.required("cluster").mapping(allowed: ["dimensions", "radius", "min_neighbours"], what: "cluster")
        // A list of panel markers (`noun` names one in the error).
        func panelMarkers(_ n: TemplateNode, what: String, noun: String) throws(MRDError) -> [String] {
            let names = try n.strings(what: what)
            if let absent = names.first(where: { !markers.contains($0) }) { throw n.error("\(noun) \"\(absent)\" is not in the panel") }
            return names
        }
        let dimsNode = try c.required("dimensions")
        let dims = try panelMarkers(dimsNode, what: "cluster dimensions", noun: "cluster dimension")
        guard (1...12).contains(dims.count) else { throw dimsNode.error("cluster dimensions: between 1 and 12 markers") }
        let radiusNode = try c.required("radius")
        let radius = try radiusNode.double(what: "radius")
        guard radius > 0 && radius < 1 else { throw radiusNode.error("cluster: radius must be between 0 and 1 (transformed units)") }
        let p = try k.required("phenotype").mapping(allowed: ["markers", "margin", "normal_medians"], what: "phenotype")
        let phenotypeMarkers = try panelMarkers(try p.required("markers"), what: "phenotype markers", noun: "phenotype marker")
        var normalMedians: [String: Double] = [:]
        if let n = p["normal_medians"] {
            let m = try n.mapping(allowed: phenotypeMarkers, what: "normal_medians")
            for name in phenotypeMarkers {
                guard let v = m[name] else { continue }
                let value = try v.double(what: "normal median of \(name)")
                guard value > -0.5 && value < 1.5 else { throw v.error("normal_medians: \(name) must be a transformed level between -0.5 and 1.5") }
                normalMedians[name] = value
            }
        }
        var masking: Masking?
        if let n = k["masking"] {
            let m = try n.mapping(allowed: ["marker", "by", "min_drop"], what: "masking")
            let maskedNode = try m.required("marker"), byNode = try m.required("by")
            let masked = try maskedNode.string(what: "masking marker"), by = try byNode.string(what: "masking by")
            guard normalMedians[masked] != nil else { throw maskedNode.error("masking: marker \(masked) needs a phenotype normal_medians entry") }
            guard normalMedians[by] != nil else { throw byNode.error("masking: by \(by) needs a phenotype normal_medians entry") }
            let dropNode = try m.required("min_drop")
            let drop = try dropNode.double(what: "min_drop")
            guard drop > 0 && drop < 1 else { throw dropNode.error("masking: min_drop must be between 0 and 1 (transformed units)") }
            masking = Masking(marker: masked, by: by, minDrop: drop)
        }
        var minNeighbours = 5
        if let n = c["min_neighbours"] {
            minNeighbours = try n.int(what: "min_neighbours")
            guard minNeighbours >= 1 else { throw n.error("cluster: min_neighbours must be at least 1") }
        }
        func margin(_ owner: KeyedNode, default value: Double) throws(MRDError) -> Double {
            guard let n = owner["margin"] else { return value }
            let v = try n.double(what: "margin")
            guard v >= 0 && v < 1 else { throw n.error("\(owner.what): margin must be at least 0 and below 1 (transformed units)") }
            return v
        }
        let restriction = try l["restriction_ratio"]?.double(what: "restriction_ratio") ?? 4
        guard restriction > 1 else { throw (l["restriction_ratio"] ?? node).error("light_chains: restriction_ratio must be above 1") }
        var chainlessGate: String? = nil
        if let n = l["chainless_gate"] {
            chainlessGate = try n.string(what: "chainless_gate")
            references.append((chainlessGate!, n.line, n.column))
        }
        return MRDRules(
            nucleated: nucleated, plasmaCells: plasmaCells, minNucleatedCells: minNucleated, targetSensitivity: target,
            minClusterEvents: minCluster, lloqEvents: lloq, minAberrancies: minAberrancies, rules: rules,
            kappa: try marker(try l.required("kappa"), what: "kappa"), lambda: try marker(try l.required("lambda"), what: "lambda"),
            lightChainMargin: try margin(l, default: 0.1), restrictionRatio: restriction,
            clusterDimensions: dims, clusterRadius: radius, clusterMinNeighbours: minNeighbours,
            phenotypeMarkers: phenotypeMarkers, phenotypeMargin: try margin(p, default: 0.1), clonalityAlpha: alpha,
            normalKappaLambda: normalRatio, normalRange: normalRange, minNormalPlasmaCells: minNormal, monotypicIsPositive: monotypicIsPositive,
            normalMedians: normalMedians, masking: masking, chainlessGate: chainlessGate, references: references)
    }
}
