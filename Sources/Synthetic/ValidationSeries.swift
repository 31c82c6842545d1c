import Foundation

/// What an analysis reports for one file: aberrant plasma cells and the denominator.
public struct ValidationMeasurement: Sendable, Codable, Equatable {
    public let aberrant: Int
    public let nucleated: Int
    public init(aberrant: Int, nucleated: Int) {
        self.aberrant = aberrant
        self.nucleated = nucleated
    }
    /// 100 × aberrant / nucleated.
    public var mrdPercent: Double { nucleated > 0 ? 100 * Double(aberrant) / Double(nucleated) : 0 }
}

/// Any analysis that turns a file into a measurement: the MRD engine, plain gate counts, or the truth itself.
public typealias ValidationAnalysis = @Sendable (_ fcsPath: String, _ truth: MarrowTruth) throws -> ValidationMeasurement

/// A spike-in dilution series: synthetic files at several aberrant fractions, in replicate.
public struct ValidationPlan: Sendable, Codable {
    /// Aberrant fractions of nucleated cells; 0 gives blanks.
    public var levels: [Double] = [1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 0]
    public var replicates = 3
    public var eventsPerFile = 2_000_000
    public var seed: UInt64 = 1
    /// The cluster size that makes a sample positive (LEGEND-2: 30).
    public var positiveThreshold = 30
    /// Draw each replicate's aberrant count from a Poisson distribution around the level, as
    /// a real spike-in does (so replicate CV includes sampling); false spikes the exact count,
    /// so the CV shows the analysis's own variation only.
    public var poissonSpikes = true
    /// Normal plasma cells of the majority phenotype only (``MarrowSpecification/uniformNormals()``)
    /// instead of the realistic subsets.
    public var uniformNormals = false

    public init() {}
}

/// The result of a validation series in the style of CLSI H62.
public struct ValidationReport: Sendable, Codable {
    public struct Replicate: Sendable, Codable {
        public let seed: UInt64
        public let expectedAberrant: Int
        public let expectedNucleated: Int
        public let expectedMRDPercent: Double
        public let measured: ValidationMeasurement
        public let measuredMRDPercent: Double
    }

    public struct Level: Sendable, Codable {
        public let fraction: Double
        public let replicates: [Replicate]
        /// Mean measured / mean expected MRD (nil for blanks).
        public let recovery: Double?
        /// Coefficient of variation of the measured MRD across replicates (nil when the mean is 0).
        public let cv: Double?
    }

    public struct Criterion: Sendable, Codable {
        public let name: String
        public let requirement: String
        public let value: String
        public let passed: Bool
    }

    public let plan: ValidationPlan
    public let levels: [Level]
    /// log10(measured MRD) against log10(expected MRD) over positive replicates.
    public let slope: Double?
    public let intercept: Double?
    public let rSquared: Double?
    /// Limit of blank in events: mean + 1.645·SD of the blanks' aberrant counts.
    public let limitOfBlankEvents: Double?
    /// Limit of detection in events: LoB + 1.645·SD of the lowest level with at least 5 expected events.
    public let limitOfDetectionEvents: Double?
    /// The lowest level with CV ≤ 20% and recovery within 70–130%.
    public let lowerLimitOfQuantitation: Double?
    public let criteria: [Criterion]
    public var passed: Bool { criteria.allSatisfy(\.passed) }
}

/// Runs a ``ValidationPlan`` through an analysis and computes recovery, CV, linearity, LoB, LOD and LLOQ.
///
/// Files are generated one at a time into a private, uniquely named folder inside `directory`
/// (so concurrent runs never share or delete each other's files) and removed after analysis, so
/// disk use is one file whatever the series size.
public struct ValidationSeries: Sendable {
    public let plan: ValidationPlan

    public init(plan: ValidationPlan) {
        self.plan = plan
    }

