import Foundation
import MRD

/// A whole directory analysed into another: per sample a JSON result and an HTML report, and a
/// cohort summary (CSV and JSON) with the MRD-negativity rate and its exact 95% interval.
///
/// Samples are analysed one after another, each on all cores (memory stays that of one
/// analysis). A file that cannot be read gets an error entry and the run goes on. Each sample's
/// JSON is written last and atomically, so it marks a finished sample: a stopped run resumes
/// without redoing a sample whose JSON records the same file (size and modification time), the
/// same template (SHA-256) and the same software. A result that no longer matches is moved
/// aside (`NAME.json.superseded-K`) and reported, never overwritten silently. Same inputs give
/// byte-identical outputs, resumed or not.
public struct BatchRun {
    public let analyzer: MRDAnalyzer
    public let output: String

    public init(analyzer: MRDAnalyzer, output: String) {
        self.analyzer = analyzer
        self.output = output
    }

    /// What identifies the analysed input, so a resumed run knows a sample is done.
    public struct SourceStamp: Codable, Equatable, Sendable {
        public let size: Int
        /// Modification time, nanoseconds since 1970.
        public let modified: Int64

        static func of(_ path: String) -> SourceStamp? {
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            return SourceStamp(size: Int(info.st_size), modified: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec))
        }
    }

    /// One sample's entry: `NAME.json` in the output folder.
    public struct Entry: Codable, Equatable, Sendable {
        public let schema: Int
        public let file: String
        public let source: SourceStamp?
        public let templateSHA256: String
        public let software: String
        public let report: String?
        public let result: MRDResult?
        public let error: String?

        enum CodingKeys: String, CodingKey {
            case schema, file, source, software, report, result, error
            case templateSHA256 = "template_sha256"
        }
    }

    /// Where a sample's entry and report go: the input's file name (extension kept, so
    /// `a.fcs` and `a.h5` do not collide) plus `.json` / `.html`.
    public func entryPath(for file: String) -> String {
        (output as NSString).appendingPathComponent((file as NSString).lastPathComponent + ".json")
    }

    public func reportPath(for file: String) -> String {
        (output as NSString).appendingPathComponent((file as NSString).lastPathComponent + ".html")
    }

    /// What the output folder holds for a sample before it is processed.
    public enum Previous: Equatable, Sendable {
        /// Nothing: the sample was never finished here.
        case none
        /// A finished entry for this file, template and software, as they are now.
        case finished(Entry)
        /// A result that no longer matches, and why; it is kept under another name, never
        /// overwritten. (An outdated error entry holds no result and counts as ``none``.)
        case outdated(reason: String)
    }

    /// The entry for `file` in the output folder, and whether it still holds.
    public func previous(for file: String) -> Previous {
        guard let data = FileManager.default.contents(atPath: entryPath(for: file)) else { return .none }
        guard let entry = try? JSONDecoder().decode(Entry.self, from: data) else { return .outdated(reason: "its previous result could not be read") }
        let outdated: (String) -> Previous = { reason in
            // An error entry holds no result: trying the sample again loses nothing.
            entry.result == nil ? .none : .outdated(reason: reason)
        }
        if entry.schema != MRDResult.schemaVersion { return outdated("its previous result has result schema \(entry.schema), not \(MRDResult.schemaVersion)") }
        if entry.file != file { return outdated("the previous result is of another input with the same name (\(entry.file))") }
        if entry.source == nil || entry.source != SourceStamp.of(file) { return outdated("the input file changed (size or modification time) since its result") }
        if entry.templateSHA256 != analyzer.template.checksum { return outdated("the template changed since its result") }
        if entry.software != MRDAnalyzer.software { return outdated("the result was made by \(entry.software)") }
        if let result = entry.result {
            if result.channelAssignments != analyzer.channelAssignments.channels { return outdated("the --channel assignments changed since its result") }
            if result.normalReference?.contentSHA256 != analyzer.reference?.contentSHA256 { return outdated("the normal reference (--reference) changed since its result") }
            if let declared = result.clonality?.context, declared != analyzer.context.map(\.rawValue).sorted() {
                return outdated("the declared --context changed since its result")
            }
        }
        if let report = entry.report, !FileManager.default.fileExists(atPath: (output as NSString).appendingPathComponent(report)) {
            return outdated("its report \(report) is missing")
        }
        return .finished(entry)
    }

    /// The finished entry for `file`, when one matches the file, template and software as they are now.
    public func finishedEntry(for file: String) -> Entry? {
        if case .finished(let entry) = previous(for: file) { return entry }
        return nil
    }

    /// What ``process(_:)`` did with one sample.
    public struct Outcome: Sendable {
        public let entry: Entry
        /// The finished entry was reused (a resumed run).
        public let reused: Bool
        /// When an outdated result was moved aside: what happened, for the operator.
        public let notice: String?
    }

    /// Analyses one sample, or reuses its finished entry. An outdated entry (and its report) is
    /// renamed to `NAME.json.superseded-K` (`K` the first free number) before the new result is
    /// written, and the outcome says so: a finished result is never overwritten silently.
    public func process(_ file: String) throws -> Outcome {
        var notice: String?
        switch previous(for: file) {
        case .finished(let done): return Outcome(entry: done, reused: true, notice: nil)
        case .none: break
        case .outdated(let reason): notice = try supersede(file, because: reason)
        }
        let stamp = SourceStamp.of(file)
        let entry: Entry
        do {
            let analysis = try analyzer.analyzeWithPlots(path: file)
            let report = reportPath(for: file)
            try ReportFile.write(HTMLReport.render(analysis), to: report)
            entry = Entry(schema: MRDResult.schemaVersion, file: file, source: stamp, templateSHA256: analyzer.template.checksum,
                          software: MRDAnalyzer.software, report: (report as NSString).lastPathComponent, result: analysis.result, error: nil)
        } catch let error as MRDError {
            entry = Entry(schema: MRDResult.schemaVersion, file: file, source: stamp, templateSHA256: analyzer.template.checksum,
                          software: MRDAnalyzer.software, report: nil, result: nil, error: "\(error)")
        }
        try ReportFile.write(try StableJSON.encode(entry) + "\n", to: entryPath(for: file))
        return Outcome(entry: entry, reused: false, notice: notice)
    }

    /// Moves the sample's outdated JSON and HTML aside under the first free `.superseded-K`.
    private func supersede(_ file: String, because reason: String) throws -> String {
        let manager = FileManager.default
        let json = entryPath(for: file), html = reportPath(for: file)
        var k = 1
        while manager.fileExists(atPath: json + ".superseded-\(k)") || manager.fileExists(atPath: html + ".superseded-\(k)") { k += 1 }
        for path in [html, json] where manager.fileExists(atPath: path) {
            guard rename(path, path + ".superseded-\(k)") == 0 else {
                throw ReportError(path: path, detail: "cannot keep the previous result as \(path).superseded-\(k): \(String(cString: strerror(errno)))")
            }
        }
        let name = (json as NSString).lastPathComponent
        return "\((file as NSString).lastPathComponent): analysed again because \(reason); the previous result is kept as \(name).superseded-\(k)"
    }

    /// Writes `summary.csv` and `summary.json` for the entries, in the order given, with the
    /// directory entries that were not analysed.
    public func writeSummary(_ entries: [Entry], skipped: [SampleList.Skipped] = []) throws -> CohortSummary {
        let summary = CohortSummary(entries: entries, skipped: skipped)
        try ReportFile.write(summary.csv(), to: (output as NSString).appendingPathComponent("summary.csv"))
        try ReportFile.write(try StableJSON.encode(summary) + "\n", to: (output as NSString).appendingPathComponent("summary.json"))
        return summary
    }
}

