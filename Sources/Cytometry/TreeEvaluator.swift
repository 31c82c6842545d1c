import FCS
import Synchronization

/// The events of one gate, one bit per event in file order.
public struct GateMembership: Sendable, Equatable {
    /// Bit i of word i/64 is event i.
    public let words: [UInt64]
    public let eventCount: Int

    /// Whether event `index` is in the gate.
    public func contains(_ index: Int) -> Bool { words[index >> 6] & (1 << UInt64(index & 63)) != 0 }

    /// Events in the gate.
    public var count: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }
}

/// What running a gating tree over a data set gives: per-gate counts and, on request, membership.
public struct GatingResult: Sendable {
    public struct GateCount: Sendable, Equatable, Codable {
        public let id: String
        public let path: String
        public let parent: String?
        public let count: Int
        /// Events in the parent gate (all events for a root gate).
        public let parentCount: Int
        /// 100 × count / parentCount (0 when the parent is empty).
        public let percentOfParent: Double

        public init(id: String, path: String, parent: String?, count: Int, parentCount: Int) {
            self.id = id
            self.path = path
            self.parent = parent
            self.count = count
            self.parentCount = parentCount
            self.percentOfParent = parentCount > 0 ? 100 * Double(count) / Double(parentCount) : 0
        }
    }

    /// Events evaluated.
    public let eventCount: Int
    /// One entry per gate, in the tree's file order.
    public let gates: [GateCount]
    /// Per-gate membership when requested, keyed by gate id.
    public let membership: [String: GateMembership]

    /// The count of gate `id`.
    public func count(_ id: String) -> Int? { gates.first { $0.id == id }?.count }
}

/// Runs a ``GatingTree`` over the blocks of an FCS data set in one pass on all cores.
///
/// Per block: compensation of the channels any gate reads through a matrix, each distinct
/// dimension (source → compensation → ratio → transform) computed once into a column, then
/// each gate in dependency order into a byte mask, ANDed with its parent's. Nothing is
/// allocated per event or per block: every buffer belongs to a worker and is reused.
/// Cost: O(events × (dimensions × transform cost + Σ gate cost)); a polygon costs
/// O(vertices) per event. Memory: per worker one block and (dimensions + gates) columns of
/// `blockSize`; with membership, one bit per event per gate.
public struct TreeEvaluator: Sendable {
    public let tree: GatingTree
    /// Events per block: small enough that a block's working columns stay in a core's cache.
    public static let defaultBlockSize = 4096

    public init(tree: GatingTree) {
        self.tree = tree
    }

    /// Evaluates the tree over a data set's events (scale values: $PnE/$PnG applied).
    /// - Parameters:
    ///   - membership: also return each gate's per-event membership bits.
    ///   - blockSize: rounded up to a multiple of 64.
    public func evaluate(file: FCSFile, dataSet: Int? = nil, membership: Bool = false,
                         workers: Int = ProcessInfoCores.active, blockSize: Int = TreeEvaluator.defaultBlockSize) throws -> GatingResult {
        var reader = try file.reader(dataSet: dataSet, blockSize: max(64, (blockSize + 63) / 64 * 64))
        reader.values = .scaled
        if reader.blockSize % 64 != 0 {
            // The reader capped the block for very wide events: keep whole membership words per block.
            reader = try file.reader(dataSet: dataSet, blockSize: max(64, reader.blockSize / 64 * 64))
            reader.values = .scaled
        }
        let plan = try EvaluationPlan(tree: tree, dataSet: reader.dataSet)
        let gateCount = tree.gates.count
        let eventCount = reader.eventCount
        let wordCount = (eventCount + 63) / 64
        let bits = membership ? UnsafeMutablePointer<UInt64>.allocate(capacity: max(1, gateCount * wordCount)) : nil
        bits?.initialize(repeating: 0, count: max(1, gateCount * wordCount))
        defer { bits?.deallocate() }
        let sharedBits = UnsafeSendable(bits)
        let workerCount = max(1, min(workers, reader.blockCount))
        let scratches = (0..<workerCount).map { _ in EvaluationScratch(plan: plan, capacity: reader.blockSize) }
        let shared = UnsafeSendable(scratches)
        try reader.forEachBlock(as: Double.self, workers: workerCount) { worker, block in
            let scratch = shared.value[worker]
            plan.run(block: block, scratch: scratch)
            if let base = sharedBits.value {
                scratch.storeBits(block: block, into: base, wordCount: wordCount)
            }
        }
        var counts = [Int](repeating: 0, count: gateCount)
        for scratch in scratches { for g in 0..<gateCount { counts[g] += scratch.counts[g] } }
        var byID: [String: Int] = [:]
        for (g, gate) in tree.gates.enumerated() { byID[gate.id] = counts[g] }
        let gates = tree.gates.enumerated().map { g, gate in
            GatingResult.GateCount(id: gate.id, path: tree.path(of: gate.id), parent: gate.parentID, count: counts[g],
                                   parentCount: gate.parentID.flatMap { byID[$0] } ?? eventCount)
        }
        var memberships: [String: GateMembership] = [:]
        if let bits {
            for (g, gate) in tree.gates.enumerated() {
                memberships[gate.id] = GateMembership(words: Array(UnsafeBufferPointer(start: bits + g * wordCount, count: wordCount)), eventCount: eventCount)
            }
        }
        return GatingResult(eventCount: eventCount, gates: gates, membership: memberships)
    }
}

/// Wraps a value whose concurrent use is made safe by construction (each worker touches its own part).
struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
