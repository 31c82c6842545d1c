import Foundation
import MRD
import Synthetic

/// What an analysis said about one matrix file.
public struct MatrixMeasurement: Sendable, Codable, Equatable {
    /// The call, or nil when the analysis failed with an error.
    public let call: MRDResult.Call?
    /// Events counted as MRD (aberrant plasma cells counted, whatever the call).
    public let counted: Int
    public let nucleated: Int
    public let reasons: [String]
    /// The reported 95% interval of the MRD % (`mrd_ci95_percent`), when the call gave one.
    public var interval: [Double]? = nil
    /// The clone's events (by the file's labels) among the counted clusters' restricted-chain
    /// events, when the analysis gave its per-event classes (``MatrixCloneEvents``).
    public var cloneInCounted: Int? = nil
    /// The clone's events classed as normal plasma cells: meeting no aberrancy rule, outside the counted clusters' restricted-chain events.
    public var cloneAmongNormal: Int? = nil

    public init(call: MRDResult.Call?, counted: Int, nucleated: Int, reasons: [String] = [], interval: [Double]? = nil) {
        self.call = call
        self.counted = counted
        self.nucleated = nucleated
        self.reasons = reasons
        self.interval = interval
    }

    public init(_ result: MRDResult) {
        self.init(call: result.call, counted: result.aberrantPC.count, nucleated: result.nucleatedCells, reasons: result.notEvaluableReasons,
                  interval: result.mrdCI95Percent)
    }
}

/// Any analysis of a matrix file: the MRD engine, or a fixed answer in tests of the harness.
public typealias MatrixAnalysis = @Sendable (_ path: String, _ truth: MarrowTruth) throws -> MatrixMeasurement

/// How a call compares with a file's truth.
public enum MatrixVerdict: String, Sendable, Codable, CaseIterable {
    case correct
    /// Positive without a clone.
    case falsePositive = "false positive"
    /// A clone of at least 50 events not called positive.
    case missedClone = "missed clone (≥ 50 events)"
    /// A clone of 20–49 events not called positive: below the LLOQ, reported apart from the wrong calls.
    case missedBelowLLOQ = "missed clone (20–49 events)"
    /// Negative on a sample that cannot support a negative (a fault, hemodilution).
    case negativeOnInadequate = "negative on an inadequate sample"
    /// Positive on a sample with a technical fault, whose counts cannot be trusted.
    case callOnFaulty = "positive on a faulty sample"
    /// Not evaluable on an ordinary sample with no clone to report.
    case needlessNotEvaluable = "not evaluable on an evaluable sample"
    /// The analysis stopped with an error.
    case error

    /// Whether the verdict counts as a wrong call (the 20–49-event misses and needless
    /// not-evaluable calls are reported, but a lab would not sign a wrong number for them).
    public var isWrong: Bool { self != .correct && self != .missedBelowLLOQ }

    /// The verdict for a call on a file with `clone` clone events and this expectation.
    /// - Complexity: O(1).
    public static func of(call: MRDResult.Call?, clone: Int, expectation: MatrixCondition.Expectation) -> MatrixVerdict {
        guard let call else { return .error }
        let positive = call == .positive || call == .positiveBelowLLOQ
        if positive && clone == 0 { return .falsePositive }
        switch expectation {
        case .faulty:
            return call == .notEvaluable ? .correct : (positive ? .callOnFaulty : .negativeOnInadequate)
        case .hemodiluted:
            return call == .negative ? .negativeOnInadequate : .correct
        case .evaluable, .noNormalPlasmaCells:
            if !positive && clone >= 50 { return .missedClone }
            if !positive && clone >= 20 { return .missedBelowLLOQ }
            if call == .notEvaluable && expectation == .evaluable { return .needlessNotEvaluable }
            return .correct
        }
    }
}

