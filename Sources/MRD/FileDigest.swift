import Dispatch
import EventCore
import FCS
import Foundation

/// The SHA-256 of an FCS file computed from the bytes the full pass reads anyway, so the
/// checksum costs no second read of the event data.
///
/// The bytes before the analysed data set's events (HEADER, TEXT) are hashed when the digest is
/// made, the events' bytes as each block's stored bytes arrive (``take(worker:firstEvent:count:buffer:)``,
/// given to ``TreeEvaluator`` as `storedBytes`), and whatever follows them (ANALYSIS, further
/// data sets, padding) by ``finish()``. SHA-256 is a chain, so blocks are hashed in file order:
/// a block that arrives before its turn waits with its buffer (the worker takes a spare of its
/// own), and whichever worker calls next while the block after the chain's end is waiting hashes
/// it, and every waiting block after it. The chain thus advances whenever any worker is between
/// blocks, not only when the block's own reader calls again; with 2 cores the full pass is then
/// bound by the total CPU rather than by gaps in the chain. A buffer goes back to the spares of
/// the worker that read it, so the next `pread` into it writes lines that core already holds.
/// A worker waits only while ``pendingLimit`` blocks are waiting and the next one is still
/// being read (by a worker that will call again).
///
/// Cost: the hashing itself (about 0.7 ns per byte with the SHA extensions) on the workers'
/// cores; no read. Memory: at most ``pendingLimit`` blocks' stored bytes, plus a spare per worker.
final class SharedReadDigest: StoredBytesConsumer, @unchecked Sendable {
    static let pendingLimit = 8
    private let file: FCSFile
    private let bytesPerEvent: Int
    private let dataEnd: Int
    private let eventCount: Int
    private let condition = NSCondition()
    private var pending: [Int: (bytes: [UInt8], count: Int, worker: Int)] = [:]
    private var spares: [Int: [[UInt8]]] = [:]
    private var next = 0
    private var hash = SHA256()
    private var failed = false

    /// A digest of `file` fed by the reads of data set `index`.
    init(file: FCSFile, dataSet index: Int) {
        self.file = file
        let set = file.fcsDataSets[index]
        bytesPerEvent = set.bytesPerEvent
        eventCount = set.eventCount
        dataEnd = set.dataRange.upperBound
        do { hash.update(try file.bytes(0..<set.dataBegin)) } catch { failed = true }
    }

    /// Takes the stored bytes of events `firstEvent ..< firstEvent + count` (from the start of
    /// `buffer`), leaving one of this worker's spare buffers in its place, and hashes the waiting
    /// blocks while they are next in the file. Safe from several workers at once.
    func take(worker: Int, firstEvent: Int, count: Int, buffer: inout [UInt8]) {
        condition.lock()
        pending[firstEvent] = (buffer, count, worker)
        buffer = spares[worker]?.popLast() ?? []
        while true {
            // Whoever finds the next block waiting hashes it (the others see it gone).
            while let block = pending[next] {
                pending[next] = nil
                condition.unlock()
                update(block.bytes, events: block.count)
                condition.lock()
                next += block.count
                spares[block.worker, default: []].append(block.bytes)
                condition.broadcast()
            }
            if pending.count < Self.pendingLimit { break }
            // The next block is still being read or gated; its worker hashes it when it calls.
            condition.wait()
        }
        condition.unlock()
    }

    /// Hashes the stored bytes of `events` events from the start of `bytes` (the buffer may be longer).
    private func update(_ bytes: [UInt8], events: Int) {
        bytes.withUnsafeBytes { hash.update(UnsafeRawBufferPointer(start: $0.baseAddress, count: events * bytesPerEvent)) }
    }

    /// The hex digest once every event was taken, after hashing the bytes that follow the
    /// events; nil when a part of the file could not be read or some events never came.
    func finish() -> String? {
        condition.lock()
        defer { condition.unlock() }
        // Blocks still waiting in file order (none when every take returned: the taker of the
        // next block hashes all waiting after it; kept so that the digest never depends on that).
        while let block = pending.removeValue(forKey: next) {
            update(block.bytes, events: block.count)
            next += block.count
        }
        // The workers' buffers go back to the system before the clustering that follows (at 30
        // million events they were about 3 MB of its peak).
        let complete = pending.isEmpty
        (pending, spares) = ([:], [:])
        guard !failed, next == eventCount, complete else { return nil }
        var offset = dataEnd
        while offset < file.size {
            let end = min(file.size, offset + (4 << 20))
            guard let chunk = try? file.bytes(offset..<end), chunk.count == end - offset else { return nil }
            hash.update(chunk)
            offset = end
        }
        return hash.finalizedHex()
    }
}

/// SHA-256 of a file, computed on a background thread; ``wait()`` returns it (nil when the file
/// cannot be read). Cost: about 2 ns per byte of one core.
final class BackgroundDigest: @unchecked Sendable {
    private var result: String?
    private let done = DispatchSemaphore(value: 0)
    private var finished = false

    init(path: String?) {
        guard let path else {
            finished = true
            return
        }
        DispatchQueue.global().async { [self] in
            defer { done.signal() }
            result = SHA256.hex(ofFileAt: path)
        }
    }

    func wait() -> String? {
        if !finished {
            done.wait()
            finished = true
        }
        return result
    }
}
