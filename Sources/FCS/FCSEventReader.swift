import EventCore


/// Streams the events of one data set as ``EventBlock``s.
///
/// Block i holds events `i × blockSize ..< min((i+1) × blockSize, eventCount)`.
/// ``readBlock(_:into:buffer:)`` is safe to call from several threads at once
/// (each with its own block and buffer): it reads with `pread` and decodes
/// without shared state. ``next(into:)`` walks the blocks in order.
///
/// Memory: one block plus one raw buffer of `blockSize × bytesPerEvent` bytes
/// per reading thread, whatever the file size. The raw buffer is capped at
/// 64 MiB by shrinking the block size for very wide events.
public struct FCSEventReader: EventReader {
    /// The default number of events per block (16 Ki): the raw bytes of a 14-channel
    /// float32 block (900 KB) stay in a core's cache while they are decoded.
    public static let defaultBlockSize = EventStreaming.defaultBlockSize
    /// The largest raw buffer a block may need.
    public static let maximumBlockBytes = 64 << 20

    /// The data set in the FCS reader's own terms (HEADER, layout, byte offsets).
    public let fcsDataSet: FCSDataSet
    /// The data set as every format describes it.
    public let dataSet: EventDataSet
    /// Events per block (after the memory cap).
    public let blockSize: Int
    /// Raw or scaled values; raw by default.
    public var values: EventValues = .raw
    let source: ByteSource
    private var position = 0
    private var buffer: [UInt8] = []

    init(source: ByteSource, dataSet: FCSDataSet, blockSize: Int) {
        self.source = source
        self.fcsDataSet = dataSet
        self.dataSet = dataSet.eventDataSet
        let byteCap = max(1, Self.maximumBlockBytes / max(1, fcsDataSet.bytesPerEvent))
        self.blockSize = max(1, min(blockSize, byteCap, max(1, fcsDataSet.eventCount)))
    }

    /// Reads the next block in order. Returns false (leaving `block` empty) after the last one.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public mutating func next<S: EventScalar>(into block: inout EventBlock<S>) throws(FCSError) -> Bool {
        guard position < blockCount else {
            block.setCount(0)
            return false
        }
        try readBlock(position, into: &block, buffer: &buffer)
        position += 1
        return true
    }

    /// Starts again from the first block.
    public mutating func rewind() { position = 0 }

    /// True when the stored events already are little-endian float32 rows (`$DATATYPE F`,
    /// `$BYTEORD 1,2,3,4`): their bytes can be copied as they are, with no decoding.
    public var storesFloat32Rows: Bool {
        fcsDataSet.layout.byteOrder == .littleEndian && fcsDataSet.layout.fields.allSatisfy { $0.kind == .float32 && $0.width == 4 }
    }

    /// Copies the stored bytes of block `index` — row-major, as in the file — into `destination`
    /// (room for `blockSize × bytesPerEvent` bytes) and returns the number of events.
    public func readStoredBytes(_ index: Int, into destination: UnsafeMutableRawBufferPointer) throws(FCSError) -> Int {
        precondition(index >= 0 && index < blockCount, "block \(index) outside 0..<\(blockCount)")
        let first = index * blockSize
        let count = min(blockSize, eventCount - first)
        let bytes = count * fcsDataSet.bytesPerEvent
        precondition(destination.count >= bytes, "destination too small for block \(index)")
        let offset = fcsDataSet.dataBegin + first * fcsDataSet.bytesPerEvent
        let got = try source.read(into: destination.baseAddress!, count: bytes, at: offset)
        if got < bytes {
            throw FCSError(file: source.path, .truncatedData(
                expectedEvents: eventCount, completeEvents: first + got / max(1, fcsDataSet.bytesPerEvent),
                dataBegin: fcsDataSet.dataBegin, fileSize: offset + got))
        }
        return count
    }

    /// Reads block `index` into `block`, using `buffer` for the raw bytes (grown once, then reused).
    /// Specialized for `Float` and `Double`, so callers in other modules get the concrete code.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func readBlock<S: EventScalar>(_ index: Int, into block: inout EventBlock<S>, buffer: inout [UInt8]) throws(FCSError) {
        precondition(index >= 0 && index < blockCount, "block \(index) outside 0..<\(blockCount)")
        precondition(block.channelCount == channelCount && block.capacity >= blockSize, "block shape does not match the reader")
        let first = index * blockSize
        let count = min(blockSize, eventCount - first)
        let bytes = count * fcsDataSet.bytesPerEvent
        if buffer.count < bytes { buffer = [UInt8](repeating: 0, count: blockSize * fcsDataSet.bytesPerEvent) }
        let offset = fcsDataSet.dataBegin + first * fcsDataSet.bytesPerEvent
        var failure: FCSError?
        let got: Int = buffer.withUnsafeMutableBytes { raw in
            do throws(FCSError) { return try source.read(into: raw.baseAddress!, count: bytes, at: offset) } catch {
                failure = error
                return 0
            }
        }
        if let failure { throw failure }
        if got < bytes {
            // The file shrank after it was opened.
            throw FCSError(file: source.path, .truncatedData(
                expectedEvents: eventCount, completeEvents: first + got / max(1, fcsDataSet.bytesPerEvent),
                dataBegin: fcsDataSet.dataBegin, fileSize: offset + got))
        }
        block.setCount(count)
        block.firstEvent = first
        let capacity = block.capacity
        let layout = fcsDataSet.layout
        buffer.withUnsafeBytes { raw in
            block.withUnsafeMutableStorage { columns in
                decodeEvents(layout, raw: raw.baseAddress!, count: count, into: columns, capacity: capacity)
            }
        }
        if values == .scaled { block.applyScales(of: fcsDataSet.channels) }
    }
}
