import Cytometry
import EventCore
import FCS
import Foundation

/// A template applied to one data set: its markers as gate dimensions, and the gating tree
/// with every data-driven boundary placed for this sample.
///
/// Resolution runs in rounds. Each round evaluates the gates already fixed over a
/// deterministic subsample (every k-th block of events, about `subsampleEvents` in all, spread
/// over the whole acquisition), collects the values each pending data-driven gate needs from
/// its population, and places those gates; static gates are added as soon as what they refer
/// to exists. The flow-rate gate judges its time bins from counts found by binary search over a
/// time channel in acquisition order (``TimeBinning``), which the full pass then checks.
struct SampleGating {
    let template: GatingTemplate
    let mapping: PanelMapping
    let file: any EventSource
    let dataSetIndex: Int
    let path: String
    let compensation: CompensationReference
    let matrices: [String: CompensationMatrix]
    let workers: Int
    let subsampleEvents: Int

    /// Gates of the final tree (helpers included), in order.
    private(set) var gates: [Gate] = []
    /// Where each data-driven boundary landed.
    private(set) var thresholds: [MRDResult.Threshold] = []
    /// Resolved aberrancy-rule thresholds, in the template's rule order (nil: switched off).
    private(set) var ruleThresholds: [Double?] = []
    /// Rules (template order) switched off for this sample: no data-driven threshold could be set.
    var rulesOff: Set<Int> { Set(ruleThresholds.indices.filter { ruleThresholds[$0] == nil }) }
    /// Data-driven gates switched off for this sample, with the reason: their boundary could not
    /// be placed from the sample's data, so each selects no event (no constant stands in).
    private(set) var gatesOff: [(id: String, marker: String, reason: String)] = []
    /// The thresholds the plasma cells are judged by: a switched-off rule's is one no value
    /// crosses (+∞ for "above", −∞ for "below"), so no constant decides a cell's aberrancy.
    var activeRuleThresholds: [Double] {
        template.mrd.rules.enumerated().map { r, rule in
            ruleThresholds[r] ?? (rule.aberrant == .above ? .infinity : -.infinity)
        }
    }
    private(set) var warnings: [String] = []
    /// Events excluded by the time gate, for the QC verdict.
    private(set) var timeExcludedFraction = 0.0
    /// The flow-rate bins the time gate judged (nil without a flow-rate gate, or when the
    /// time channel could not be judged).
    private(set) var flowRate: FlowRateProfile?
    /// The flow-rate gate's bins and the counts it judged (estimated unless ``countedTimeBins`` was given).
    private(set) var timeBinning: TimeBinning?
    private(set) var timeBinCounts: [Int]?
    /// Per-slot counts of every event's time from an earlier full pass: when set, the time gate
    /// is judged on them instead of the estimate (``TimeBinning``).
    var countedTimeBins: [Int]?
    /// Whether a pending gate's values are read in an earlier pass once its population is placed
    /// (``resolve()``); off, each gate's values are read in its own turn. The gates are the same.
    var readsAhead = true
    /// Subsample passes ``resolve()`` made.
    private(set) var subsamplePasses = 0

    func dimension(_ marker: String) -> GateDimension {
        let spec = template.marker(marker)!
        let entry = mapping.entry(marker)!
        let transform: NamedTransformation?
        switch spec.transform {
        case .none: transform = nil
        case .linear(let T): transform = NamedTransformation(id: "\(marker)-linear", BoundedTransformation(.linear(T: T, A: 0)))
        case .log(let T, let M): transform = NamedTransformation(id: "\(marker)-log", BoundedTransformation(.log(T: T, M: M)))
        case .asinh(let T, let M, let A): transform = NamedTransformation(id: "\(marker)-asinh", BoundedTransformation(.asinh(T: T, M: M, A: A)))
        case .logicle(let T, let W, let M, let A):
            // Parameters were checked when the template was prepared (``prepareTransforms``).
            transform = NamedTransformation(id: "\(marker)-logicle", BoundedTransformation(.logicle(try! LogicleTransform(T: T, W: W, M: M, A: A))))
        }
        return .channel(entry.channel, compensation: spec.compensated ? compensation : .uncompensated, transform: transform)
    }

    /// Checks every transform's parameters before any is built.
    static func prepareTransforms(_ template: GatingTemplate) throws(MRDError) {
        for marker in template.panel {
            do {
                try marker.transform.validate()   // parsed templates were checked at load; this guards built ones
            } catch {
                throw .template(file: template.path, line: 1, column: 1, detail: "transform of marker \(marker.name): \(error)")
            }
        }
    }

