import Dispatch
import EventCore
import FCS
import Synchronization

/// FCS ⇄ HDF5, streaming block by block (memory: one block, whatever the file size).
///
/// FCS → HDF5 keeps the stored values as float32 (exact for float data and for integers below
/// 2²⁴), the channel names and markers, and every keyword of the data set ($SPILLOVER included,
/// as written). HDF5 → FCS writes an FCS 3.1 float32 file with the same channels, markers,
/// ranges ($PnR from the kept keywords) and every non-structural keyword, so FCS → HDF5 → FCS
/// gives the same values and keywords.
public enum HDF5Conversion {
    /// What a conversion did: events written, and every repair or loss the user must hear about.
    public struct Summary: Sendable, Equatable {
        public let events: Int
        public let warnings: [ReadWarning]
    }

    /// FCS → HDF5. The summary's warnings include the source's own reading warnings and a
    /// `values-rounded` warning when the source holds values float32 cannot keep exactly.
    public static func fcsToHDF5(fcsPath: String, hdf5Path: String, dataSet: Int? = nil,
                                 layout: HDF5EventLayout = .flowmrd, compression: Int? = nil) throws -> Summary {
        let file = try FCSFile(path: fcsPath)
        let ds = try file.dataSet(dataSet)
        let index = ds.index
        let writer = try HDF5EventWriter(path: hdf5Path, channelNames: ds.channels.map(\.name), markers: ds.channels.map(\.marker),
                                         keywords: ds.keywords.map { ($0.key, $0.value) },
                                         fcsVersion: ds.version, expectedEvents: ds.eventCount, layout: layout, compression: compression)
        try copyOverlapped(from: try file.reader(dataSet: index), to: writer)
        try writer.finish()
        var warnings = file.warnings + ds.warnings
        if ds.requiresDoublePrecision {
            warnings.append(ReadWarning(.valuesRounded,
                "\(fcsPath): $DATATYPE \(ds.dataType.rawValue) holds values float32 cannot keep exactly; \(hdf5Path) stores them rounded to about 7 significant digits"))
        }
        return Summary(events: writer.written, warnings: warnings)
    }

    /// A block being decoded on the reading thread or written on the calling one.
    private final class Slot: @unchecked Sendable {
        var block: EventBlock<Float>
        var buffer: [UInt8] = []
        /// Events in `buffer` when it holds stored float32 rows (the no-decode path).
        var rowCount = 0
        init(_ block: EventBlock<Float>) { self.block = block }
    }

    /// Reads block i + 1 on a second thread while block i is written: two slots, handed over
    /// with semaphores (each slot is touched by one thread at a time). Memory: two blocks.
    /// Little-endian float32 FCS data is copied as stored rows, with no decode or transpose.
    static func copyOverlapped(from reader: FCSEventReader, to writer: HDF5EventWriter) throws {
        let slots = [Slot(reader.makeBlock(of: Float.self)), Slot(reader.makeBlock(of: Float.self))]
        let stored = reader.storesFloat32Rows && reader.blockSize == writer.chunkRows
        if stored {
            for slot in slots { slot.buffer = [UInt8](repeating: 0, count: reader.blockSize * reader.fcsDataSet.bytesPerEvent) }
        }
        let free = DispatchSemaphore(value: slots.count), ready = DispatchSemaphore(value: 0)
        let stop = Atomic<Bool>(false)
        let readError = Mutex<(any Error)?>(nil)
        let blocks = reader.blockCount
        let producer = DispatchGroup()
        DispatchQueue.global().async(group: producer) {
            for i in 0..<blocks {
                free.wait()
                if stop.load(ordering: .relaxed) { ready.signal(); return }
                let slot = slots[i % slots.count]
                do {
                    if stored {
                        let n = try slot.buffer.withUnsafeMutableBytes { raw in try reader.readStoredBytes(i, into: raw) }
                        // Zeros after the last event, so a short last block still fills its chunk.
                        if n < reader.blockSize { _ = slot.buffer.withUnsafeMutableBytes { raw in
                            raw[(n * reader.fcsDataSet.bytesPerEvent)...].initializeMemory(as: UInt8.self, repeating: 0)
                        } }
                        slot.rowCount = n
                    } else {
                        try reader.readBlock(i, into: &slot.block, buffer: &slot.buffer)
                    }
                } catch {
                    readError.withLock { $0 = error }
                    ready.signal()
                    return
                }
                ready.signal()
            }
        }
        defer {
            stop.store(true, ordering: .relaxed)
            for _ in slots { free.signal() }
            producer.wait()
        }
        for i in 0..<blocks {
            ready.wait()
            if let error = readError.withLock({ $0 }) { throw error }
            let slot = slots[i % slots.count]
            if stored {
                let n = slot.rowCount
                try slot.buffer.withUnsafeBytes { raw in try writer.appendRows(raw, count: n) }
            } else {
                try writer.append(slot.block)
            }
            free.signal()
        }
    }

    /// HDF5 → FCS 3.1 float32.
    public static func hdf5ToFCS(hdf5Path: String, fcsPath: String) throws -> Summary {
        let source = try HDF5EventFile(path: hdf5Path)
        let keywords = DataSetKeywords(source.keywords)
        let channels = source.channels.enumerated().map { i, name in
            FCSChannelDescription(name: name, marker: source.markers[i], range: keywords.trimmed("$P\(i + 1)R").flatMap(Double.init) ?? 262_144)
        }
        let writer = try FCSWriter(path: fcsPath, channels: channels, eventCount: source.eventCount, keywords: keywords)
        var block = EventBlock<Float>(channelCount: channels.count, capacity: 16_384)
        var first = 0
        while first < source.eventCount {
            try source.read(first: first, into: &block)
            try writer.append(block)
            first += block.count
        }
        try writer.finish()
        return Summary(events: source.eventCount, warnings: source.dataSets[0].warnings)
    }
}