/// The cohort across a batch: one row per sample and the share of evaluable samples that are
/// MRD negative, with its exact (Clopper–Pearson) 95% interval. Every share is in percent
/// (`_percent`); a sample that could not be read is an error row, counted apart from the
/// analysed ones; a not-evaluable sample has no MRD value or interval, and its reasons instead.
public struct CohortSummary: Encodable, Sendable {
    public struct Row: Encodable, Sendable {
        public let file: String
        /// analysed or error.
        public let status: String
        @Nullable public private(set) var call: String?
        /// Null unless the call is positive (a quantified MRD).
        @Nullable public private(set) var mrdPercent: Double?
        @Nullable public private(set) var mrdCI95Percent: [Double]?
        @Nullable public private(set) var aberrantPlasmaCells: Int?
        @Nullable public private(set) var nucleatedCells: Int?
        /// The LOD this sample reached, % of nucleated cells.
        @Nullable public private(set) var lodPercent: Double?
        @Nullable public private(set) var qcPassed: Bool?
        @Nullable public private(set) var hemodiluted: Bool?
        /// Why the sample is not evaluable (empty otherwise).
        public let notEvaluableReasons: [String]
        @Nullable public private(set) var report: String?
        @Nullable public private(set) var error: String?

        enum CodingKeys: String, CodingKey {
            case file, status, call, report, error, hemodiluted
            case mrdPercent = "mrd_percent", mrdCI95Percent = "mrd_ci95_percent", aberrantPlasmaCells = "aberrant_pc"
            case nucleatedCells = "nucleated_cells", lodPercent = "lod_percent", qcPassed = "qc_passed"
            case notEvaluableReasons = "not_evaluable_reasons"
        }

    }