    init(template: GatingTemplate, mapping: PanelMapping, file: any EventSource, dataSetIndex: Int, path: String,
         compensation: CompensationReference, matrices: [String: CompensationMatrix], workers: Int, subsampleEvents: Int) {
        self.template = template
        self.mapping = mapping
        self.file = file
        self.dataSetIndex = dataSetIndex
        self.path = path
        self.compensation = compensation
        self.matrices = matrices
        self.workers = workers
        self.subsampleEvents = subsampleEvents
    }

    func tree(_ gates: [Gate]) throws(MRDError) -> GatingTree {
        do { return try GatingTree(gates: gates, matrices: matrices) } catch { throw .cytometry(file: path, error) }
    }

    /// Places every gate and rule threshold.
    mutating func resolve() throws(MRDError) {
        var done: Set<String> = []
        var pending = template.gates
        var pendingRules = Array(template.mrd.rules.enumerated())
        var ruleValues = [Double?](repeating: nil, count: template.mrd.rules.count)
        // Values read for a data-driven gate in an earlier pass than its own turn, by gate id.
        var read: [String: [[Double]]] = [:]
        while !pending.isEmpty || !pendingRules.isEmpty {
            var progressed = false
            // Static gates (and flow-rate, which needs no population) whose references exist.
            var batch: [GateSpec] = []
            var k = 0
            while k < pending.count {
                let gate = pending[k]
                guard !batch.contains(where: { $0.id == gate.id }), gate.references.allSatisfy(done.contains) else {
                    k += 1
                    continue
                }
                if isStatic(gate) {
                    gates += try staticGates(gate)
                    done.insert(gate.id)
                    pending.remove(at: k)
                    progressed = true
                    k = 0
                    continue
                }
                if case .flowRate(let time, let bins, let tolerance) = gate.kind {
                    gates += try flowRateGates(gate, time: time, bins: bins, tolerance: tolerance)
                    done.insert(gate.id)
                    pending.remove(at: k)
                    progressed = true
                    k = 0
                    continue
                }
                batch.append(gate)
                k += 1
            }
            let readyRules = pendingRules.filter { $0.element.threshold.population.map(done.contains) ?? true }
            if batch.isEmpty && readyRules.isEmpty {
                if progressed { continue }
                if pending.isEmpty && pendingRules.isEmpty { break }
                throw .template(file: template.path, line: pending.first?.line ?? 1, column: pending.first?.column ?? 1,
                                detail: "gates cannot be resolved (a reference cycle?)")
            }
            // One subsample pass for everything ready, and for every pending gate whose values can
            // already be read: its population is placed, though the gate waits for its parent or
            // operands (the lymphocytes' CD19 valley for a plasma-cell gate). Those values are kept
            // until the gate's turn: the same subsample and the same population's gates give the
            // same values then, so only the number of passes changes.
            var keys: [String] = []
            var requests: [(population: String?, markers: [String])] = []
            for gate in pending where !isStatic(gate) && read[gate.id] == nil {
                guard let request = valueRequest(gate), batch.contains(where: { $0.id == gate.id })
                        || (readsAhead && (request.population.map(done.contains) ?? true)) else { continue }
                keys.append(gate.id)
                requests.append(request)
            }
            for (_, rule) in readyRules { requests.append((rule.threshold.population, [rule.marker])) }
            let samples = requests.isEmpty ? [] : try collect(requests)
            if !requests.isEmpty { subsamplePasses += 1 }
            for (key, sample) in zip(keys, samples) { read[key] = sample }
            for gate in batch {
                gates += try dataDrivenGates(gate, sample: read.removeValue(forKey: gate.id) ?? [])
                done.insert(gate.id)
            }
            pending.removeAll { g in batch.contains { $0.id == g.id } }
            for (j, (index, rule)) in readyRules.enumerated() {
                let values = samples[keys.count + j][0]
                ruleValues[index] = place(rule.threshold, values: values, name: "rule:\(rule.marker)", marker: rule.marker)
            }
            pendingRules.removeAll { r in readyRules.contains { $0.offset == r.offset } }
        }
        ruleThresholds = ruleValues
    }

