import Cytometry
import EventCore
import FCS
import Dispatch
import Foundation

/// Runs a gating template over one FCS file and makes the MRD call.
///
/// Passes over the data: a few thousand probe reads that find the flow-rate gate's time bins
/// (``TimeBinning``), a few passes over a ~300,000-event subsample to place data-driven gates,
/// then one full pass that counts every gate and every event's time bin, checks every panel
/// channel (non-finite, constant) and keeps every plasma cell's row. Only a file whose time
/// channel is not in acquisition order gets a second placement and full pass. The plasma cells are then clustered and each cluster tested for
/// light-chain restriction (``PlasmaCellClustering``), and ``MRDDecision`` makes the call.
///
/// Cost: dominated by the full pass — compensation, transforms and gates per event, on all
/// cores, no allocation per event. Memory: per worker one block and its columns, plus one row
/// per plasma cell (about 4 bytes × stored markers each), which grows with the plasma-cell
/// count, not with the file. Same file and template give the same result (worker order never reaches the output).
public struct MRDAnalyzer: Sendable {
    public private(set) var template: GatingTemplate
    public var workers: Int
    /// Events in the subsample that places data-driven gates.
    public var subsampleEvents: Int
    /// Record the file's SHA-256 in the result: for an FCS file from the full pass's own reads
    /// (``SharedReadDigest``), for another on a background thread. About 0.7–1 ns per byte of one
    /// core with the SHA extensions: for a 560 MB file, 0.4–0.5 s of the two cores' time.
    public var computeChecksum = true
    /// How FCS files are read (e.g. partial reading of a truncated file, which QC then fails
    /// because fewer events were read than $TOT announces).
    public var readOptions = ReadOptions()
    /// Therapy contexts the run declares (`--context`): they explain what the sample cannot show.
    public var context: Set<TherapyContext> = []
    /// Markers mapped to channels by hand (`--channel`), recorded in every result.
    public var channelAssignments = ChannelAssignments.none
    /// The normal-marrow reference in use (``use(reference:file:)``), and its file.
    public private(set) var reference: NormalReference?
    public private(set) var referenceFile: String?
    /// The normal plasma cells' level of `marker` that masking is judged against: the reference's
    /// median over its marrows when one is in use, else the template's `normal_medians`.
    func maskingLevel(_ marker: String) -> Double? {
        reference?.plasmaCells.medians[marker]?.p50 ?? template.mrd.normalMedians[marker]
    }

    /// What a result records of the reference in use.
    var referenceRecord: MRDResult.ReferenceUse? {
        reference.map { MRDResult.ReferenceUse(file: referenceFile ?? "", contentSHA256: $0.contentSHA256, synthetic: $0.synthetic, files: $0.files.count, template: $0.template.name) }
    }
    /// Keep each sample's normal plasma cells for ``ReferenceBuilder``.
    var collectsReferenceSample = false
    /// How a path is opened: FCS only unless the caller knows more formats (the command line
    /// passes `HDF5Store.EventFile.dispatch`, which also opens HDF5 event stores); an HDF5 file
    /// given to an FCS-only analyzer is an exact error naming both kinds.
    public var opener: any EventFileOpening = EventFileDispatch([.fcs: FCSFileOpening()])
    /// The format of per-event results files (`eventsOutput`); none unless the caller gives one.
    public var resultsFormat: (any EventResultsFormat)? = nil

    public static let software = "FlowMRD 0.6.0"

    public init(template: GatingTemplate, workers: Int = ProcessInfoCores.active, subsampleEvents: Int = 300_000) {
        self.template = template
        self.workers = max(1, workers)
        self.subsampleEvents = max(10_000, subsampleEvents)
    }

    /// Analyses the file's default data set. A file that cannot be read is an error; a file
    /// that can be read but cannot answer (missing marker, no compensation, too few cells)
    /// is a result whose call is ``MRDResult/Call/notEvaluable``.
    ///
    /// - Parameter eventsOutput: where to write the per-event audit file (``EventAudit``: gate
    ///   membership bits and final class of every event, the JSON result as an attribute),
    ///   atomically. Written whenever the full pass runs; a sample found not evaluable before
    ///   gating (a missing marker, no compensation) gets no file and a warning in its result.
    public func analyze(path: String, eventsOutput: String? = nil) throws(MRDError) -> MRDResult {
        try run(path: path, eventsOutput: eventsOutput, plots: false).result
    }

