import Foundation
import MRD

/// A lab's manual MRD (FlowJo gates) beside FlowMRD's, sample by sample, and their agreement
/// over the cohort: the concordance table of calls, Cohen's κ, Bland–Altman bias and 95% limits
/// of agreement on log₁₀ MRD for the samples both call positive, and Spearman's ρ (docs/flowjo.md).
public struct ManualComparison: Encodable, Sendable {
    /// One sample.
    public struct Row: Encodable, Sendable, Equatable {
        public let file: String
        /// The workspace sample applied ("ID (name)").
        public let sample: String
        public let manualEvents: Int
        public let manualNucleated: Int
        public let manualPercent: Double
        /// "positive" or "negative" (positive when the manual MRD gate holds at least the
        /// template's minimum cluster size, the events a positive FlowMRD cluster needs too).
        public let manualCall: String
        @Nullable public private(set) var flowmrdPercent: Double?
        public let flowmrdEvents: Int
        public let flowmrdCall: String

        public init(file: String, sample: String, manualEvents: Int, manualNucleated: Int, minimumEvents: Int,
                    flowmrdPercent: Double?, flowmrdEvents: Int, flowmrdCall: String) {
            self.file = file
            self.sample = sample
            self.manualEvents = manualEvents
            self.manualNucleated = manualNucleated
            manualPercent = manualNucleated > 0 ? round6(100 * Double(manualEvents) / Double(manualNucleated)) : 0
            manualCall = manualEvents >= minimumEvents && manualNucleated > 0 ? "positive" : "negative"
            self.flowmrdPercent = flowmrdPercent
            self.flowmrdEvents = flowmrdEvents
            self.flowmrdCall = flowmrdCall
        }

        /// FlowMRD's call as positive/negative, or nil when not evaluable.
        var flowmrdBinary: String? {
            switch flowmrdCall {
            case MRDResult.Call.positive.rawValue, MRDResult.Call.positiveBelowLLOQ.rawValue: return "positive"
            case MRDResult.Call.negative.rawValue: return "negative"
            default: return nil
            }
        }

        enum CodingKeys: String, CodingKey {
            case file, sample, manualEvents = "manual_events", manualNucleated = "manual_nucleated", manualPercent = "manual_mrd_percent"
            case manualCall = "manual_call", flowmrdPercent = "flowmrd_mrd_percent", flowmrdEvents = "flowmrd_events", flowmrdCall = "flowmrd_call"
        }
    }

    /// Calls: rows manual, columns FlowMRD.
    public struct Concordance: Encodable, Sendable, Equatable {
        public let bothPositive: Int, manualOnly: Int, flowmrdOnly: Int, bothNegative: Int
        /// Samples FlowMRD found not evaluable, left out of the table and of κ.
        public let notEvaluable: Int
        enum CodingKeys: String, CodingKey {
            case bothPositive = "both_positive", manualOnly = "manual_positive_flowmrd_negative"
            case flowmrdOnly = "manual_negative_flowmrd_positive", bothNegative = "both_negative", notEvaluable = "flowmrd_not_evaluable"
        }
    }

    public struct BlandAltman: Encodable, Sendable, Equatable {
        /// Samples both call positive with an MRD on both sides.
        public let samples: Int
        /// Mean of log₁₀(FlowMRD %) − log₁₀(manual %).
        public let bias: Double
        /// bias ± 1.96 SD (SD with n − 1); null with fewer than 2 samples.
        @Nullable public private(set) var lower: Double?
        @Nullable public private(set) var upper: Double?
        /// Per sample: the mean of the two log₁₀ values and their difference, for the plot.
        public let points: [[Double]]
    }

    public let rows: [Row]
    /// Files that could not be compared, and why.
    public let errors: [ErrorRow]
    /// Files of an input folder that are no event files.
    public let skipped: [ErrorRow]
    public let concordance: Concordance
    @Nullable public private(set) var cohenKappa: Double?
    @Nullable public private(set) var blandAltman: BlandAltman?
    /// Spearman's ρ of manual and FlowMRD MRD % over the evaluable samples (not detected = 0).
    @Nullable public private(set) var spearmanRho: Double?
    /// How the manual call was made.
    public let manualRule: String

    public struct ErrorRow: Encodable, Sendable, Equatable {
        public let file: String
        public let error: String
        public init(file: String, error: String) {
            self.file = file
            self.error = error
        }
    }

