import Cytometry
import EventCore
import FCS
import Foundation

/// The plasma-cell scan: the one full pass over every event after the data-driven gates are
/// placed. Per block, on every core: every gate's count, every event's time bin (checking the
/// flow-rate gate's estimate, ``TimeBinning``), every panel channel checked
/// (non-finite values, a constant channel), the binned dot plots, the per-event audit, and
/// every plasma cell's row kept (the markers clustering, clonality and the plots need), merged
/// in event order so the result does not depend on the workers.
struct PlasmaCellScan {
    let template: GatingTemplate
    let workers: Int

    /// What the scan gathers.
    struct Result {
        var gating: GatingResult
        /// Every plasma cell's row (``columns`` values each), in event order.
        var candidates: [Float]
        /// Each row's event index, kept only when a per-event audit is written (it alone reads
        /// them): 8 bytes a plasma cell otherwise held through the clustering for nothing.
        var candidateEvents: [Int]
        /// Per row: 1 when the plasma cell breaks at least `min_aberrancies` rules (the audit's aberrant phenotype).
        var ruleFlags: [UInt8] = []
        /// Rows in ``candidates`` (one rule flag each).
        var candidateCount: Int { ruleFlags.count }
        var columns: [String]
        /// Per plot: the density (normal plasma cells only on overlay plots) and undrawn events.
        var densities: [[UInt32]] = []
        var undrawn: [Int] = []
        /// Non-finite values (NaN, ±infinity) read per panel channel, by channel name; only channels that had some.
        var nonFinite: [String: Int] = [:]
        /// Panel channels whose every finite value is the same (a dead detector), by channel name, with that value.
        var constant: [String: Double] = [:]
        /// Events read.
        var events = 0
        /// Every event's time slot counted (``TimeBinning/count(_:count:into:)``), when the tree has a flow-rate gate.
        var timeBinCounts: [Int]?
    }