    /// Analyses the default data set of an open event file (FCS or HDF5).
    public func analyze(source file: any EventSource, eventsOutput: String? = nil) throws(MRDError) -> MRDResult {
        try run(source: file, eventsOutput: eventsOutput, plots: false).result
    }

    /// The analysis and the binned dot plots of the template's `plots` list, for the reviewer's
    /// report. The plots cost one histogram increment per shown event in the same full pass
    /// (about 0.02 s per million events on two cores for the bundled template's ten plots).
    public func analyzeWithPlots(path: String, eventsOutput: String? = nil) throws(MRDError) -> MRDAnalysis {
        try run(path: path, eventsOutput: eventsOutput, plots: true)
    }

    /// The analysis without plots, keeping the sample's normal plasma cells (for ``ReferenceBuilder``).
    func analyzeForReference(path: String) throws(MRDError) -> MRDAnalysis {
        try run(path: path, eventsOutput: nil, plots: false)
    }

    private func run(path: String, eventsOutput: String?, plots: Bool) throws(MRDError) -> MRDAnalysis {
        let file: any EventSource
        do { file = try opener.open(path, options: readOptions) } catch { throw MRDError.wrapping(error, file: path) }
        return try run(source: file, eventsOutput: eventsOutput, plots: plots)
    }

    private func run(source file: any EventSource, eventsOutput: String?, plots wantPlots: Bool) throws(MRDError) -> MRDAnalysis {
        let path = file.path
        try SampleGating.prepareTransforms(template)
        let index = file.defaultDataSetIndex
        let dataSet = file.dataSets[index]
        let parserWarnings = (file.warnings + dataSet.warnings).map { "\($0)" }
        var warnings = parserWarnings
        var clock = PhaseClock()
        // The file's SHA-256 for the audit trail: an FCS file's from the full pass's own reads,
        // another's on its own thread while the analysis runs; a file never fully read (not
        // evaluable before gating) is read for it.
        let shared = computeChecksum ? (file as? FCSFile).map { SharedReadDigest(file: $0, dataSet: index) } : nil
        let digest = BackgroundDigest(path: computeChecksum && shared == nil ? path : nil)
        func checksum() -> String? {
            guard let shared else { return digest.wait() }
            return shared.finish() ?? BackgroundDigest(path: path).wait()
        }
        func notEvaluable(_ reason: String, panel: [String: String] = [:]) -> MRDAnalysis {
            let notes = warnings + (eventsOutput.map { ["per-event results not written to \($0): the sample was not evaluable before gating"] } ?? [])
            let qc = AcquisitionQC.assess(template: template, dataSet: dataSet, parserWarnings: parserWarnings, counts: nil,
                                          flowRate: nil, timeExcludedFraction: 0, blocker: "not gated: \(reason)")
            return MRDAnalysis(result: .notEvaluable(template: template, file: path, checksum: checksum(), totalEvents: dataSet.eventCount,
                                                     panel: panel, assignments: channelAssignments.channels, reference: referenceRecord, reason: reason, warnings: notes, qc: qc), plots: [])
        }
        let prepared: SamplePreparation
        switch try SamplePreparation.prepare(template: template, dataSet: dataSet, path: path, assignments: channelAssignments) {
        case .ready(let ready): prepared = ready
        case .notEvaluable(let reason, let panel): return notEvaluable(reason, panel: panel)
        }
        warnings += prepared.warnings
        let (mapping, panel, reference, matrices) = (prepared.mapping, prepared.panel, prepared.compensation, prepared.matrices)
        guard dataSet.eventCount > 0 else { return notEvaluable("the file holds no events", panel: panel) }

        // Gates placed, then the full pass. The time gate's bins are estimated (``TimeBinning``);
        // when the full pass counts them otherwise (time not in acquisition order), the gates are
        // placed again from the counted bins and the pass repeated, so nothing rests on the estimate.
        func gateAndScan(countedTimeBins: [Int]?, digest: SharedReadDigest?) throws(MRDError) -> (SampleGating, GatingTree, EventAudit?, [PlotPlan], FullPass) {
            var gating = SampleGating(template: template, mapping: mapping, file: file, dataSetIndex: index, path: path,
                                      compensation: reference, matrices: matrices, workers: workers, subsampleEvents: subsampleEvents)
            gating.countedTimeBins = countedTimeBins
            try gating.resolve()
            // The subsample's values are freed: their pages go back to the system rather than
            // stay resident beside the plasma-cell rows and the clustering that come after.
            releaseFreedMemory()
            clock.mark("data-driven gates")
            let tree = try gating.tree(gating.gates)
            let audit = try eventsOutput.map { output throws(MRDError) in
                try EventAudit(path: output, format: resultsFormat, tree: tree, nucleated: template.mrd.nucleated, eventCount: dataSet.eventCount)
            }
            let plans = wantPlots ? try plotPlans(gating: gating, tree: tree) : []
            let full = try PlasmaCellScan(template: template, workers: workers)
                .run(gating: gating, tree: tree, file: file, index: index, path: path, audit: audit, plans: plans, timeBinning: gating.timeBinning,
                     storedBytes: digest)
            return (gating, tree, audit, plans, full)
        }
        var attempt: (SampleGating, GatingTree, EventAudit?, [PlotPlan], FullPass)? = try gateAndScan(countedTimeBins: nil, digest: shared)
        if let estimated = attempt?.0.timeBinCounts, let counted = attempt?.4.timeBinCounts, estimated != counted {
            attempt = nil   // releases the first pass's audit file before the second one opens it
            attempt = try gateAndScan(countedTimeBins: counted, digest: nil)
        }
        let (gating, tree, audit, plans, full) = attempt!
        warnings += gating.warnings
        clock.mark("full pass")
        defer { clock.mark("clusters and result"); clock.report() }
        let counts = Dictionary(full.gating.gates.map { ($0.id, $0.count) }, uniquingKeysWith: { a, _ in a })
        let qc = AcquisitionQC.assess(template: template, dataSet: dataSet, parserWarnings: parserWarnings, counts: counts,
                                      flowRate: gating.flowRate, timeExcludedFraction: gating.timeExcludedFraction, nonFinite: full.nonFinite)
        if !full.nonFinite.isEmpty {
            warnings.append("non-finite event values (NaN or infinity) in " + full.nonFinite.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
                            + "; those events fall outside every gate that uses the channel")
        }
        let (result, aberrantRows, clustering) = assemble(full: full, gating: gating, path: path, checksum: checksum(), totalEvents: dataSet.eventCount,
                                                          panel: panel, warnings: warnings, qc: qc)
        try audit?.finish(restrictedEvents: aberrantRows.map { full.candidateEvents[$0] }, result: result)
        let plots = finishPlots(plans: plans, full: full, aberrantRows: aberrantRows, gating: gating, result: result)
        var analysis = MRDAnalysis(result: result, plots: plots)
        analysis.resolvedGates = ResolvedGates(tree: tree, fileCompensation: prepared.fileCompensation, dataSet: dataSet)
        if collectsReferenceSample {
            var sample = ReferenceSample(full: full, clustering: clustering, rules: template.mrd)
            let populations = template.referencePopulations
            sample.populations = try gating.profiles(of: populations, markers: template.mrd.phenotypeMarkers)
            let nucleated = counts[template.mrd.nucleated] ?? 0
            for id in populations { sample.populationPercent[id] = nucleated > 0 ? 100 * Double(counts[id] ?? 0) / Double(nucleated) : 0 }
            analysis.referenceSample = sample
        }
        return analysis
    }

