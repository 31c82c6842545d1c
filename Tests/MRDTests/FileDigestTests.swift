import Foundation
import Testing
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
}
