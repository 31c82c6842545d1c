import EventCore
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
    /// Dimensions computed for an observer in addition to those the gates read
    /// (``EvaluatedBlock/column(_:)`` k is `extraDimensions[k]`).
    public let extraDimensions: [GateDimension]
    /// Per extra dimension: the gate (index in the tree's gates) outside whose events the
    /// observer never reads it, or nil for every event. A dimension that no gate reads outside
    /// that gate either is then computed only for its events (``DimensionDomains``); the
    /// column's other values are undefined.
    public let extraDomains: [Int?]
    /// Events per block: small enough that a block's working columns stay in a core's cache.
    public static let defaultBlockSize = 4096
    /// Whether the AVX2 column kernels run (``ColumnKernels``); the same counts either way.
    public var avx2 = ColumnKernels.useAVX2

    public init(tree: GatingTree, extraDimensions: [GateDimension] = [], extraDomains: [Int?] = []) {
        self.tree = tree
        self.extraDimensions = extraDimensions
        self.extraDomains = extraDomains
    }

    /// Evaluates the tree over a data set's events (scale values: $PnE/$PnG applied).
    /// - Parameters:
    ///   - membership: also return each gate's per-event membership bits.
    ///   - blockSize: rounded up to a multiple of 64.
    ///   - blockStride: evaluate only every k-th block (a subsample); counts then cover those blocks.
    ///   - storedBytes: handed each block's buffer of stored bytes after it is read (``StoredBytesConsumer``).
    ///   - observer: called once per evaluated block, possibly from several workers at once, with
    ///     the block's gate masks and extra dimension columns. Whatever it accumulates must be per worker.
    public func evaluate(file: any EventSource, dataSet: Int? = nil, membership: Bool = false,
                         workers: Int = ProcessInfoCores.active, blockSize: Int = TreeEvaluator.defaultBlockSize,
                         blockStride: Int = 1,
                         storedBytes: (any StoredBytesConsumer)? = nil,
                         observer: (@Sendable (_ worker: Int, _ block: EvaluatedBlock) throws -> Void)? = nil) throws -> GatingResult {
        var reader = try file.eventReader(dataSet: dataSet, blockSize: max(64, (blockSize + 63) / 64 * 64))
        reader.values = .scaled
        if reader.blockSize % 64 != 0 {
            // The reader capped the block for very wide events: keep whole membership words per block.
            reader = try file.eventReader(dataSet: dataSet, blockSize: max(64, reader.blockSize / 64 * 64))
            reader.values = .scaled
        }
        let plan = try EvaluationPlan(tree: tree, dataSet: reader.dataSet, extraDimensions: extraDimensions, extraDomains: extraDomains)
        let gateCount = tree.gates.count
        let eventCount = reader.eventCount
        let wordCount = (eventCount + 63) / 64
        let bits = membership ? UnsafeMutablePointer<UInt64>.allocate(capacity: max(1, gateCount * wordCount)) : nil
        bits?.initialize(repeating: 0, count: max(1, gateCount * wordCount))
        defer { bits?.deallocate() }
        let sharedBits = UnsafeSendable(bits)
        let workerCount = max(1, min(workers, reader.blockCount))
        let scratches = (0..<workerCount).map { _ in EvaluationScratch(plan: plan, capacity: ColumnPadding.capacity(forEvents: reader.blockSize)) }
        // Each worker its own copy of the plan: the arrays the chunk loop retains are then not shared between cores.
        var workerPlans = [plan]
        for _ in 1..<workerCount { workerPlans.append(try EvaluationPlan(tree: tree, dataSet: reader.dataSet, extraDimensions: extraDimensions, extraDomains: extraDomains)) }
        let plans = workerPlans
        let shared = UnsafeSendable(scratches)
        var evaluated = eventCount
        if blockStride > 1 {
            evaluated = 0
            for b in Swift.stride(from: 0, to: reader.blockCount, by: blockStride) { evaluated += min(reader.blockSize, eventCount - b * reader.blockSize) }
        }
        try reader.forEachBlock(as: Double.self, workers: workerCount, stride: blockStride, storedBytes: storedBytes) { worker, block in
            let scratch = shared.value[worker]
            plans[worker].run(block: block, scratch: scratch, avx2: avx2)
            if let observer {
                let first = block.firstEvent, n = block.count, rawCapacity = block.capacity
                try block.withUnsafeStorage { raw in
                    // The worker's own plan's list (the first plan's, shared, would bounce its count between cores).
                    try observer(worker, EvaluatedBlock(firstEvent: first, count: n, capacity: scratch.capacity,
                                                    masks: scratch.masks, dimensions: scratch.dimensions, extra: plans[worker].extraDimensions,
                                                    raw: raw, rawCapacity: rawCapacity))
                }
            }
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
                                   parentCount: gate.parentID.flatMap { byID[$0] } ?? evaluated)
        }
        var memberships: [String: GateMembership] = [:]
        if let bits {
            for (g, gate) in tree.gates.enumerated() {
                memberships[gate.id] = GateMembership(words: Array(UnsafeBufferPointer(start: bits + g * wordCount, count: wordCount)), eventCount: eventCount)
            }
        }
        return GatingResult(eventCount: evaluated, gates: gates, membership: memberships)
    }
}

/// Wraps a value whose concurrent use is made safe by construction (each worker touches its own part).
struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// One evaluated block as an observer sees it: per-gate masks (1 = in the gate, parent included)
/// and the extra dimension columns, valid only during the observer call.
public struct EvaluatedBlock {
    /// File index of the block's first event.
    public let firstEvent: Int
    /// Events in the block.
    public let count: Int
    let capacity: Int
    let masks: UnsafeMutablePointer<UInt8>
    let dimensions: UnsafeMutablePointer<Double>
    let extra: [Int]
    let rawBase: UnsafePointer<Double>
    let rawCapacity: Int

    init(firstEvent: Int, count: Int, capacity: Int, masks: UnsafeMutablePointer<UInt8>, dimensions: UnsafeMutablePointer<Double>,
         extra: [Int], raw: UnsafePointer<Double>, rawCapacity: Int) {
        self.firstEvent = firstEvent
        self.count = count
        self.capacity = capacity
        self.masks = masks
        self.dimensions = dimensions
        self.extra = extra
        self.rawCapacity = rawCapacity
        self.rawBase = raw
    }

    /// The mask of gate `index` (the tree's gate order): `count` bytes, 1 for events in the gate.
    public func mask(_ index: Int) -> UnsafePointer<UInt8> { UnsafePointer(masks + index * capacity) }

    /// Extra dimension `k` (compensated and transformed as declared): `count` values, defined
    /// for the events of its domain (``TreeEvaluator/extraDomains``), every event when it has none.
    public func column(_ k: Int) -> UnsafePointer<Double> { UnsafePointer(dimensions + extra[k] * capacity) }

    /// Channel `c` as read (scale values, not compensated or transformed): `count` values.
    public func channel(_ c: Int) -> UnsafePointer<Double> { rawBase + c * rawCapacity }
}
