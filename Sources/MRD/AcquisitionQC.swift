import EventCore
import FCS
import Foundation

/// What the QC technician checks before anyone trusts a sample's MRD figure: were all events
/// read, how long and how steadily was the sample acquired, how many cells survive the singlet,
/// debris and erythrocyte gates, whether the 1.5-million minimum is met (with the LOD and LLOQ
/// the count allows), whether the marrow looks diluted with blood, and every repair the reader
/// made. Part of every ``MRDResult`` (`qc` in JSON; docs/report-schema.md).
public struct AcquisitionQC: Sendable, Codable, Equatable {
    /// Flow-rate stability over the run.
    public struct TimeStability: Sendable, Codable, Equatable {
        /// stable (no bin departs from the median), irregular (bursts or clogs found and their
        /// stretches excluded), unstable (the time gate excluded more than the template allows:
        /// QC fails), or not_assessed (no flow-rate gate, no time channel, or too few events).
        public let verdict: String
        public let bins: Int
        /// Width of one bin (seconds when `unit` is s).
        @Nullable public private(set) var binWidth: Double?
        /// s, or ticks when the file gives no $TIMESTEP.
        @Nullable public private(set) var unit: String?
        @Nullable public private(set) var medianEventsPerBin: Double?
        /// Bins above (1 + tolerance) × median (bursts) and below (1 − tolerance) × median (clogs, gaps).
        public let burstBins: Int
        public let clogBins: Int
        @Nullable public private(set) var tolerance: Double?
        /// Excluded stretches as [start, end] in `unit`.
        public let excludedStretches: [[Double]]
        public let excludedEvents: Int
        public let excludedPercent: Double
        public let maxExcludedPercent: Double
        /// Events per bin, first to last (for plots and trend review).
        public let eventsPerBin: [Int]
    }

    /// One hemodilution indicator measured in this sample.
    public struct Indicator: Sendable, Codable, Equatable {
        public let name: String
        public let gate: String
        public let count: Int
        public let percentOfNucleated: Double
        /// The lab's lower reference limit (% of nucleated cells).
        public let minPercent: Double
        public let belowLimit: Bool
    }

    /// $TOT as written (nil when the file has none).
    @Nullable public private(set) var declaredEvents: Int?
    /// Events actually read and gated.
    public let eventsRead: Int
    /// Time from the first to the last event, seconds (nil without a time channel in seconds).
    @Nullable public private(set) var acquisitionSeconds: Double?
    @Nullable public private(set) var meanEventsPerSecond: Double?
    public let timeStability: TimeStability
    /// Events in the template's singlet and debris gates (nil when the template names none).
    @Nullable public private(set) var singlets: Int?
    @Nullable public private(set) var nonDebris: Int?
    public let nucleatedCells: Int
    public let minNucleatedCells: Int
    public let minimumMet: Bool
    /// LOD (minimum cluster events / nucleated) and LLOQ (LLOQ events / nucleated), in percent.
    @Nullable public private(set) var lodPercent: Double?
    @Nullable public private(set) var lloqPercent: Double?
    public private(set) var hemodilution: [Indicator]
    /// Indicators that must fall below their limit to flag the sample.
    public let hemodilutionFlagWhenBelow: Int
    public private(set) var hemodiluted: Bool
    /// With a normal reference: the marrow-content score (decades; 0 = the reference's median marrow) and the limit below which the sample is hemodiluted.
    @Nullable public private(set) var marrowScore: Double?
    @Nullable public private(set) var marrowScoreLimit: Double?
    /// Every warning the reader gave (repairs included).
    public let parserWarnings: [String]
    /// pass, or fail with the reasons in `failures`.
    public private(set) var passed: Bool
    public private(set) var failures: [String]
    /// What each of `failures` is about, in the same order, so that the call weighs a failure by
    /// its kind, not by its wording (not written to the JSON, not compared; empty in a result read back).
    public var failureKinds: [FailureKind] { kinds.value }
    private var kinds = RunOnly<[FailureKind]>([])

    /// The kinds of QC failure.
    public enum FailureKind: String, Sendable, Equatable {
        case notGated, eventCount, nonFinite, unstableAcquisition, tooFewNucleated, hemodiluted
    }

    /// The failure of `kind`, if the sample has one.
    public func failure(_ kind: FailureKind) -> String? { zip(failureKinds, failures).first { $0.0 == kind }?.1 }