    public func run(directory parent: String, analysis: ValidationAnalysis, progress: ((String) -> Void)? = nil) throws -> ValidationReport {
        let directory = try Self.makePrivateDirectory(in: parent)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var levels: [(Double, [ValidationReport.Replicate])] = []
        for (levelIndex, fraction) in plan.levels.enumerated() {
            var replicates: [ValidationReport.Replicate] = []
            for r in 0..<plan.replicates {
                let seed = plan.seed &+ UInt64(levelIndex * 1_000 + r)
                let path = (directory as NSString).appendingPathComponent("validation-\(levelIndex)-\(r).fcs")
                var specification = MarrowSpecification(events: plan.eventsPerFile, aberrantFraction: fraction, seed: seed)
                if plan.uniformNormals { specification = specification.uniformNormals() }
                if plan.poissonSpikes && fraction > 0 {
                    let mean = Double(MarrowGenerator(specification).plannedCounts()[.aberrantPlasmaCell] ?? 0)
                    var random = RandomSource(seed: seed, stream: 0x5049_4B45)
                    specification.aberrantCount = poissonSample(mean: mean, using: &random)
                }
                let truth = try MarrowGenerator(specification).write(fcsPath: path)
                defer { try? FileManager.default.removeItem(atPath: path) }
                let measured = try analysis(path, truth)
                replicates.append(ValidationReport.Replicate(
                    seed: seed, expectedAberrant: truth.aberrantPlasmaCells, expectedNucleated: truth.nucleatedCells,
                    expectedMRDPercent: truth.mrdPercent, measured: measured, measuredMRDPercent: measured.mrdPercent))
                progress?("level \(fraction) replicate \(r + 1)/\(plan.replicates): expected \(truth.aberrantPlasmaCells), measured \(measured.aberrant)")
            }
            levels.append((fraction, replicates))
        }
        return Self.summarize(plan: plan, levels: levels)
    }

