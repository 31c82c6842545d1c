import EventCore

/// One worker's buffers: compensated outputs, dimension columns, gate masks and counts.
final class EvaluationScratch: @unchecked Sendable {
    let capacity: Int
    let compensated: UnsafeMutablePointer<Double>
    let dimensions: UnsafeMutablePointer<Double>
    let masks: UnsafeMutablePointer<UInt8>
    let gateCount: Int
    var counts: [Int]
    /// A rectangle gate's dimension columns, set per gate and chunk.
    let rectangleColumns: UnsafeMutablePointer<UnsafePointer<Double>?>
    /// Per gate: its events in the current chunk (a domain's size, before its indices are gathered).
    let chunkCounts: UnsafeMutablePointer<Int>
    /// For dimensions with a domain (``EvaluationPlan/ensure(_:base:capacity:offset:count:scratch:avx2:)``).
    let sparse: SparseScratch
    /// The plan's gates as plain values the chunk loop reads without copying them (``GateTable``).
    let gateTable: GateTable

    init(plan: EvaluationPlan, capacity: Int) {
        self.capacity = capacity
        compensated = .allocate(capacity: max(1, plan.compensatedOutputCount * capacity))
        dimensions = .allocate(capacity: max(1, plan.dimensions.count * capacity))
        // Values outside a dimension's domain are never computed: start them defined.
        dimensions.initialize(repeating: 0, count: max(1, plan.dimensions.count * capacity))
        sparse = SparseScratch(plan: plan)
        gateCount = plan.gates.count
        masks = .allocate(capacity: max(1, plan.gates.count * capacity))
        masks.initialize(repeating: 0, count: max(1, plan.gates.count * capacity))
        counts = [Int](repeating: 0, count: plan.gates.count)
        let rectangleDimensions = plan.gates.map { if case .rectangle(let ds, _, _) = $0 { ds.count } else { 0 } }.max() ?? 0
        rectangleColumns = .allocate(capacity: max(1, rectangleDimensions))
        rectangleColumns.initialize(repeating: nil, count: max(1, rectangleDimensions))
        chunkCounts = .allocate(capacity: max(1, plan.gates.count))
        chunkCounts.initialize(repeating: 0, count: max(1, plan.gates.count))
        gateTable = GateTable(plan: plan)
    }

    deinit {
        compensated.deallocate()
        dimensions.deallocate()
        masks.deallocate()
        chunkCounts.deallocate()
        rectangleColumns.deallocate()
        gateTable.deallocate()
    }

    /// Adds a gate's events in this chunk to its count and keeps them as the chunk's count.
    @inline(__always)
    func record(gate g: Int, inside: Int) {
        counts[g] += inside
        chunkCounts[g] = inside
    }

    /// Packs this block's masks into the shared membership bits (blocks start at multiples of 64).
    func storeBits(block: borrowing EventBlock<Double>, into bits: UnsafeMutablePointer<UInt64>, wordCount: Int) {
        let n = block.count
        let firstWord = block.firstEvent / 64
        for g in 0..<gateCount {
            let mask = masks + g * capacity
            let words = bits + g * wordCount + firstWord
            var e = 0
            var w = 0
            while e < n {
                var word: UInt64 = 0
                let end = min(n, e + 64)
                for k in e..<end where mask[k] != 0 { word |= 1 << UInt64(k - e) }
                words[w] = word
                w += 1
                e = end
            }
        }
    }
}
