import Dispatch
import EventCore
import FCS
import Foundation

/// The SHA-256 of an FCS file computed from the bytes the full pass reads anyway, so the
/// checksum costs no second read of the event data.
///
/// The bytes before the analysed data set's events (HEADER, TEXT) are hashed when the digest is
/// made, the events' bytes as each block's stored bytes arrive (``take(firstEvent:count:buffer:)``,
/// given to ``TreeEvaluator`` as `storedBytes`), and whatever follows them (ANALYSIS, further
/// data sets, padding) by ``finish()``. SHA-256 is a chain, so blocks are hashed in file order:
/// the worker whose block is next hashes it, and every block waiting after it, while the other
/// workers go on gating; a block that arrives early waits with its buffer (the worker gets a
/// spare one), and a worker waits only when ``pendingLimit`` blocks are already waiting.
///
/// Cost: the hashing itself (about 0.7 ns per byte with the SHA extensions) on the workers'
/// cores, on bytes still in cache; no read. Memory: at most ``pendingLimit`` blocks' stored bytes.
final class SharedReadDigest: StoredBytesConsumer, @unchecked Sendable {
    static let pendingLimit = 8
    private let file: FCSFile
    private let bytesPerEvent: Int
    private let dataEnd: Int
    private let eventCount: Int
    private let condition = NSCondition()
    private var pending: [Int: (bytes: [UInt8], count: Int)] = [:]
    private var spares: [[UInt8]] = []
    private var next = 0
    private var hashing = false
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
    /// `buffer`), leaving a spare buffer in its place, and hashes every block now in order.
    /// Safe from several workers at once.
    func take(firstEvent: Int, count: Int, buffer: inout [UInt8]) {
        condition.lock()
        while pending.count >= Self.pendingLimit && firstEvent != next { condition.wait() }
        pending[firstEvent] = (buffer, count)
        buffer = spares.popLast() ?? []
        guard !hashing else {
            condition.unlock()
            return
        }
        hashing = true
        while let block = pending.removeValue(forKey: next) {
            condition.unlock()
            let length = block.count * bytesPerEvent
            block.bytes.withUnsafeBytes { hash.update(UnsafeRawBufferPointer(start: $0.baseAddress, count: length)) }
            condition.lock()
            next += block.count
            spares.append(block.bytes)
            condition.broadcast()
        }
        hashing = false
        condition.unlock()
    }

    /// The hex digest once every event was taken, after hashing the bytes that follow the
    /// events; nil when a part of the file could not be read or some events never came.
    func finish() -> String? {
        condition.lock()
        defer { condition.unlock() }
        guard !failed, next == eventCount, pending.isEmpty else { return nil }
        var offset = dataEnd
        while offset < file.size {
            let end = min(file.size, offset + (4 << 20))
            guard let chunk = try? file.bytes(offset..<end), chunk.count == end - offset else { return nil }
            hash.update(chunk)
            offset = end
        }
        return hash.finalize().map { String(format: "%02x", $0) }.joined()
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
            guard let handle = FileHandle(forReadingAtPath: path) else { return }
            defer { try? handle.close() }
            var hash = SHA256()
            while true {
                guard let chunk = try? handle.read(upToCount: 1 << 22), !chunk.isEmpty else { break }
                hash.update(chunk)
            }
            result = hash.finalize().map { String(format: "%02x", $0) }.joined()
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