    /// Uses the reference at `path`, or else the one the template names (``GatingTemplate/referencePath``); none when neither.
    /// - Throws: ``MRDError/reference(file:detail:)`` for a reference that cannot be read or was built with another template.
    public mutating func useReference(_ path: String?) throws(MRDError) {
        guard let file = path ?? template.referencePath else { return }
        try use(reference: try NormalReference.load(path: file, template: template), file: file)
    }

    /// Replaces hemodilution limits by gate id or indicator name (`flowmrd qc --limit`).
    public mutating func overrideQCLimits(_ limits: [String: Double]) throws(MRDError) {
        template = try template.overridingQCLimits(limits)
    }

    /// Judges samples against `reference` (read with ``NormalReference/load(path:template:)``
    /// for this template): hemodilution against its indicators' 5th percentiles instead of the
    /// template's fixed limits, and every plasma-cell cluster's distance to its normal subsets.
    public mutating func use(reference: NormalReference, file: String) throws(MRDError) {
        guard reference.template.sha256 == template.checksum else {
            throw .reference(file: file, detail: "was built with another template than \(template.name) \(template.version)")
        }
        let limits = reference.hemodilutionLimits.filter { entry in template.qc.indicators.contains { $0.gate == entry.key } }
        template = try template.overridingQCLimits(limits)
        template.judgeHemodilution(by: reference.marrowScoreRule)
        self.reference = reference
        referenceFile = file
    }

    /// What the plasma-cell scan gathers (``PlasmaCellScan/Result``).
    typealias FullPass = PlasmaCellScan.Result
}

