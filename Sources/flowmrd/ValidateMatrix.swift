import ArgumentParser
import Foundation
import MRD
import Report
import Synthetic

extension ValidateCommand {
    /// `flowmrd validate --matrix`: the plan from the options, the MRD engine as the analysis.
    func runMatrix() throws {
        var plan = ValidationMatrixPlan()
        plan.conditions = parsedConditions().conditions
        plan.levels = parsedLevels()!
        plan.seedsPerCell = seeds
        plan.firstSeed = seed ?? plan.firstSeed
        plan.events = events
        plan.lowLevelEvents = lowLevelEvents
        let template = try templateOption.load()
        var analyzer = MRDAnalyzer(template: template).readingStores()
        analyzer.computeChecksum = false
        try analyzer.useReference(reference)
        let engine = analyzer
        let analysis: MatrixAnalysis = { path, truth in try MatrixMeasurement(engine: engine, path: path, truth: truth) }
        let directory = workDirectory ?? (FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory())
        let showProgress = !quiet && isatty(STDERR_FILENO) != 0
        let started = Date()
        let report = try ValidationMatrix(plan: plan).run(directory: directory, analysis: analysis) { done, total, outcome in
            guard showProgress else { return }
            let line = "\r[\(done)/\(total)] \(outcome.condition) MRD \(outcome.level) seed \(outcome.seed): \(outcome.measurement.call?.rawValue ?? "error") (\(outcome.verdict.rawValue))\u{1B}[K"
            FileHandle.standardError.write(Data(line.utf8))
        }
        if showProgress { FileHandle.standardError.write(Data("\n".utf8)) }
        if let out {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            try ReportFile.write(report.markdown, to: (out as NSString).appendingPathComponent("matrix.md"))
            try ReportFile.write(report.tsv, to: (out as NSString).appendingPathComponent("matrix.tsv"))
            try ReportFile.write(try StableJSON.encode(report) + "\n", to: (out as NSString).appendingPathComponent("matrix.json"))
        }
        print(json ? try StableJSON.encode(report) : report.markdown, terminator: json ? "\n" : "")
        if !quiet {
            let seconds = Date().timeIntervalSince(started)
            FileHandle.standardError.write(Data("validation matrix: \(report.outcomes.count) files in \(String(format: "%.0f", seconds)) s\n".utf8))
        }
        if !report.wrongCalls.isEmpty { throw ExitCode(1) }
    }
}