/// One file of the matrix with its truth, measurement and verdict.
public struct MatrixOutcome: Sendable, Codable, Equatable {
    public let condition: String
    public let level: Double
    public let seed: UInt64
    public let events: Int
    public let cloneEvents: Int
    public let nucleated: Int
    public let measurement: MatrixMeasurement
    public let verdict: MatrixVerdict
    /// `flowmrd synth FILE …` regenerating the file.
    public let synthArguments: [String]
    /// The analysis error's text, when there was one.
    public let error: String?

    /// counted / true clone events (nil without a clone).
    public var recovery: Double? { cloneEvents > 0 ? Double(measurement.counted) / Double(cloneEvents) : nil }

    /// Whether the reported 95% interval of the MRD % holds the truth, 100 × clone events /
    /// nucleated cells of the file's truth (nil without an interval).
    public var intervalCoversTruth: Bool? {
        guard let i = measurement.interval, i.count == 2, nucleated > 0 else { return nil }
        let truth = 100 * Double(cloneEvents) / Double(nucleated)
        return i[0] <= truth && truth <= i[1]
    }
}

/// Runs a ``ValidationMatrixPlan``: each file generated into a private folder, analysed and
/// removed, so disk (or /dev/shm) use is one file whatever the matrix size.
public struct ValidationMatrix: Sendable {
    public let plan: ValidationMatrixPlan

    public init(plan: ValidationMatrixPlan) { self.plan = plan }

    public func run(directory parent: String, analysis: MatrixAnalysis, progress: ((Int, Int, MatrixOutcome) -> Void)? = nil) throws -> ValidationMatrixReport {
        let directory = try ValidationSeries.makePrivateDirectory(in: parent)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cells = plan.cells()
        var outcomes: [MatrixOutcome] = []
        for (k, cell) in cells.enumerated() {
            let path = (directory as NSString).appendingPathComponent("matrix-\(k).fcs")
            let labels = MarrowGenerator.companionPaths(of: path).labels
            let truth = try MarrowGenerator(cell.specification).write(fcsPath: path, labelsPath: labels)
            defer { for file in [path, labels] { try? FileManager.default.removeItem(atPath: file) } }
            let measurement: MatrixMeasurement
            var failure: String?
            do { measurement = try analysis(path, truth) } catch {
                measurement = MatrixMeasurement(call: nil, counted: 0, nucleated: 0)
                failure = "\(error)".replacingOccurrences(of: path, with: "FILE")
            }
            let outcome = MatrixOutcome(
                condition: cell.condition.name, level: cell.level, seed: cell.specification.seed, events: cell.specification.events,
                cloneEvents: truth.aberrantPlasmaCells, nucleated: truth.nucleatedCells, measurement: measurement,
                verdict: MatrixVerdict.of(call: measurement.call, clone: truth.aberrantPlasmaCells, expectation: cell.condition.expectation),
                synthArguments: cell.specification.synthArguments, error: failure)
            outcomes.append(outcome)
            progress?(k + 1, cells.count, outcome)
        }
        return ValidationMatrixReport(plan: plan, outcomes: outcomes)
    }
}

/// The tallies of a matrix run: confusion per condition, false-positive rate with its exact
/// interval, sensitivity, recovery, and every wrong call.
public struct ValidationMatrixReport: Sendable, Codable {
    public let plan: ValidationMatrixPlan
    public let outcomes: [MatrixOutcome]

    public init(plan: ValidationMatrixPlan, outcomes: [MatrixOutcome]) {
        self.plan = plan
        self.outcomes = outcomes
    }

    /// Calls on MRD-negative files (no clone event): positives of all.
    public var falsePositives: (count: Int, of: Int, interval: ClopperPearson) {
        let negatives = outcomes.filter { $0.cloneEvents == 0 }
        let positives = negatives.filter { $0.verdict == .falsePositive }.count
        return (positives, negatives.count, ClopperPearson(successes: positives, trials: negatives.count))
    }

