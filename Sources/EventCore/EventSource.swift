import Dispatch
import Synchronization

/// A block-streaming reader over the events of one data set, whatever the file format holding
/// them (an FCS file, an HDF5 event store). The gating evaluator, the MRD engine and the
/// commands read events only through this protocol.
///
/// Block i holds events `i × blockSize ..< min((i+1) × blockSize, eventCount)`.
/// ``readBlock(_:into:buffer:)`` must be safe to call from several threads at once, each with
/// its own block and buffer.
public protocol EventReader: Sendable {
    /// What the events are: channels, markers, keywords, scales, spillover, count.
    var dataSet: EventDataSet { get }
    /// Events per block.
    var blockSize: Int { get }
    /// Raw or scaled values.
    var values: EventValues { get set }
    /// Reads block `index` into `block`, using `buffer` for the stored bytes (grown once, then reused).
    func readBlock<S: EventScalar>(_ index: Int, into block: inout EventBlock<S>, buffer: inout [UInt8]) throws
}

extension EventReader {
    /// Events in the data set.
    public var eventCount: Int { dataSet.eventCount }
    /// Channels per event.
    public var channelCount: Int { dataSet.channels.count }
    /// Blocks needed to cover every event.
    public var blockCount: Int { (eventCount + blockSize - 1) / blockSize }

    /// A block sized for this reader, its columns padded (``ColumnPadding``): `capacity` is the
    /// column stride, and may exceed `blockSize`.
    public func makeBlock<S: EventScalar>(of type: S.Type = Float.self) -> EventBlock<S> {
        EventBlock<S>(channelCount: channelCount, capacity: ColumnPadding.capacity(forEvents: blockSize))
    }

    /// Reads every block on `workers` threads; `body` gets the worker number (0..<workers)
    /// and a block, and may run concurrently for different workers. Blocks are dealt
    /// out dynamically, so the order in which `body` sees them is not fixed: combine
    /// per-worker results afterwards. Stops at the first error.
    ///
    /// With `stride` k > 1 only blocks 0, k, 2k, … are read (a deterministic subsample spread
    /// over the whole acquisition).
    ///
    /// `storedBytes`, when given, takes each block's buffer of what was read for it after the
    /// block is decoded (``StoredBytesConsumer``), so a checksum shares the pass's read.
    ///
    /// Memory: one block and one raw buffer per worker.
    public func forEachBlock<S: EventScalar>(
        as type: S.Type,
        workers: Int = ProcessInfoCores.active,
        stride: Int = 1,
        storedBytes: (any StoredBytesConsumer)? = nil,
        _ body: @Sendable (_ worker: Int, _ block: borrowing EventBlock<S>) throws -> Void
    ) throws {
        let step = max(1, stride)
        let total = (blockCount + step - 1) / step
        let workerCount = max(1, min(workers, total))
        let nextBlock = Atomic<Int>(0)
        let firstError = Mutex<(any Error)?>(nil)
        DispatchQueue.concurrentPerform(iterations: workerCount) { worker in
            var block = makeBlock(of: S.self)
            var buffer: [UInt8] = []
            while true {
                if firstError.withLock({ $0 != nil }) { return }
                let ordinal = nextBlock.wrappingAdd(1, ordering: .relaxed).oldValue
                if ordinal >= total { return }
                do {
                    try readBlock(ordinal * step, into: &block, buffer: &buffer)
                    storedBytes?.take(worker: worker, firstEvent: block.firstEvent, count: block.count, buffer: &buffer)
                    try body(worker, block)
                } catch {
                    firstError.withLock { if $0 == nil { $0 = error } }
                    return
                }
            }
        }
        if let error = firstError.withLock({ $0 }) { throw error }
    }
}

/// An event file open for reading: the metadata of its data sets and a block reader for each.
/// The FCS reader's `FCSFile` conforms; so does the HDF5 event store (`HDF5EventFile`), which
/// holds one data set described by the FCS keywords kept with it.
public protocol EventSource: AnyObject, Sendable {
    /// The file's path, as given.
    var path: String { get }
    /// The file's size in bytes.
    var size: Int { get }
    /// The container format: "FCS" or "HDF5".
    var formatName: String { get }
    var dataSets: [EventDataSet] { get }
    /// Repairs and irregularities found in the file as a whole.
    var warnings: [ReadWarning] { get }
    /// The data set analysed when the caller names none.
    var defaultDataSetIndex: Int { get }
    /// A streaming reader over the events of one data set (the default one when `index` is nil).
    func eventReader(dataSet index: Int?, blockSize: Int) throws -> any EventReader
}

extension EventSource {
    /// The data set at `index`, or the default one; an error names the file when there is no such data set.
    public func dataSet(at index: Int?) throws(EventFileError) -> EventDataSet {
        let chosen = index ?? defaultDataSetIndex
        guard dataSets.indices.contains(chosen) else {
            throw EventFileError(file: path, .noSuchDataSet(index: chosen, count: dataSets.count))
        }
        return dataSets[chosen]
    }
}

extension EventBlock {
    /// Puts each column on its channel's linear scale ($PnE log amplification, $PnG gain,
    /// time in seconds); identity channels are left untouched. Cost: one pass over scaled columns.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public mutating func applyScales(of channels: [EventChannel]) {
        let n = count
        for (c, channel) in channels.enumerated() where channel.scale != .identity && c < channelCount {
            withMutableColumn(c) { column in
                // One loop per kind, so the common ones (a product or a quotient per value) run
                // without a per-value switch; the same operations as ``ChannelScale/apply(_:)``.
                switch channel.scale {
                case .identity:
                    break
                case .seconds(let timestep):
                    for e in 0..<n { column[e] = Scalar(Double(column[e]) * timestep) }
                case .gain(let gain):
                    for e in 0..<n { column[e] = Scalar(Double(column[e]) / gain) }
                case .logarithmic:
                    for e in 0..<n { column[e] = Scalar(channel.scale.apply(Double(column[e]))) }
                }
            }
        }
    }
}

/// Takes what a pass read for each block: the events `firstEvent ..< firstEvent + count` and the
/// buffer that held their stored bytes (for an FCS file, the events' bytes as in the file, from
/// the buffer's start), read by worker `worker` (0 ..< the pass's workers). It may keep the
/// buffer and leave another (or an empty one) in its place; called from several workers at once.
public protocol StoredBytesConsumer: Sendable {
    func take(worker: Int, firstEvent: Int, count: Int, buffer: inout [UInt8])
}