    /// A new folder `flowmrd-validation-XXXXXX` inside `parent` (mkdtemp: unique, mode 0700).
    public static func makePrivateDirectory(in parent: String) throws -> String {
        var template = Array((parent as NSString).appendingPathComponent("flowmrd-validation-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in mkdtemp(buffer.baseAddress!) }
        guard made != nil else {
            throw SyntheticError.io(path: parent, detail: "cannot create a working folder: \(String(cString: strerror(errno)))")
        }
        return String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The statistics, from measured replicates (separate so they can be tested on known numbers).
    public static func summarize(plan: ValidationPlan, levels raw: [(Double, [ValidationReport.Replicate])]) -> ValidationReport {
        let levels = raw.map { fraction, replicates -> ValidationReport.Level in
            let measured = replicates.map(\.measuredMRDPercent)
            let expected = replicates.map(\.expectedMRDPercent)
            let meanMeasured = mean(measured), meanExpected = mean(expected)
            return ValidationReport.Level(
                fraction: fraction, replicates: replicates,
                recovery: meanExpected > 0 ? meanMeasured / meanExpected : nil,
                cv: meanMeasured > 0 && measured.count > 1 ? standardDeviation(measured) / meanMeasured : nil)
        }
        // Linearity on log–log over positive replicates.
        var xs: [Double] = [], ys: [Double] = []
        for level in levels where level.fraction > 0 {
            for r in level.replicates where r.expectedMRDPercent > 0 && r.measuredMRDPercent > 0 {
                xs.append(log10(r.expectedMRDPercent))
                ys.append(log10(r.measuredMRDPercent))
            }
        }
        let fit = linearFit(xs, ys)
        // Limits in events.
        let blanks = levels.filter { $0.fraction == 0 }.flatMap(\.replicates).map { Double($0.measured.aberrant) }
        let lob = blanks.isEmpty ? nil : mean(blanks) + 1.645 * (blanks.count > 1 ? standardDeviation(blanks) : 0)
        let low = levels.filter { $0.fraction > 0 }
            .filter { mean($0.replicates.map { Double($0.expectedAberrant) }) >= 5 }
            .min { $0.fraction < $1.fraction }
        var lod: Double?
        if let lob, let low {
            let counts = low.replicates.map { Double($0.measured.aberrant) }
            lod = lob + 1.645 * (counts.count > 1 ? standardDeviation(counts) : 0)
        }
        let quantifiable = levels.filter { level in
            guard let cv = level.cv, let recovery = level.recovery else { return false }
            return level.fraction > 0 && cv <= 0.20 && abs(recovery - 1) <= 0.30
        }
        let lloq = quantifiable.map(\.fraction).min()
        // Acceptance criteria.
        var criteria: [ValidationReport.Criterion] = []
        if let slope = fit?.slope {
            criteria.append(.init(name: "linearity slope", requirement: "0.90–1.10", value: format(slope), passed: slope >= 0.9 && slope <= 1.1))
        } else {
            criteria.append(.init(name: "linearity slope", requirement: "0.90–1.10", value: "not computable", passed: false))
        }
        if let r2 = fit?.rSquared {
            criteria.append(.init(name: "linearity R²", requirement: "≥ 0.95", value: format(r2), passed: r2 >= 0.95))
        }
        for level in levels where level.fraction > 0 && lloq != nil && level.fraction >= lloq! {
            let recovery = level.recovery ?? 0
            criteria.append(.init(name: "recovery at \(level.fraction)", requirement: "70–130%", value: format(100 * recovery) + "%",
                                  passed: abs(recovery - 1) <= 0.30))
        }
        if let lob {
            criteria.append(.init(name: "limit of blank", requirement: "< \(plan.positiveThreshold) events (no blank called positive)",
                                  value: format(lob) + " events", passed: lob < Double(plan.positiveThreshold)))
        }
        let blankPositives = levels.filter { $0.fraction == 0 }.flatMap(\.replicates).filter { $0.measured.aberrant >= plan.positiveThreshold }.count
        criteria.append(.init(name: "blanks called positive", requirement: "0", value: String(blankPositives), passed: blankPositives == 0))
        criteria.append(.init(name: "LLOQ", requirement: "a level with CV ≤ 20% and recovery 70–130%",
                              value: lloq.map { String($0) } ?? "none", passed: lloq != nil))
        return ValidationReport(
            plan: plan, levels: levels, slope: fit?.slope, intercept: fit?.intercept, rSquared: fit?.rSquared,
            limitOfBlankEvents: lob, limitOfDetectionEvents: lod, lowerLimitOfQuantitation: lloq, criteria: criteria)
    }
}

extension ValidationReport {
    /// A readable summary: per level expected vs measured, then the limits and the criteria.
    public var text: String {
        var lines = ["Validation series: \(plan.replicates) replicate(s) of \(plan.eventsPerFile) events per level", ""]
        lines.append("level      expected MRD %   measured MRD %   recovery   CV")
        for level in levels {
            let expected = level.replicates.map(\.expectedMRDPercent).reduce(0, +) / Double(max(1, level.replicates.count))
            let measured = level.replicates.map(\.measuredMRDPercent).reduce(0, +) / Double(max(1, level.replicates.count))
            lines.append([String(level.fraction).padding(toLength: 10, withPad: " ", startingAt: 0),
                          format(expected).padding(toLength: 16, withPad: " ", startingAt: 0),
                          format(measured).padding(toLength: 16, withPad: " ", startingAt: 0),
                          (level.recovery.map { format(100 * $0) + "%" } ?? "-").padding(toLength: 10, withPad: " ", startingAt: 0),
                          level.cv.map { format(100 * $0) + "%" } ?? "-"].joined(separator: " "))
        }
        lines.append("")
        lines.append("linearity (log–log): slope \(slope.map(format) ?? "-"), intercept \(intercept.map(format) ?? "-"), R² \(rSquared.map(format) ?? "-")")
        lines.append("limit of blank: \(limitOfBlankEvents.map { format($0) + " events" } ?? "-"); limit of detection: \(limitOfDetectionEvents.map { format($0) + " events" } ?? "-"); LLOQ level: \(lowerLimitOfQuantitation.map { String($0) } ?? "none")")
        lines.append("")
        lines.append("acceptance criteria:")
        for c in criteria { lines.append("  [\(c.passed ? "pass" : "FAIL")] \(c.name): \(c.value) (required \(c.requirement))") }
        lines.append(passed ? "result: PASSED" : "result: FAILED")
        return lines.joined(separator: "\n")
    }
}

func mean(_ values: [Double]) -> Double { values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count) }

func standardDeviation(_ values: [Double]) -> Double {
    guard values.count > 1 else { return 0 }
    let m = mean(values)
    return (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count - 1)).squareRoot()
}

/// Ordinary least squares y = intercept + slope·x, with R².
func linearFit(_ xs: [Double], _ ys: [Double]) -> (slope: Double, intercept: Double, rSquared: Double)? {
    guard xs.count >= 2, xs.count == ys.count else { return nil }
    let mx = mean(xs), my = mean(ys)
    var sxx = 0.0, sxy = 0.0, syy = 0.0
    for (x, y) in zip(xs, ys) {
        sxx += (x - mx) * (x - mx)
        sxy += (x - mx) * (y - my)
        syy += (y - my) * (y - my)
    }
    guard sxx > 0 else { return nil }
    let slope = sxy / sxx
    let r2 = syy > 0 ? (sxy * sxy) / (sxx * syy) : 1
    return (slope, my - slope * mx, r2)
}

func format(_ value: Double) -> String {
    if value == 0 { return "0" }
    if abs(value) >= 0.01 && abs(value) < 1e6 { return String(format: "%.4g", value) }
    return String(format: "%.3e", value)
}

/// A Poisson deviate: Knuth's product of uniforms for small means, a rounded normal above 500.
func poissonSample(mean: Double, using random: inout RandomSource) -> Int {
    guard mean > 0 else { return 0 }
    if mean > 500 { return max(0, Int((mean + mean.squareRoot() * random.normal()).rounded())) }
    let limit = exp(-mean)
    var product = random.uniform()
    var count = 0
    while product > limit {
        product *= random.uniform()
        count += 1
    }
    return count
}