    /// - Complexity: O(events × (gates + stored markers)) on `workers` cores; memory: one block per
    ///   worker plus one row per plasma cell (4 bytes × stored markers).
    func run(gating: SampleGating, tree: GatingTree, file: any EventSource, index: Int, path: String,
             audit: EventAudit?, plans: [PlotPlan], timeBinning: TimeBinning?,
             storedBytes: (any StoredBytesConsumer)? = nil, eventIndices: Bool = false) throws(MRDError) -> Result {
        let rules = template.mrd
        guard let pcIndex = tree.gates.firstIndex(where: { $0.id == rules.plasmaCells }) else {
            throw .template(file: template.path, line: 1, column: 1, detail: "mrd plasma_cells gate \"\(rules.plasmaCells)\" is not defined")
        }
        // Columns kept for candidates first (cluster, phenotype, light chains, overlay-plot axes),
        // then rule-only markers, then plot-only markers (``plotColumns`` gives the same order).
        let plotted = plans.map(\.spec)
        let (columns, stored) = MRDAnalyzer.columnOrder(rules: rules, plots: plotted)
        let columnCount = columns.count
        let extra = columns.map { gating.dimension($0) }
        let ruleColumns = rules.rules.map { r in columns.firstIndex(of: r.marker)! }
        let ruleAbove = rules.rules.map { $0.aberrant == .above }
        let thresholds = gating.activeRuleThresholds   // switched-off rules mark no cell
        let keepEvents = eventIndices || audit != nil   // each row's event index: for the audit, or when asked
        let minimum = rules.minAberrancies
        struct Accumulator {
            /// This worker's blocks with plasma cells, in increasing order (each sized exactly).
            var blocks: [BlockRows] = []
            var read = 0
            var densities: [[UInt32]]
            var undrawn: [Int]
            var nonFinite: [Int]
            var minimum: [Double]
            var maximum: [Double]
            var timeCounts: [Int]
            /// The current block's plasma cells' positions (reused from block to block).
            var positions: [Int] = []
        }
        let checkedChannels = Array(Set(gating.mapping.entries.map(\.channelIndex))).sorted()
        let plain = plans.enumerated().filter { !$0.element.spec.aberrantOverlay }.map(\.offset)
        // The observer reads a column for plasma cells only (rows, rules, the audit), unless a
        // plot drawn here reads it for another population (then for every event).
        var domains = [Int?](repeating: pcIndex, count: columnCount)
        for p in plain {
            for c in [plans[p].xColumn, plans[p].yColumn] where plans[p].mask != pcIndex { domains[c] = nil }
        }
        let slots = WorkerSlots<Accumulator>(count: workers, initial: Accumulator(
            densities: plans.map { [UInt32](repeating: 0, count: $0.bins * $0.bins) }, undrawn: plans.map { _ in 0 },
            nonFinite: checkedChannels.map { _ in 0 }, minimum: checkedChannels.map { _ in Double.infinity }, maximum: checkedChannels.map { _ in -Double.infinity },
            timeCounts: [Int](repeating: 0, count: (timeBinning?.binCount ?? -1) + 1)))
        let result: GatingResult
        do {
            result = try TreeEvaluator(tree: tree, extraDimensions: extra, extraDomains: domains).evaluate(file: file, dataSet: index, workers: workers, storedBytes: storedBytes) { worker, block in
                let pc = block.mask(pcIndex)
                let values = (0..<columnCount).map { block.column($0) }
                func isCandidate(_ e: Int) -> Bool {
                    var aberrancies = 0
                    for (r, c) in ruleColumns.enumerated() {
                        let v = values[c][e]
                        if ruleAbove[r] ? v > thresholds[r] : v < thresholds[r] { aberrancies += 1 }
                    }
                    return aberrancies >= minimum
                }
                try audit?.record(block, plasmaCell: pcIndex, candidate: isCandidate)
                slots.update(worker) { acc in
                    // NaN or infinite values fall outside every gate: counted so they are never silent.
                    for (k, c) in checkedChannels.enumerated() {
                        acc.nonFinite[k] += ColumnKernels.finiteRange(block.channel(c), count: block.count, low: &acc.minimum[k], high: &acc.maximum[k])
                    }
                    acc.read += block.count
                    if let timeBinning {
                        acc.timeCounts.withUnsafeMutableBufferPointer { timeBinning.count(block.channel(timeBinning.channel), count: block.count, into: $0.baseAddress!) }
                    }
                    for p in plain {
                        let plan = plans[p]
                        acc.undrawn[p] += acc.densities[p].withUnsafeMutableBufferPointer { counts in
                            plan.accumulate(xs: values[plan.xColumn], ys: values[plan.yColumn], mask: plan.mask.map { block.mask($0) },
                                            count: block.count, into: counts)
                        }
                    }
                    // The block's plasma cells, listed first so each array is allocated once at its size.
                    if acc.positions.count < block.count { acc.positions = [Int](repeating: 0, count: block.count) }
                    let k = acc.positions.withUnsafeMutableBufferPointer { ColumnKernels.listNonzero(pc, count: block.count, into: $0.baseAddress!) }
                    guard k > 0 else { return }
                    var rows = BlockRows(first: block.firstEvent, capacity: k, stored: stored, offsets: keepEvents)
                    for e in acc.positions[0..<k] {
                        for c in 0..<stored { rows.values.append(Float(values[c][e])) }
                        if keepEvents { rows.offsets.append(UInt32(truncatingIfNeeded: e)) }
                        rows.flags.append(isCandidate(e) ? 1 : 0)
                    }
                    acc.blocks.append(rows)
                }
            }
        } catch {
            throw MRDError.wrapping(error, file: path)
        }
        var clock = PhaseClock()
        clock.mark("scan")
        defer { clock.report() }
        // Merge in event order. Each worker takes blocks in increasing order, so its blocks already
        // are in event order: a k-way merge of blocks, no sort. Each block's rows are released once
        // copied, so the rows are held about once, not twice.
        var lists: [[BlockRows]] = []
        for w in 0..<slots.count { slots.update(w) { lists.append($0.blocks); $0.blocks = [] } }
        let total = lists.reduce(0) { $0 + $1.reduce(0) { $0 + $1.flags.count } }
        var candidates: [Float] = []
        candidates.reserveCapacity(total * stored)
        var flags: [UInt8] = []
        flags.reserveCapacity(total)
        var candidateEvents: [Int] = []
        candidateEvents.reserveCapacity(keepEvents ? total : 0)
        var next = [Int](repeating: 0, count: lists.count)
        var merged = 0
        while true {
            var w = -1
            for k in 0..<lists.count where next[k] < lists[k].count && (w < 0 || lists[k][next[k]].first < lists[w][next[w]].first) { w = k }
            guard w >= 0 else { break }
            let rows = lists[w][next[w]]
            lists[w][next[w]] = BlockRows(first: rows.first, capacity: 0, stored: 0, offsets: false)
            candidates += rows.values
            flags += rows.flags
            for offset in rows.offsets { candidateEvents.append(rows.first + Int(offset)) }
            next[w] += 1
            merged += 1
            if merged % 512 == 0 { releaseFreedMemory() }
        }
        releaseFreedMemory()
        clock.mark("merge")
        var pass = Result(gating: result, candidates: candidates, candidateEvents: candidateEvents, columns: Array(columns[0..<stored]),
                            densities: plans.map { [UInt32](repeating: 0, count: $0.bins * $0.bins) }, undrawn: plans.map { _ in 0 })
        pass.ruleFlags = flags
        var lowest = checkedChannels.map { _ in Double.infinity }, highest = checkedChannels.map { _ in -Double.infinity }
        if let timeBinning {
            var counts = [Int](repeating: 0, count: timeBinning.binCount + 1)
            for w in 0..<slots.count { for b in counts.indices { counts[b] += slots[w].timeCounts[b] } }
            pass.timeBinCounts = counts
        }
        for w in 0..<slots.count {
            pass.events += slots[w].read
            for k in checkedChannels.indices {
                lowest[k] = min(lowest[k], slots[w].minimum[k])
                highest[k] = max(highest[k], slots[w].maximum[k])
            }
        }
        let channelNames = file.dataSets[index].channels
        for (k, c) in checkedChannels.enumerated() where pass.events > 1 && lowest[k] == highest[k] {
            pass.constant[channelNames[c].uniqueName] = lowest[k] + 0   // −0 and 0 reported alike, whichever came first
        }
        for w in 0..<slots.count {
            let acc = slots[w]
            for p in 0..<plans.count {
                for c in 0..<acc.densities[p].count { pass.densities[p][c] &+= acc.densities[p][c] }
                pass.undrawn[p] += acc.undrawn[p]
            }
            let names = file.dataSets[index].channels
            for (k, c) in checkedChannels.enumerated() where acc.nonFinite[k] > 0 { pass.nonFinite[names[c].uniqueName, default: 0] += acc.nonFinite[k] }
        }
        return pass
    }
}

/// Returns the heap's free pages to the system: glibc's `malloc_trim`, looked up at run time
/// (Swift's Glibc module does not declare it; on another C library nothing happens). The
/// workers' block rows live in their threads' heaps, which keep freed memory resident: without
/// this, the merged rows would count twice in the process's resident memory.
func releaseFreedMemory() {
    #if os(Linux)
    typealias Trim = @convention(c) (Int) -> Int32
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return }
    _ = unsafeBitCast(symbol, to: Trim.self)(0)
    #endif
}

/// The plasma cells of one block: their stored values (row-major), offsets in the block (only
/// when the event indices are kept) and rule flags.
struct BlockRows {
    let first: Int
    var values: [Float] = []
    var offsets: [UInt32] = []
    var flags: [UInt8] = []

    init(first: Int, capacity: Int, stored: Int, offsets keepOffsets: Bool) {
        self.first = first
        values.reserveCapacity(capacity * stored)
        if keepOffsets { offsets.reserveCapacity(capacity) }
        flags.reserveCapacity(capacity)
    }
}