    /// Positive calls among files whose clone has events in `range`, in conditions where a
    /// positive is expected (ordinary samples and post-CAR-T).
    public func sensitivity(clone range: ClosedRange<Int>) -> (detected: Int, of: Int) {
        let eligible = outcomes.filter {
            range.contains($0.cloneEvents) && (MatrixCondition.named($0.condition)?.expectation).map { $0 == .evaluable || $0 == .noNormalPlasmaCells } ?? false
        }
        let detected = eligible.filter { $0.measurement.call == .positive || $0.measurement.call == .positiveBelowLLOQ }.count
        return (detected, eligible.count)
    }

    /// counted / true over files with a clone called positive: median and 5th–95th percentiles
    /// (nearest rank), and the share counted inside truth ± 1.96·√truth.
    public var recovery: (median: Double, p5: Double, p95: Double, withinPoisson: Int, of: Int)? {
        let positives = outcomes.filter { $0.cloneEvents > 0 && ($0.measurement.call == .positive || $0.measurement.call == .positiveBelowLLOQ) }
        let ratios = positives.compactMap(\.recovery).sorted()
        guard !ratios.isEmpty else { return nil }
        func rank(_ p: Double) -> Double { ratios[min(ratios.count - 1, max(0, Int((p * Double(ratios.count)).rounded(.up)) - 1))] }
        let within = positives.filter { abs(Double($0.measurement.counted - $0.cloneEvents)) <= 1.96 * Double($0.cloneEvents).squareRoot() }.count
        return (rank(0.5), rank(0.05), rank(0.95), within, positives.count)
    }

    /// Positive calls on files with a clone whose reported 95% interval holds the truth, of those
    /// with an interval.
    public var intervalCoverage: (covered: Int, of: Int) {
        let judged = outcomes.filter { $0.cloneEvents > 0 }.compactMap(\.intervalCoversTruth)
        return (judged.filter { $0 }.count, judged.count)
    }

    /// Normal events counted as MRD in MRD-negative files: in all, and the files with any.
    public var normalEventsCountedAsMRD: (events: Int, files: Int) {
        let negatives = outcomes.filter { $0.cloneEvents == 0 && $0.measurement.call != nil }
        return (negatives.reduce(0) { $0 + $1.measurement.counted }, negatives.filter { $0.measurement.counted > 0 }.count)
    }

    /// The rows of the confusion table: per condition and truth class, the calls.
    public struct ConfusionRow: Sendable, Equatable {
        public let condition: String
        /// "MRD 0", "clone 1–49" or "clone ≥ 50".
        public let truth: String
        public let positive: Int, belowLLOQ: Int, negative: Int, notEvaluable: Int, errors: Int, wrong: Int
    }

    public var confusion: [ConfusionRow] {
        var rows: [ConfusionRow] = []
        let names = plan.conditions.map(\.name)
        for name in names {
            for (truth, range) in [("MRD 0", 0...0), ("clone 1–49", 1...49), ("clone ≥ 50", 50...Int.max)] {
                let files = outcomes.filter { $0.condition == name && range.contains($0.cloneEvents) }
                guard !files.isEmpty else { continue }
                func count(_ call: MRDResult.Call?) -> Int { files.filter { $0.measurement.call == call }.count }
                rows.append(ConfusionRow(condition: name, truth: truth, positive: count(.positive), belowLLOQ: count(.positiveBelowLLOQ),
                                         negative: count(.negative), notEvaluable: count(.notEvaluable), errors: count(nil),
                                         wrong: files.filter(\.verdict.isWrong).count))
            }
        }
        return rows
    }

    /// Files whose call is wrong, then the 20–49-event misses, in matrix order.
    public var wrongCalls: [MatrixOutcome] { outcomes.filter(\.verdict.isWrong) }
    public var missesBelowLLOQ: [MatrixOutcome] { outcomes.filter { $0.verdict == .missedBelowLLOQ } }
}