    /// The population and markers a data-driven gate's boundary is placed on (nil: none is).
    private func valueRequest(_ gate: GateSpec) -> (population: String?, markers: [String])? {
        switch gate.kind {
        case .threshold(let marker, _, let threshold): return (threshold.population ?? gate.parent, [marker])
        case .ratioBand(let x, let y, _, _): return (gate.parent, [x, y])
        default: return nil
        }
    }

    private func isStatic(_ gate: GateSpec) -> Bool {
        switch gate.kind {
        case .rectangle, .polygon, .boolean: return true
        case .threshold(_, _, let t): if case .fixed = t { return true } else { return false }
        case .ratioBand, .flowRate: return false
        }
    }

    private mutating func staticGates(_ gate: GateSpec) throws(MRDError) -> [Gate] {
        switch gate.kind {
        case .rectangle(let limits):
            return [Gate(id: gate.id, parentID: gate.parent,
                         shape: .rectangle(dimensions: limits.map { dimension($0.marker) }, minimums: limits.map(\.min), maximums: limits.map(\.max)))]
        case .polygon(let x, let y, let vertices):
            return [Gate(id: gate.id, parentID: gate.parent, shape: .polygon(x: dimension(x), y: dimension(y), vertices: vertices.map { Vertex($0.0, $0.1) }))]
        case .threshold(let marker, let keep, .fixed(let t)):
            thresholds.append(.init(name: gate.id, marker: marker, method: "fixed", value: t, upper: nil, switchedOff: false, detail: "fixed in the template"))
            return [thresholdGate(gate, marker: marker, keep: keep, value: t)]
        case .boolean(let op, let operands):
            let boolean: BooleanOperator = op == "and" ? .and : op == "or" ? .or : .not
            return [Gate(id: gate.id, parentID: gate.parent, shape: .boolean(boolean, operands: operands.map { BooleanOperand($0.id, complement: $0.complement) }))]
        default:
            return []
        }
    }


    /// A gate switched off: an empty range of `marker` ([0, 0)), so it selects no event.
    private func emptyGate(_ gate: GateSpec, marker: String) -> Gate {
        Gate(id: gate.id, parentID: gate.parent, shape: .rectangle(dimensions: [dimension(marker)], minimums: [0], maximums: [0]))
    }

    private func thresholdGate(_ gate: GateSpec, marker: String, keep: ThresholdSide, value: Double) -> Gate {
        Gate(id: gate.id, parentID: gate.parent,
             shape: .rectangle(dimensions: [dimension(marker)], minimums: [keep == .above ? value : nil], maximums: [keep == .below ? value : nil]))
    }

    /// The boundary `spec` gives on `values`, recorded in ``thresholds``; nil (switched off, with
    /// a warning and the reason) when the data does not show what it needs.
    private mutating func place(_ spec: ThresholdSpec, values: [Double], name: String, marker: String) -> Double? {
        switch spec {
        case .fixed(let t):
            thresholds.append(.init(name: name, marker: marker, method: "fixed", value: t, upper: nil, switchedOff: false, detail: "fixed in the template"))
            return t
        case .valley(_, let search, let minEvents, let smoothing):
            switch ThresholdFinder.valley(values, search: search, smoothing: smoothing, minEvents: minEvents) {
            case .found(let t):
                thresholds.append(.init(name: name, marker: marker, method: "valley", value: t, upper: nil, switchedOff: false,
                                        detail: "density valley in \(search.lowerBound)…\(search.upperBound) over \(values.count) events"))
                return t
            case .notFound(let reason):
                return switchOff(reason: reason, name: name, marker: marker, method: "valley")
            }
        case .reference(let population, let q, let offset, let bounds, let minEvents, let robust):
            let finite = values.filter(\.isFinite)
            let estimate = robust ? "robust quantile \(q)" : "quantile \(q)"
            // A robust quantile is fitted in data units (``ThresholdFinder/robustQuantile(_:_:dataUnits:)``).
            func robustQuantile() -> Double? {
                guard let transform = dimension(marker).transform?.transform.transformation else { return ThresholdFinder.robustQuantile(finite, q) }
                return ThresholdFinder.robustQuantile(finite, q, dataUnits: transform)
            }
            if finite.count >= minEvents, let quantile = robust ? robustQuantile() : ThresholdFinder.quantile(finite, q) {
                let t = quantile + offset
                if bounds.contains(t) {
                    thresholds.append(.init(name: name, marker: marker, method: "reference", value: t, upper: nil, switchedOff: false,
                                            detail: "\(estimate) of \(population) (\(finite.count) events) \(offset >= 0 ? "+" : "−") \(abs(offset))"))
                    return t
                }
                return switchOff(reason: "\(estimate) of \(population) \(offset >= 0 ? "+" : "−") \(abs(offset)) = \(String(format: "%.4g", t)) lies outside the bounds \(bounds.lowerBound)…\(bounds.upperBound)",
                                 name: name, marker: marker, method: "reference")
            }
            return switchOff(reason: "reference population \(population) has \(finite.count) events (at least \(minEvents) needed)",
                             name: name, marker: marker, method: "reference")
        }
    }

