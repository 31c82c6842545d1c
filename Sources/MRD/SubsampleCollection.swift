import Cytometry
import EventCore

/// The subsample pass of ``SampleGating``: the values each data-driven boundary is placed on.
extension SampleGating {
    /// Values of `markers` for the events of each population (nil: all events) in the subsample,
    /// in event order (the same order whatever the number of workers).
    /// - Complexity: O(subsample events × (gates + markers)) on `workers` cores, then one copy of the values.
    func collect(_ requests: [(population: String?, markers: [String])]) throws(MRDError) -> [[[Double]]] {
        // Only the requested populations and the gates they rest on (parents, boolean operands)
        // are evaluated: their masks are the same as in the whole tree.
        var needed: Set<String> = []
        var stack = requests.compactMap(\.population)
        let byID = Dictionary(gates.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        while let id = stack.popLast() {
            guard needed.insert(id).inserted, let gate = byID[id] else { continue }
            if let parent = gate.parentID { stack.append(parent) }
            if case .boolean(_, let operands) = gate.shape { stack += operands.map(\.gateID) }
        }
        let tree = try tree(gates.filter { needed.contains($0.id) })
        // One column per marker, read only inside the population that asks for it (every event
        // when several populations, or every event, ask for it).
        var markerIndex: [String: Int] = [:]
        var extra: [GateDimension] = []
        var domains: [Int?] = []
        var columnsOf: [(population: Int?, columns: [Int])] = []
        for request in requests {
            let population = request.population.flatMap { id in tree.gates.firstIndex { $0.id == id } }
            var columns: [Int] = []
            for m in request.markers {
                if let k = markerIndex[m] {
                    if domains[k] != population { domains[k] = nil }
                    columns.append(k)
                } else {
                    markerIndex[m] = extra.count
                    extra.append(dimension(m))
                    domains.append(population)
                    columns.append(extra.count - 1)
                }
            }
            columnsOf.append((population, columns))
        }
        let plan = columnsOf
        let dataSet = file.dataSets[dataSetIndex]
        let blockSize = TreeEvaluator.defaultBlockSize
        let blockCount = (dataSet.eventCount + blockSize - 1) / blockSize
        let wanted = max(1, (subsampleEvents + blockSize - 1) / blockSize)
        let stride = max(1, blockCount / wanted)
        // Per worker: its values, and where each block it read starts in them.
        struct Store {
            var values: [[[Double]]]
            /// Per block read: its first event and, per request and column, where its values start.
            var blocks: [(first: Int, starts: [[Int]])] = []
        }
        let slots = WorkerSlots<Store>(count: max(1, workers), initial: Store(values: plan.map { p in p.columns.map { _ in [Double]() } }))
        do {
            _ = try TreeEvaluator(tree: tree, extraDimensions: extra, extraDomains: domains).evaluate(
                file: file, dataSet: dataSetIndex, workers: workers, blockSize: blockSize, blockStride: stride) { worker, block in
                slots.update(worker) { store in
                    store.blocks.append((block.firstEvent, store.values.map { $0.map(\.count) }))
                    let n = block.count
                    for (r, p) in plan.enumerated() {
                        let mask = p.population.map { block.mask($0) }
                        // Masks hold 0 or 1 per event (``EvaluatedBlock/mask(_:)``): sums and strides without a branch.
                        var selected = n
                        if let mask {
                            selected = 0
                            for e in 0..<n { selected &+= Int(mask[e]) }
                        }
                        for (k, c) in p.columns.enumerated() {
                            let column = block.column(c)
                            // The column taken out of the store while it grows, so no append
                            // checks the nested arrays' uniqueness per value.
                            var values: [Double] = []
                            swap(&values, &store.values[r][k])
                            let start = values.count
                            // One slot more than kept: every event is written, a kept one then
                            // advances; the spare slot goes at the end.
                            values.append(contentsOf: repeatElement(0, count: selected + 1))
                            values.withUnsafeMutableBufferPointer { out in
                                let base = out.baseAddress!
                                if let mask {
                                    var j = start
                                    for e in 0..<n {
                                        base[j] = column[e]
                                        j &+= Int(mask[e])
                                    }
                                } else {
                                    for e in 0..<n { base[start + e] = column[e] }
                                }
                            }
                            values.removeLast()
                            swap(&values, &store.values[r][k])
                        }
                    }
                }
            }
        } catch {
            throw MRDError.wrapping(error, file: path)
        }
        // Blocks in event order, whichever worker read them: every later step sees the same
        // sequence whatever the workers (a merge of the workers' block lists, no sort of the values).
        var pieces: [(first: Int, worker: Int, block: Int)] = []
        for w in 0..<slots.count { for (b, block) in slots[w].blocks.enumerated() { pieces.append((block.first, w, b)) } }
        pieces.sort { $0.first < $1.first }
        var merged = plan.map { p in p.columns.map { _ in [Double]() } }
        for r in 0..<merged.count {
            for k in 0..<merged[r].count {
                merged[r][k].reserveCapacity((0..<slots.count).reduce(0) { $0 + slots[$1].values[r][k].count })
                for piece in pieces {
                    let store = slots[piece.worker], start = store.blocks[piece.block].starts[r][k]
                    let end = piece.block + 1 < store.blocks.count ? store.blocks[piece.block + 1].starts[r][k] : store.values[r][k].count
                    merged[r][k] += store.values[r][k][start..<end]
                }
            }
        }
        return merged
    }
}

/// One value per worker, each touched only by its own worker during a parallel pass.
final class WorkerSlots<T>: @unchecked Sendable {
    private var values: [T]
    init(count: Int, initial: T) { values = [T](repeating: initial, count: count) }
    var count: Int { values.count }
    subscript(i: Int) -> T { values[i] }
    func update(_ i: Int, _ body: (inout T) -> Void) {
        values.withUnsafeMutableBufferPointer { body(&$0[i]) }
    }
}