    enum CodingKeys: String, CodingKey {
        case singlets, hemodilution, hemodiluted, passed, failures
        case declaredEvents = "declared_events", eventsRead = "events_read", acquisitionSeconds = "acquisition_seconds"
        case meanEventsPerSecond = "mean_events_per_second", timeStability = "time_stability", nonDebris = "non_debris"
        case nucleatedCells = "nucleated_cells", minNucleatedCells = "min_nucleated_cells", minimumMet = "minimum_met"
        case lodPercent = "lod_percent", lloqPercent = "lloq_percent", hemodilutionFlagWhenBelow = "hemodilution_flag_when_below"
        case marrowScore = "marrow_score", marrowScoreLimit = "marrow_score_limit"
        case parserWarnings = "parser_warnings"
    }

    /// Hemodilution from the indicators: with a reference (``QCRules/marrowScore``) the
    /// marrow-content score against its limit, otherwise at least `flag_when_below` indicators
    /// below their limits. Returns the verdict, the score, and the QC failure to state.
    static func judgeHemodilution(_ indicators: [Indicator], nucleated: Int, qc: QCRules, gated: Bool) -> (Bool, Double?, String?) {
        let below = indicators.filter(\.belowLimit)
        let listed = below.map { "\($0.name) \(formatPercent($0.percentOfNucleated))% < \(formatPercent($0.minPercent))%" }.joined(separator: ", ")
        if let rule = qc.marrowScore, gated, nucleated > 0,
           let score = rule.score(Dictionary(indicators.map { ($0.gate, 100 * Double($0.count) / Double(nucleated)) }, uniquingKeysWith: { a, _ in a }), nucleated: nucleated) {
            // With a reference, the marrow-content score decides (the per-indicator limits stay on show).
            guard score < rule.limit else { return (false, score, nil) }
            return (true, score, String(format: "hemodiluted: the marrow-content score is %.2f decades (mean log₁₀ of the indicators' levels over the reference's medians), below the reference's limit %.2f", score, rule.limit)
                                 + (below.isEmpty ? "" : "; below their 5th percentiles: " + listed))
        }
        let hemodiluted = !indicators.isEmpty && below.count >= qc.flagWhenBelow
        return (hemodiluted, nil, hemodiluted ? "hemodiluted: \(below.count) of \(indicators.count) marrow indicators below their reference limit (\(listed))" : nil)
    }

    /// This QC with the indicators of `gates` left out of the hemodilution judgement (their gates
    /// read a masked marker), judged again.
    /// - Complexity: O(indicators + failures).
    func leavingOut(indicatorGates gates: Set<String>, qc rules: QCRules) -> AcquisitionQC {
        guard hemodilution.contains(where: { gates.contains($0.gate) }) else { return self }
        var copy = self
        copy.hemodilution = hemodilution.filter { !gates.contains($0.gate) }
        let (hemodiluted, score, failure) = Self.judgeHemodilution(copy.hemodilution, nucleated: nucleatedCells, qc: rules, gated: true)
        copy.hemodiluted = hemodiluted
        copy.marrowScore = score.map(round6)
        let kept = zip(failureKinds, failures).filter { $0.0 != .hemodiluted }
        copy.failures = kept.map(\.1) + (failure.map { [$0] } ?? [])
        copy.kinds = RunOnly(kept.map(\.0) + (failure.map { _ in [.hemodiluted] } ?? []))
        copy.passed = copy.failures.isEmpty
        return copy
    }