    /// A boundary the data could not place: the gate or rule is switched off, recorded as such
    /// and warned about. No constant stands in for it.
    private mutating func switchOff(reason: String, name: String, marker: String, method: String) -> Double? {
        if name.hasPrefix("rule:") {
            warnings.append("\(name): \(reason); the \(marker) aberrancy rule is switched off for this sample (it marks no cell)")
        } else {
            gatesOff.append((name, marker, reason))
            warnings.append("\(name): \(reason); the gate is switched off for this sample (it selects no event, and a negative cannot rest on it)")
        }
        thresholds.append(.init(name: name, marker: marker, method: method, value: nil, upper: nil, switchedOff: true, detail: reason))
        return nil
    }


    private mutating func dataDrivenGates(_ gate: GateSpec, sample: [[Double]]) throws(MRDError) -> [Gate] {
        switch gate.kind {
        case .threshold(let marker, let keep, let spec):
            guard let t = place(spec, values: sample[0], name: gate.id, marker: marker) else { return [emptyGate(gate, marker: marker)] }
            return [thresholdGate(gate, marker: marker, keep: keep, value: t)]
        case .ratioBand(let x, let y, let width, let bounds):
            let band: ClosedRange<Double>
            switch ThresholdFinder.ratioBand(x: sample[0], y: sample[1], width: width) {
            case .found(let b) where bounds.contains(b.lowerBound) && bounds.contains(b.upperBound):
                band = b
            case .found(let b):
                _ = switchOff(reason: "band \(b.lowerBound)…\(b.upperBound) outside the bounds \(bounds.lowerBound)…\(bounds.upperBound)", name: gate.id, marker: "\(y)/\(x)", method: "ratio-band")
                return [emptyGate(gate, marker: x)]
            case .notFound(let reason):
                _ = switchOff(reason: reason, name: gate.id, marker: "\(y)/\(x)", method: "ratio-band")
                return [emptyGate(gate, marker: x)]
            }
            thresholds.append(.init(name: gate.id, marker: "\(y)/\(x)", method: "ratio-band", value: band.lowerBound, upper: band.upperBound,
                                    switchedOff: false, detail: "median ± \(width) robust SD of \(y)/\(x) over \(sample[0].count) events"))
            // A wedge from the origin: y between lo·x and hi·x, for x > 0.
            let far = 1e6
            let vertices = [Vertex(0, 0), Vertex(far, band.lowerBound * far), Vertex(far, band.upperBound * far)]
            return [Gate(id: gate.id, parentID: gate.parent, shape: .polygon(x: dimension(x), y: dimension(y), vertices: vertices))]
        default:
            return []
        }
    }

    /// The smallest value of the first block and the largest of the last (scale values): the
    /// span of a time channel without reading the whole file.
    private static func firstAndLast(channel: Int, reader: inout any EventReader) throws -> (Double, Double) {
        var block = reader.makeBlock(of: Double.self)
        var buffer: [UInt8] = []
        try reader.readBlock(0, into: &block, buffer: &buffer)
        let start = block.withColumn(channel) { c in c.min() ?? 0 }
        try reader.readBlock(reader.blockCount - 1, into: &block, buffer: &buffer)
        let end = block.withColumn(channel) { c in c.max() ?? 0 }
        return (start, end)
    }

    /// First to last value of an untransformed marker such as time (nil when unreadable).
    func extent(of marker: String) -> ClosedRange<Double>? {
        guard let channel = mapping.entry(marker)?.channelIndex,
              var reader = try? file.eventReader(dataSet: dataSetIndex, blockSize: EventStreaming.defaultBlockSize) else { return nil }
        reader.values = .scaled
        guard let (start, end) = try? Self.firstAndLast(channel: channel, reader: &reader), start.isFinite, end.isFinite, end >= start else { return nil }
        return start...end
    }

