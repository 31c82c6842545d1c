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
/// data sets, padding) by ``finish()``. SHA-256 is a chain, so blocks are hashed in file order,
/// each by the worker that read it: a block that arrives before its turn waits with its buffer
/// (the worker takes a spare of its own), and its worker hashes it at a later call once every
/// block before it is hashed. A buffer is thus only ever touched by one core — read into,
/// hashed, read into again — instead of being hashed by whichever worker was next and then
/// reused by the other, which made the other core's copy into it miss its cache. When
/// ``pendingLimit`` blocks are waiting, any worker hashes the next one, and a worker waits only
/// while the next block is still being read or gated (by a worker that will call again).
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
    /// `buffer`), leaving one of this worker's spare buffers in its place, and hashes this worker's
    /// blocks while they are next in the file. Safe from several workers at once.
    func take(worker: Int, firstEvent: Int, count: Int, buffer: inout [UInt8]) {
        condition.lock()
        pending[firstEvent] = (buffer, count, worker)
        buffer = spares[worker]?.popLast() ?? []
        while true {
            // The owner of the next block hashes it (the others see it gone or not theirs), or any
            // worker once the limit is reached: the owner may have no further block and call no more.
            while let block = pending[next], block.worker == worker || pending.count >= Self.pendingLimit {
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
        // Blocks whose workers made no further call after them, in file order.
        while let block = pending.removeValue(forKey: next) {
            update(block.bytes, events: block.count)
            next += block.count
        }
        guard !failed, next == eventCount, pending.isEmpty else { return nil }
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
