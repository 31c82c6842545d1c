import Foundation
import Testing

/// `flowmrd bench analyze --checksum` reports the SHA-256 of the file alone beside the analysis
/// with it, so that the checksum's cost can be judged as a ratio on a machine whose speed drifts.
@Suite("flowmrd bench analyze", .enabled(if: FlowMRDBinary.path != nil, Comment(rawValue: FlowMRDBinary.missingMessage)))
struct BenchCLITests {
    @Test("with --checksum: the analysis's line, then the hash alone and the ratio; a missing file exits 1 naming it")
    func checksumRatio() throws {
        let run = try FlowMRDBinary.run(["bench", "analyze", "--events", "30000", "--checksum", "--repeats", "1"])
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        let analysis = try #require(lines.firstIndex { $0.hasPrefix("flowmrd analyze (with SHA-256): ") }, "\(run.stdout)")
        let hash = try #require(lines.firstIndex { $0.hasPrefix("SHA-256 of the file alone: ") }, "\(run.stdout)")
        #expect(hash == analysis + 1)
        // "… takes 1.23× that": a positive ratio, whatever the machine.
        let ratio = lines[hash].split(separator: " ").first { $0.hasSuffix("×") }.flatMap { Double($0.dropLast()) }
        #expect((ratio ?? 0) > 0, "\(lines[hash])")
        let plain = try FlowMRDBinary.run(["bench", "analyze", "--events", "30000", "--repeats", "1"])
        #expect(plain.status == 0 && !plain.stdout.contains("SHA-256 of the file alone"), "\(plain.stdout)")
        let missing = try FlowMRDBinary.run(["bench", "analyze", "--file", "/nonexistent/flowmrd-bench.fcs", "--checksum"])
        #expect(missing.status == 1 && missing.stderr.contains("/nonexistent/flowmrd-bench.fcs"), "\(missing.stderr)")
    }
}