    /// The time gate: events per time bin (``TimeBinning``), and the unstable stretches excluded.
    private mutating func flowRateGates(_ gate: GateSpec, time: String, bins: Int?, tolerance: Double) throws(MRDError) -> [Gate] {
        let dataSet = file.dataSets[dataSetIndex]
        let channel = mapping.entry(time)!.channelIndex
        let all = Gate(id: gate.id, parentID: gate.parent, shape: .rectangle(dimensions: [dimension(time)], minimums: [-Double.greatestFiniteMagnitude], maximums: [nil]))
        guard dataSet.eventCount >= 100 else {
            warnings.append("\(gate.id): too few events to judge the flow rate; no time exclusion")
            return [all]
        }
        do {
            var reader = try file.eventReader(dataSet: dataSetIndex, blockSize: EventStreaming.defaultBlockSize)
            reader.values = .scaled
            let (start, end) = try Self.firstAndLast(channel: channel, reader: &reader)
            guard end > start, start.isFinite, end.isFinite else {
                warnings.append("\(gate.id): the time channel does not advance; no time exclusion")
                return [all]
            }
            let binCount = bins ?? min(200, max(10, dataSet.eventCount / 1_000))
            let binning = TimeBinning(channel: channel, start: start, end: end, binCount: binCount)
            let width = binning.width
            // The bins' counts: those the full pass counted when this is a second placement, else
            // the estimate for a time channel in order, which the full pass checks.
            let counts: [Int]
            if let exact = countedTimeBins, exact.count == binCount + 1 {
                counts = exact
            } else {
                var probe = try file.eventReader(dataSet: dataSetIndex, blockSize: TimeBinning.probeBlock)
                probe.values = .scaled
                counts = try binning.estimatedCounts(reader: probe)
            }
            timeBinning = binning
            timeBinCounts = counts
            if counts[binCount] > 0 {
                warnings.append("\(gate.id): \(counts[binCount]) events have times outside the first and last block's range (time not monotonic)")
            }
            let intervals = ThresholdFinder.unstableIntervals(binCounts: Array(counts[0..<binCount]), start: start, binWidth: width, tolerance: tolerance)
            var excluded = 0
            for (b, c) in counts[0..<binCount].enumerated() where intervals.contains(where: { $0.contains(start + (Double(b) + 0.5) * width) }) { excluded += c }
            timeExcludedFraction = Double(excluded) / Double(dataSet.eventCount)
            let inSeconds: Bool
            if case .seconds = dataSet.channels[channel].scale { inSeconds = true } else { inSeconds = false }
            flowRate = FlowRateProfile(start: start, end: end, binWidth: width, counts: Array(counts[0..<binCount]), outOfOrder: counts[binCount],
                                       tolerance: tolerance, unstable: intervals, excludedEvents: excluded, inSeconds: inSeconds)
            thresholds.append(.init(name: gate.id, marker: time, method: "flow-rate", value: Double(dataSet.eventCount - excluded), upper: nil,
                                    switchedOff: false,
                                    detail: "\(binCount) bins of \(String(format: "%.3g", width)) s; \(intervals.count) unstable stretch(es) excluded, \(excluded) events"))
            if intervals.isEmpty { return [all] }
            if excluded > 0 {
                warnings.append("\(gate.id): flow rate unstable in \(intervals.count) stretch(es); \(excluded) events (\(String(format: "%.2f", 100 * timeExcludedFraction))%) excluded")
            }
            // The last bin's end is the last event's time: make it inclusive.
            var helpers: [Gate] = []
            for (i, interval) in intervals.enumerated() {
                let upper = interval.upperBound >= end - width * 1e-9 ? nil : interval.upperBound
                helpers.append(Gate(id: "\(gate.id)~unstable\(i + 1)", parentID: nil,
                                    shape: .rectangle(dimensions: [dimension(time)], minimums: [interval.lowerBound], maximums: [upper])))
            }
            if helpers.count == 1 {
                return helpers + [Gate(id: gate.id, parentID: gate.parent, shape: .boolean(.not, operands: [BooleanOperand(helpers[0].id)]))]
            }
            let union = Gate(id: "\(gate.id)~unstable", parentID: nil, shape: .boolean(.or, operands: helpers.map { BooleanOperand($0.id) }))
            return helpers + [union, Gate(id: gate.id, parentID: gate.parent, shape: .boolean(.not, operands: [BooleanOperand(union.id)]))]
        } catch {
            throw MRDError.wrapping(error, file: path)
        }
    }
}
