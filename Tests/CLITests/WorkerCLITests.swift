import Foundation
import Testing

/// The analysis's output does not depend on how many workers ran it: the blocks reach the
/// workers in no fixed order, and the gate counts, time bins, plasma-cell rows and the checksum
/// built from the pass's reads must all come out the same.
@Suite("flowmrd analyze with 1, 2 and 3 workers", .enabled(if: FlowMRDBinary.path != nil, Comment(rawValue: FlowMRDBinary.missingMessage)))
struct WorkerCLITests {
    @Test("byte-identical JSON, checksum included, on a positive sample with a flow burst")
    func workersIdentical() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("flowmrd-workers-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let fcs = root.appendingPathComponent("burst.fcs").path
        let synth = try FlowMRDBinary.run(["synth", fcs, "--events", "300000", "--mrd", "2e-3", "--seed", "77", "--flow", "burst", "--quiet"])
        #expect(synth.status == 0, "\(synth.stderr)")
        var outputs: [Int: String] = [:]
        for workers in [1, 2, 3] {
            let run = try FlowMRDBinary.run(["analyze", fcs, "--json", "--quiet", "--workers", "\(workers)"])
            // 10 = positive (the exit codes follow the call).
            #expect(run.status == 10, "\(workers) workers: \(run.stderr)")
            outputs[workers] = run.stdout
        }
        #expect(outputs[1] == outputs[2] && outputs[2] == outputs[3])
        let json = try #require(outputs[1])
        #expect(json.contains("\"file_sha256\" : \"") && json.contains("\"call\" : \"positive\""), "\(json.prefix(400))")
        #expect(json.contains("\"excluded_events\" : ") && !json.contains("\"excluded_events\" : 0,"), "the burst is excluded by the time gate")
    }

    @Test("the default number of workers is the CPU affinity (taskset, cpusets, SLURM), not every online core",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/taskset"), "taskset (util-linux) is not installed"))
    func defaultWorkersFollowAffinity() throws {
        // The CPUs this process may run on, read from /proc (ranges such as "0-3,8"): the first
        // one to pin to, and how many there are.
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let list = try #require(status.split(separator: "\n").first { $0.hasPrefix("Cpus_allowed_list:") })
            .dropFirst("Cpus_allowed_list:".count).trimmingCharacters(in: .whitespaces)
        var allowed: [Int] = []
        for part in list.split(separator: ",") {
            let bounds = part.split(separator: "-").compactMap { Int($0) }
            if let low = bounds.first { allowed += Array(low...(bounds.last ?? low)) }
        }
        let first = try #require(allowed.first, "Cpus_allowed_list: \(list)")
        let pinned = try FlowMRDBinary.shell(["/usr/bin/taskset", "-c", "\(first)", FlowMRDBinary.path!, "bench", "read", "--events", "20000", "--repeats", "1"])
        #expect(pinned.status == 0, "\(pinned.stderr)")
        #expect(pinned.stdout.contains("(1 workers,"), "\(pinned.stdout)")
        let free = try FlowMRDBinary.run(["bench", "read", "--events", "20000", "--repeats", "1"])
        #expect(free.stdout.contains("(\(allowed.count) workers,"), "\(free.stdout)")
    }
}