    /// Judges one gated sample.
    ///
    /// - Parameters:
    ///   - counts: events per gate id from the full pass (nil when the sample was not gated).
    ///   - blocker: why the sample could not be gated at all (a missing marker, no compensation).
    static func assess(template: GatingTemplate, dataSet: EventDataSet, parserWarnings: [String], counts: [String: Int]?,
                       flowRate: FlowRateProfile?, timeExcludedFraction: Double, nonFinite: [String: Int] = [:],
                       blocker: String? = nil) -> AcquisitionQC {
        let qc = template.qc, mrd = template.mrd
        var failures: [String] = [], kinds: [FailureKind] = []
        func fail(_ kind: FailureKind, _ text: String) { failures.append(text); kinds.append(kind) }
        if let blocker { fail(.notGated, blocker) }
        let read = dataSet.eventCount
        if let declared = dataSet.declaredEventCount, declared != read {
            fail(.eventCount, "events read (\(read)) differ from $TOT (\(declared))")
        }
        if !nonFinite.isEmpty {
            fail(.nonFinite, "non-finite event values (NaN or infinity): " + nonFinite.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        // Time.
        var seconds: Double?
        if let f = flowRate, f.inSeconds, f.duration > 0 { seconds = f.duration }
        let stability: TimeStability
        if let f = flowRate {
            let excludedPercent = round6(100 * timeExcludedFraction)
            let unstable = timeExcludedFraction > qc.maxTimeExcluded
            if unstable {
                fail(.unstableAcquisition, String(format: "unstable acquisition: the time gate excluded %.1f%% of events (at most %.1f%% allowed)",
                                       100 * timeExcludedFraction, 100 * qc.maxTimeExcluded))
            }
            let verdict = unstable ? "unstable" : (f.burstBins + f.clogBins > 0 || f.excludedEvents > 0) ? "irregular" : "stable"
            stability = TimeStability(verdict: verdict, bins: f.counts.count, binWidth: round6(f.binWidth),
                                      unit: f.inSeconds ? "s" : "ticks", medianEventsPerBin: round6(f.medianCount),
                                      burstBins: f.burstBins, clogBins: f.clogBins, tolerance: f.tolerance,
                                      excludedStretches: f.unstable.map { [round6($0.lowerBound), round6($0.upperBound)] },
                                      excludedEvents: f.excludedEvents, excludedPercent: excludedPercent,
                                      maxExcludedPercent: round6(100 * qc.maxTimeExcluded), eventsPerBin: f.counts)
        } else {
            stability = TimeStability(verdict: "not_assessed", bins: 0, binWidth: nil, unit: nil, medianEventsPerBin: nil, burstBins: 0,
                                      clogBins: 0, tolerance: nil, excludedStretches: [], excludedEvents: 0, excludedPercent: 0,
                                      maxExcludedPercent: round6(100 * qc.maxTimeExcluded), eventsPerBin: [])
        }
        // Cells.
        let nucleated = counts?[mrd.nucleated] ?? 0
        let met = nucleated >= mrd.minNucleatedCells
        if counts != nil && !met {
            fail(.tooFewNucleated, "too few nucleated cells: \(nucleated) (at least \(mrd.minNucleatedCells) needed)")
        }
        // Hemodilution.
        var indicators: [Indicator] = []
        for i in qc.indicators where counts != nil {
            let count = counts?[i.gate] ?? 0
            let percent = nucleated > 0 ? 100 * Double(count) / Double(nucleated) : 0
            indicators.append(Indicator(name: i.name, gate: i.gate, count: count, percentOfNucleated: round6(percent),
                                        minPercent: i.minPercent, belowLimit: nucleated > 0 && percent < i.minPercent))
        }
        let (hemodiluted, score, failure) = judgeHemodilution(indicators, nucleated: nucleated, qc: qc, gated: counts != nil)
        if let failure { fail(.hemodiluted, failure) }
        return AcquisitionQC(
            declaredEvents: dataSet.declaredEventCount, eventsRead: read, acquisitionSeconds: seconds.map(round6),
            meanEventsPerSecond: seconds.map { round6(Double(read) / $0) }, timeStability: stability,
            singlets: qc.singlets.flatMap { counts?[$0] }, nonDebris: qc.nonDebris.flatMap { counts?[$0] },
            nucleatedCells: nucleated, minNucleatedCells: mrd.minNucleatedCells, minimumMet: met,
            lodPercent: nucleated > 0 ? round6(100 * Double(mrd.minClusterEvents) / Double(nucleated)) : nil,
            lloqPercent: nucleated > 0 ? round6(100 * Double(mrd.lloqEvents) / Double(nucleated)) : nil,
            hemodilution: indicators, hemodilutionFlagWhenBelow: qc.flagWhenBelow, hemodiluted: hemodiluted,
            marrowScore: score.map(round6), marrowScoreLimit: qc.marrowScore.map { round6($0.limit) },
            parserWarnings: parserWarnings, passed: failures.isEmpty, failures: failures, kinds: RunOnly(kinds))
    }
}

/// A percentage with enough digits for rare populations (0.0021, 12.3).
func formatPercent(_ x: Double) -> String {
    if x == 0 { return "0" }
    if abs(x) >= 10 { return String(format: "%.1f", x) }
    if abs(x) >= 0.1 { return String(format: "%.2f", x) }
    return String(format: "%.2g", x)
}

extension AcquisitionQC.TimeStability {
    enum CodingKeys: String, CodingKey {
        case verdict, bins, unit, tolerance
        case binWidth = "bin_width", medianEventsPerBin = "median_events_per_bin", burstBins = "burst_bins", clogBins = "clog_bins"
        case excludedStretches = "excluded_stretches", excludedEvents = "excluded_events", excludedPercent = "excluded_percent"
        case maxExcludedPercent = "max_excluded_percent", eventsPerBin = "events_per_bin"
    }
}

extension AcquisitionQC.Indicator {
    enum CodingKeys: String, CodingKey {
        case name, gate, count
        case percentOfNucleated = "percent_of_nucleated", minPercent = "min_percent", belowLimit = "below_limit"
    }
}

/// A value a result carries for the run that made it, neither encoded nor part of equality (a
/// result read back from JSON equals the one written).
struct RunOnly<Value: Sendable>: Sendable, Equatable {
    var value: Value
    init(_ value: Value) { self.value = value }
    static func == (lhs: RunOnly, rhs: RunOnly) -> Bool { true }
}