    enum CodingKeys: String, CodingKey {
        case rows = "samples", errors, skipped, concordance, cohenKappa = "cohen_kappa", blandAltman = "bland_altman", spearmanRho = "spearman_rho", manualRule = "manual_rule"
    }

    public init(rows: [Row], errors: [ErrorRow], skipped: [ErrorRow] = [], minimumEvents: Int) {
        self.rows = rows
        self.errors = errors
        self.skipped = skipped
        manualRule = "positive when the manual MRD gate holds at least \(minimumEvents) events (the template's min_cluster_events)"
        let evaluable = rows.filter { $0.flowmrdBinary != nil }
        func count(_ manual: String, _ auto: String) -> Int { evaluable.filter { $0.manualCall == manual && $0.flowmrdBinary == auto }.count }
        concordance = Concordance(bothPositive: count("positive", "positive"), manualOnly: count("positive", "negative"),
                                  flowmrdOnly: count("negative", "positive"), bothNegative: count("negative", "negative"),
                                  notEvaluable: rows.count - evaluable.count)
        cohenKappa = Self.kappa(concordance)
        let both = evaluable.compactMap { row -> (Double, Double)? in
            guard row.manualCall == "positive", row.flowmrdBinary == "positive", let auto = row.flowmrdPercent, auto > 0, row.manualPercent > 0 else { return nil }
            return (log10(row.manualPercent), log10(auto))
        }
        blandAltman = Self.blandAltman(both)
        spearmanRho = Self.spearman(evaluable.map { ($0.manualPercent, $0.flowmrdPercent ?? 0) })
    }

    /// (p₀ − pₑ) / (1 − pₑ); nil for an empty table, 1 when both raters give one class only and agree.
    static func kappa(_ c: Concordance) -> Double? {
        let n = Double(c.bothPositive + c.manualOnly + c.flowmrdOnly + c.bothNegative)
        guard n > 0 else { return nil }
        let observed = Double(c.bothPositive + c.bothNegative) / n
        let manualPositive = Double(c.bothPositive + c.manualOnly) / n, autoPositive = Double(c.bothPositive + c.flowmrdOnly) / n
        let expected = manualPositive * autoPositive + (1 - manualPositive) * (1 - autoPositive)
        guard expected < 1 else { return observed == 1 ? 1 : nil }
        return round6((observed - expected) / (1 - expected))
    }

    static func blandAltman(_ pairs: [(manual: Double, auto: Double)]) -> BlandAltman? {
        guard !pairs.isEmpty else { return nil }
        let differences = pairs.map { $0.auto - $0.manual }
        let mean = differences.reduce(0, +) / Double(differences.count)
        let points = pairs.map { [round6(($0.auto + $0.manual) / 2), round6($0.auto - $0.manual)] }
        guard differences.count >= 2 else { return BlandAltman(samples: 1, bias: round6(mean), lower: nil, upper: nil, points: points) }
        let sd = sqrt(differences.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(differences.count - 1))
        return BlandAltman(samples: differences.count, bias: round6(mean), lower: round6(mean - 1.96 * sd), upper: round6(mean + 1.96 * sd), points: points)
    }

    /// Pearson's r of the average ranks (ties share their mean rank); nil below 3 samples or
    /// when either side is constant.
    static func spearman(_ pairs: [(Double, Double)]) -> Double? {
        guard pairs.count >= 3 else { return nil }
        func ranks(_ values: [Double]) -> [Double] {
            let order = values.indices.sorted { values[$0] < values[$1] }
            var result = [Double](repeating: 0, count: values.count)
            var i = 0
            while i < order.count {
                var j = i
                while j + 1 < order.count && values[order[j + 1]] == values[order[i]] { j += 1 }
                for k in i...j { result[order[k]] = Double(i + j) / 2 + 1 }
                i = j + 1
            }
            return result
        }
        let x = ranks(pairs.map(\.0)), y = ranks(pairs.map(\.1))
        let mx = x.reduce(0, +) / Double(x.count), my = y.reduce(0, +) / Double(y.count)
        let sxy = zip(x, y).map { ($0 - mx) * ($1 - my) }.reduce(0, +)
        let sxx = x.map { ($0 - mx) * ($0 - mx) }.reduce(0, +), syy = y.map { ($0 - my) * ($0 - my) }.reduce(0, +)
        guard sxx > 0, syy > 0 else { return nil }
        return round6(sxy / sqrt(sxx * syy))
    }
}
