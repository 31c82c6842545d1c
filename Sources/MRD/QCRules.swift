import Foundation
/// The `qc` block of a template: which gates the acquisition QC reports, how much the time gate
/// may drop, and the hemodilution indicators with the lab's reference limits.
///
/// Hemodilution is judged from populations that live in marrow but not in blood (B-cell
/// precursors, mast cells, erythroblasts, myeloid precursors): each has a lower reference limit
/// as % of nucleated cells, and the sample is flagged hemodiluted when at least
/// ``flagWhenBelow`` of them fall below their limit. References depend on age and treatment, so
/// the limits belong to the lab's template, not to the code.
public struct QCRules: Sendable, Equatable {
    /// One hemodilution indicator: a gate and its lower reference limit.
    public struct Indicator: Sendable, Equatable {
        public let name: String
        public let gate: String
        /// Lower reference limit, % of nucleated cells.
        public let minPercent: Double
    }

    /// The singlet gate and the debris gate whose counts QC reports (nil: not reported).
    public let singlets: String?
    public let nonDebris: String?
    /// Share of events the time gate may drop before the sample fails QC.
    public let maxTimeExcluded: Double
    public let indicators: [Indicator]
    /// How many indicators below their limit flag the sample hemodiluted.
    public let flagWhenBelow: Int
    /// With a normal reference: hemodilution judged by the marrow-content score instead of the count of indicators below their limits.
    public var marrowScore: MarrowScoreRule? = nil
    let references: [(String, Int, Int)]

    public static func == (a: QCRules, b: QCRules) -> Bool { String(describing: a) == String(describing: b) }

    /// A template without a `qc` block: time exclusion up to 50%, no hemodilution indicators.
    static let standard = QCRules(singlets: nil, nonDebris: nil, maxTimeExcluded: 0.5, indicators: [], flagWhenBelow: 1, references: [])

    /// The same rules with some indicator limits replaced (by indicator name or gate id).
    public func overriding(limits: [String: Double]) throws(MRDError) -> QCRules {
        var unknown = Set(limits.keys)
        let updated = indicators.map { indicator in
            for key in [indicator.gate, indicator.name] where limits[key] != nil {
                unknown.remove(key)
                return Indicator(name: indicator.name, gate: indicator.gate, minPercent: limits[key]!)
            }
            return indicator
        }
        if let name = unknown.sorted().first {
            throw .input(file: "--limit", detail: "no hemodilution indicator is called \"\(name)\" (the template has \(indicators.map(\.gate).joined(separator: ", ")))")
        }
        var rules = QCRules(singlets: singlets, nonDebris: nonDebris, maxTimeExcluded: maxTimeExcluded, indicators: updated,
                            flagWhenBelow: flagWhenBelow, references: references)
        rules.marrowScore = marrowScore
        return rules
    }

    static func parse(_ node: TemplateNode) throws(MRDError) -> QCRules {
        let k = try node.mapping(allowed: ["singlets", "non_debris", "max_time_excluded", "hemodilution"], what: "qc")
        var references: [(String, Int, Int)] = []
        func gate(_ n: TemplateNode, what: String) throws(MRDError) -> String {
            let id = try n.string(what: what)
            references.append((id, n.line, n.column))
            return id
        }
        let singlets = try k["singlets"].map { n throws(MRDError) in try gate(n, what: "singlets") }
        let nonDebris = try k["non_debris"].map { n throws(MRDError) in try gate(n, what: "non_debris") }
        var maxExcluded = 0.5
        if let n = k["max_time_excluded"] {
            maxExcluded = try n.double(what: "max_time_excluded")
            guard maxExcluded > 0 && maxExcluded <= 1 else { throw n.error("max_time_excluded must be a fraction above 0 and at most 1 (e.g. 0.5)") }
        }
        var indicators: [Indicator] = []
        var flagWhenBelow = 1
        if let h = k["hemodilution"] {
            let hk = try h.mapping(allowed: ["flag_when_below", "indicators"], what: "hemodilution")
            for i in try hk.required("indicators").sequence(what: "hemodilution indicators") {
                let ik = try i.mapping(allowed: ["name", "gate", "min_percent"], what: "hemodilution indicator")
                let id = try gate(try ik.required("gate"), what: "indicator gate")
                let limitNode = try ik.required("min_percent")
                let limit = try limitNode.double(what: "min_percent")
                guard limit >= 0 && limit < 100 else { throw limitNode.error("min_percent is a percentage of nucleated cells (0 to 100)") }
                let name = try ik["name"]?.string(what: "indicator name") ?? id
                if indicators.contains(where: { $0.gate == id || $0.name == name }) { throw i.error("hemodilution indicator \"\(name)\" is listed twice") }
                indicators.append(Indicator(name: name, gate: id, minPercent: limit))
            }
            guard !indicators.isEmpty else { throw hk.error("list at least one indicator") }
            flagWhenBelow = 1
            if let n = hk["flag_when_below"] {
                flagWhenBelow = try n.int(what: "flag_when_below")
                guard (1...indicators.count).contains(flagWhenBelow) else {
                    throw n.error("flag_when_below must be between 1 and the number of indicators (\(indicators.count))")
                }
            }
        }
        return QCRules(singlets: singlets, nonDebris: nonDebris, maxTimeExcluded: maxExcluded, indicators: indicators,
                       flagWhenBelow: flagWhenBelow, references: references)
    }
}

/// Hemodilution judged against a normal reference: blood dilutes every marrow-only population by
/// the same factor, so the mean over the indicators of log₁₀(level / the reference's median level)
/// estimates the marrow's share on a log scale, with less spread than any one indicator. The
/// sample is hemodiluted when that score falls below the reference's limit (its normal marrows'
/// leave-one-out scores: mean − 2.326 SD, a one-sided 1% limit).
public struct MarrowScoreRule: Sendable, Equatable {
    /// Median % of nucleated cells per indicator gate in the reference's marrows.
    public let medians: [String: Double]
    /// The score below which a sample is hemodiluted (decades).
    public let limit: Double

    /// The score of indicator levels (% of nucleated cells, by gate); a zero level counts as half
    /// an event among `nucleated` cells. Nil when no indicator has a reference median.
    /// - Complexity: O(indicators).
    public func score(_ levels: [String: Double], nucleated: Int) -> Double? {
        let floor = 100 * 0.5 / Double(max(1, nucleated))
        let terms = levels.compactMap { gate, level -> Double? in
            guard let median = medians[gate], median > 0 else { return nil }
            return log10(max(level, floor) / median)
        }
        return terms.isEmpty ? nil : terms.reduce(0, +) / Double(terms.count)
    }
}
