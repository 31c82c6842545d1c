import Foundation
import Testing
import FCS
import TestSupport
@testable import MRD
@testable import Synthetic

/// The file checksum the full pass computes from its own reads, against Python's hashlib
/// reading the whole file.
@Suite("File checksum from the full pass")
struct FileDigestTests {
    let directory = TemporaryDirectory()

    func hashlib(_ path: String) throws -> String? {
        guard Python.hasModule("hashlib") else { return nil }
        let run = try Python.run(["-c", "import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],'rb').read()).hexdigest())", path])
        return String(decoding: run.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("head, every block in order and bytes after the events; the same with 1, 2 and 7 workers", arguments: [1, 2, 7])
    func sharedRead(workers: Int) throws {
        let path = directory.path("padded.fcs")
        _ = try MarrowGenerator(MarrowSpecification(events: 70_001, seed: 71)).write(fcsPath: path)
        // Bytes after the data segment, which no event read covers.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data((0..<3_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }))
        try handle.close()
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let result = try MRDAnalyzer(template: AnalysisTests.template, workers: workers).analyze(path: path)
        #expect(result.fileSHA256 == SHA256.hex(bytes))
        if let independent = try hashlib(path) {
            #expect(result.fileSHA256 == independent)
        } else {
            Issue.record("python3 with hashlib is missing: the checksum was not cross-checked")
        }
        var off = MRDAnalyzer(template: AnalysisTests.template, workers: workers)
        off.computeChecksum = false
        #expect(try off.analyze(path: path).fileSHA256 == nil)
    }

    @Test("blocks taken out of order by two workers: whoever finds the next block waiting hashes it, finish() the rest")
    func outOfOrderTakes() throws {
        let path = directory.path("order.fcs")
        _ = try MarrowGenerator(MarrowSpecification(events: 40_000, seed: 72)).write(fcsPath: path)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let file = try FCSFile(path: path)
        let set = file.fcsDataSets[0]
        let block = 3_000
        func take(_ digest: SharedReadDigest, worker: Int, block b: Int) {
            let first = b * block, count = min(block, set.eventCount - first)
            let start = set.dataBegin + first * set.bytesPerEvent
            var buffer = Array(bytes[start..<(start + count * set.bytesPerEvent)])
            digest.take(worker: worker, firstEvent: first, count: count, buffer: &buffer)
        }
        let blocks = (set.eventCount + block - 1) / block
        #expect(blocks == 14)
        // Worker 1 leaves blocks 1–7 waiting (not next: none hashed); worker 0 then brings block 0
        // and hashes it and worker 1's 1–7 after it; blocks 8–13 come in order.
        let digest = SharedReadDigest(file: file, dataSet: 0)
        for b in 1...7 { take(digest, worker: 1, block: b) }
        take(digest, worker: 0, block: 0)
        take(digest, worker: 0, block: 8)
        take(digest, worker: 1, block: 9)
        for b in 10..<blocks { take(digest, worker: b % 2, block: b) }
        #expect(digest.finish() == SHA256.hex(bytes))
        // Worker 1's last block (13) arrives before 12 and its worker never calls again:
        // worker 0 hashes its own 12 and then 13.
        let last = SharedReadDigest(file: file, dataSet: 0)
        for b in 0..<12 { take(last, worker: 0, block: b) }
        take(last, worker: 1, block: 13)
        take(last, worker: 0, block: 12)
        #expect(last.finish() == SHA256.hex(bytes))
        // A block missing: no digest.
        let missing = SharedReadDigest(file: file, dataSet: 0)
        for b in 0..<blocks where b != 10 { take(missing, worker: 0, block: b) }
        #expect(missing.finish() == nil)
    }
}