/// Rounds to 6 significant decimals so JSON output is stable and readable.
public func round6(_ x: Double) -> Double {
    guard x.isFinite, x != 0 else { return x.isFinite ? x : 0 }
    let magnitude = pow(10, 6 - (log10(abs(x))).rounded(.up))
    return (x * magnitude).rounded() / magnitude
}

/// "2.0e-5" style.
func formatFraction(_ x: Double) -> String { String(format: "%.1e", x) }

/// A bound as the template writes it: "4", "0.5", "1.25".
func formatNumber(_ x: Double) -> String { String(format: "%g", x) }

/// A p-value: "3.2e-12", or "< 1e-300" when it underflows to 0.
func formatP(_ p: Double) -> String { p > 0 ? String(format: "%.1e", p) : "< 1e-300" }

extension MRDResult {
    static func notEvaluable(template: GatingTemplate, file: String, checksum: String?, totalEvents: Int, panel: [String: String],
                             assignments: [String: String], reference: ReferenceUse?, reason: String, warnings: [String], qc: AcquisitionQC) -> MRDResult {
        let empty = Population(count: 0, percentOfPlasmaCells: nil, percentOfNucleated: 0)
        return MRDResult(
            schema: schemaVersion, software: MRDAnalyzer.software, file: file, fileSHA256: checksum, template: template.name,
            templateVersion: template.version, templateSHA256: template.checksum, totalEvents: totalEvents, panel: panel, channelAssignments: assignments, normalReference: reference, gates: [],
            thresholds: [], nucleatedCells: 0, plasmaCells: empty, normalPC: empty, aberrantPC: empty, aberrantClusters: [],
            unclusteredAberrantEvents: 0, mrdPercent: nil, mrdCI95Percent: nil,
            sensitivity: Sensitivity(lodEvents: template.mrd.minClusterEvents, lodPercent: nil, lloqEvents: template.mrd.lloqEvents,
                                     lloqPercent: nil, reached: nil, target: template.mrd.targetSensitivity,
                                     minNucleatedCells: template.mrd.minNucleatedCells, met: false, imwgReached: false),
            phenotype: [], lightChains: LightChains(aberrant: "undetermined", aberrantKappa: 0, aberrantLambda: 0, normalKappa: 0, normalLambda: 0, normalRatio: nil),
            call: .notEvaluable, callText: "Not evaluable: \(reason)", notEvaluableReasons: [reason], warnings: warnings, qc: qc, clonality: nil)
    }
}

/// Phase timings printed to standard error when FLOWMRD_TIMING is set (for profiling; the
/// benchmark figures come from `flowmrd bench analyze`): each phase's wall time, the process's
/// CPU time in it (CPU ÷ wall shows how many cores the phase kept busy), and memory.
struct PhaseClock {
    private let enabled = ProcessInfo.processInfo.environment["FLOWMRD_TIMING"] != nil
    private var last = DispatchTime.now().uptimeNanoseconds
    private var lastCPU = 0.0
    private var phases: [(String, Double, Double, (now: Double, peak: Double)?)] = []

    init() {
        if enabled { lastCPU = Self.processCPUSeconds() }
    }

    mutating func mark(_ name: String) {
        guard enabled else { return }
        let now = DispatchTime.now().uptimeNanoseconds, cpu = Self.processCPUSeconds()
        phases.append((name, Double(now - last) / 1e9, cpu - lastCPU, Self.residentMegabytes()))
        (last, lastCPU) = (now, cpu)
    }

    func report() {
        guard enabled else { return }
        let text = phases.map {
            "\($0.0): \(String(format: "%.3f s, CPU %.3f s", $0.1, $0.2))" + ($0.3.map { String(format: " (RSS %.0f, peak %.0f MB)", $0.now, $0.peak) } ?? "")
        }
        FileHandle.standardError.write(Data((text.joined(separator: "; ") + "\n").utf8))
    }

    /// User and system CPU time of the whole process, every thread.
    static func processCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    /// The process's resident and peak resident memory (`VmRSS`, `VmHWM` of /proc/self/status), where the system has it.
    static func residentMegabytes() -> (now: Double, peak: Double)? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        func field(_ name: String) -> Double? {
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return nil }
            return line.split(separator: " ").dropFirst().first.flatMap { Double($0) }.map { $0 / 1024 }
        }
        guard let now = field("VmRSS"), let peak = field("VmHWM") else { return nil }
        return (now, peak)
    }
}