    public let schema = 2
    public let kind = "flowmrd-batch"
    public let samples: [Row]
    /// Event files found (analysed + errors).
    public let files: Int
    /// Files with a result (whatever the call).
    public let analysed: Int
    /// Files that could not be read or analysed.
    public let errors: Int
    /// Directory entries that are not event files, with the reason.
    public let skipped: [SampleList.Skipped]
    /// Samples with a call other than not evaluable.
    public let evaluable: Int
    public let calls: [String: Int]
    public let negative: Int
    /// 100 × negative / evaluable (null when nothing was evaluable).
    @Nullable public private(set) var negativityPercent: Double?
    @Nullable public private(set) var negativityCI95Percent: [Double]?

    enum CodingKeys: String, CodingKey {
        case schema, kind, samples, files, analysed, errors, skipped, evaluable, calls, negative
        case negativityPercent = "negativity_percent", negativityCI95Percent = "negativity_ci95_percent"
    }


    public init(entries: [BatchRun.Entry], skipped: [SampleList.Skipped] = []) {
        samples = entries.map { e in
            let r = e.result
            let quantified = r.map { $0.call == .positive || $0.call == .positiveBelowLLOQ } ?? false
            return Row(file: e.file, status: r == nil ? "error" : "analysed", call: r?.call.rawValue, mrdPercent: quantified ? r?.mrdPercent : nil,
                       mrdCI95Percent: quantified ? r?.mrdCI95Percent : nil, aberrantPlasmaCells: r?.aberrantPC.count, nucleatedCells: r?.nucleatedCells,
                       lodPercent: r?.sensitivity.lodPercent, qcPassed: r?.qc.passed, hemodiluted: r?.qc.hemodiluted,
                       notEvaluableReasons: r?.notEvaluableReasons ?? [], report: e.report, error: e.error)
        }
        files = entries.count
        self.skipped = skipped
        errors = entries.filter { $0.result == nil }.count
        analysed = files - errors
        let calls = entries.compactMap { $0.result?.call }
        var tally: [String: Int] = [:]
        for call in MRDResult.Call.allCases { tally[call.rawValue] = calls.filter { $0 == call }.count }
        self.calls = tally
        evaluable = calls.filter { $0 != .notEvaluable }.count
        negative = tally[MRDResult.Call.negative.rawValue]!
        if evaluable > 0 {
            negativityPercent = round6(100 * Double(negative) / Double(evaluable))
            let interval = ClopperPearson(successes: negative, trials: evaluable)
            negativityCI95Percent = [round6(100 * interval.lower), round6(100 * interval.upper)]
        } else {
            negativityPercent = nil
            negativityCI95Percent = nil
        }
    }

    /// One line per sample, then the cohort lines as comments-free rows under a blank line.
    public func csv() -> String {
        func number(_ x: Double?) -> String { x.map { String(format: "%.6g", $0) } ?? "" }
        var lines = ["file,status,call,mrd_percent,mrd_ci95_low_percent,mrd_ci95_high_percent,aberrant_pc,nucleated_cells,lod_percent,qc_passed,hemodiluted,not_evaluable_reasons,report,error"]
        for s in samples {
            let fields = [s.file, s.status, s.call ?? "", number(s.mrdPercent), number(s.mrdCI95Percent?[0]), number(s.mrdCI95Percent?[1]),
                          s.aberrantPlasmaCells.map(String.init) ?? "", s.nucleatedCells.map(String.init) ?? "", number(s.lodPercent),
                          s.qcPassed.map { $0 ? "yes" : "no" } ?? "", s.hemodiluted.map { $0 ? "yes" : "no" } ?? "",
                          s.notEvaluableReasons.joined(separator: "; "), s.report ?? "", s.error ?? ""]
            lines.append(fields.map(QCTable.csvField).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The cohort in one paragraph.
    public func text() -> String {
        var line = "\(analysed) sample(s) analysed: " + MRDResult.Call.allCases.map { "\(calls[$0.rawValue] ?? 0) \($0.rawValue.replacingOccurrences(of: "_", with: " "))" }.joined(separator: ", ")
            + "; \(errors) could not be analysed (error); \(skipped.count) directory entr\(skipped.count == 1 ? "y" : "ies") skipped"
        for s in skipped { line += "\nskipped \(s.file): \(s.reason)" }
        if let rate = negativityPercent, let ci = negativityCI95Percent {
            line += String(format: "\nMRD negativity: %d of %d evaluable = %.1f%% (exact 95%% CI %.1f%%–%.1f%%)", negative, evaluable, rate, ci[0], ci[1])
        } else {
            line += "\nMRD negativity: no evaluable sample"
        }
        return line
    }
}
