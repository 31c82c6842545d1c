import ArgumentParser
import Foundation
import Synthetic

/// `flowmrd bench synth`: generation throughput of synthetic marrow files.
struct BenchSynth: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Time writing a synthetic marrow file (release build); the file is removed afterwards.",
        discussion: BenchExit.help)

    @Option(parsing: .unconditional, help: "Events.")
    var events = 10_000_000

    @Option(parsing: .unconditional, help: "Timed repetitions (the median is reported).")
    var repeats = 3

    func validate() throws {
        try CountRange.check("--events", events, atLeast: 1)
        try CountRange.check("--repeats", repeats, atLeast: 1)
    }

    func run() throws {
        let path = NSTemporaryDirectory() + "flowmrd-bench-synth.fcs"
        let labels = NSTemporaryDirectory() + "flowmrd-bench-synth.labels"
        defer {
            try? FileManager.default.removeItem(atPath: path)
            try? FileManager.default.removeItem(atPath: labels)
        }
        var times: [Double] = []
        for _ in 0..<max(1, repeats) {
            let start = ContinuousClock.now
            try MarrowGenerator(MarrowSpecification(events: events, aberrantFraction: 1e-4, seed: 1)).write(fcsPath: path, labelsPath: labels)
            times.append(seconds(ContinuousClock.now - start))
        }
        let t = median(times)
        print(String(format: "flowmrd synth: %.2f s median of %d for %d events (%.1f M events/s), with labels", t, times.count, events, Double(events) / t / 1e6))
    }
}
