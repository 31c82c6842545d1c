import ArgumentParser
import EventCore
import FCS
import HDF5Store
import Foundation
import Synthetic
import Synchronization

/// `flowmrd bench …`: throughput measurements, meant for release builds.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure throughput (use a release build: swift build -c release).",
        discussion: BenchExit.help,
        subcommands: [BenchRead.self, BenchGate.self, BenchSynth.self, BenchAnalyze.self, BenchConvert.self, BenchMakeFile.self])
}

/// `flowmrd bench read [FILE]`: streaming read throughput, next to a plain sequential read of the same bytes.
struct BenchRead: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "read",
        abstract: "Read every event of a file through the block reader on all cores; print events/s and MB/s.",
        discussion: "Without FILE, a float32 file of --events × --channels is generated in the temporary directory first. " + BenchExit.help)

    @OptionGroup var input: BenchInput

    @Option(parsing: .unconditional, help: "Timed repetitions (the median is reported).")
    var repeats = 5

    @Option(parsing: .unconditional, help: "Events per block.")
    var blockSize = FCSEventReader.defaultBlockSize

    @Option(name: .customLong("workers"), parsing: .unconditional, help: "Reading threads (default: this machine's cores).")
    var workerOption: Int?

    var workers: Int { workerOption ?? ProcessInfoCores.active }

    @Flag(help: "Decode into Double instead of Float.")
    var double = false

    func validate() throws {
        try CountRange.check("--repeats", repeats, atLeast: 1)
        try CountRange.check("--block-size", blockSize, atLeast: 1)
        if let workerOption { try CountRange.check("--workers", workerOption, atLeast: 1) }
    }

    func run() throws {
        let (file, generated) = try input.resolve()
        let path: String? = file
        defer { if let generated, ProcessInfo.processInfo.environment["FLOWMRD_KEEP_BENCH_FILE"] == nil { try? FileManager.default.removeItem(atPath: generated) } }
        let fcs = try EventFile.open(path!)
        let reader = try fcs.eventReader(dataSet: nil, blockSize: blockSize)
        let bytes = reader.eventCount * reader.dataSet.storage.bytesPerEvent

        // Warm the page cache, then time.
        _ = try Self.plainRead(path!)
        var readTimes: [Double] = []
        var plainTimes: [Double] = []
        for _ in 0..<max(1, repeats) {
            let t0 = ContinuousClock.now
            _ = double ? try Self.readAll(reader, Double.self, workers: workers) : try Self.readAll(reader, Float.self, workers: workers)
            readTimes.append(seconds(ContinuousClock.now - t0))
            let t1 = ContinuousClock.now
            _ = try Self.plainRead(path!)
            plainTimes.append(seconds(ContinuousClock.now - t1))
        }
        let read = median(readTimes), plain = median(plainTimes)
        print("file: \(path!) — \(reader.eventCount) events × \(reader.channelCount) channels, \(bytes / 1_000_000) MB of events")
        print(String(format: "flowmrd read:   %.3f s  %7.1f M events/s  %7.0f MB/s  (%d workers, blocks of %d, %@)",
                     read, Double(reader.eventCount) / read / 1e6, Double(bytes) / read / 1e6, workers, reader.blockSize,
                     double ? "Double" : "Float"))
        print(String(format: "plain read(2):  %.3f s  %7.0f MB/s  (sequential 1 MiB reads of the whole file, like cat)",
                     plain, Double(fcs.size) / plain / 1e6))
        print(String(format: "ratio:          %.2f× the plain read", read / plain))
    }

    /// Reads every event on `workers` threads (summing one column so nothing is optimised away).
    static func readAll<S: EventScalar>(_ reader: any EventReader, _ type: S.Type, workers: Int) throws -> Double {
        let sums = Mutex<Double>(0)
        try reader.forEachBlock(as: S.self, workers: workers) { _, block in
            var local: S = 0
            block.withColumn(0) { column in for v in column { local += v } }
            sums.withLock { $0 += Double(local) }
        }
        return sums.withLock { $0 }
    }

    /// Reads the whole file sequentially in 1 MiB pieces, like cat.
    static func plainRead(_ path: String) throws -> Int {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ValidationError("cannot open \(path)") }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var total = 0
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n <= 0 { break }
            total += n
        }
        return total
    }
}

/// `flowmrd bench make-file OUT`: writes the benchmark file, so `cat` and peers can be timed on the same bytes.
struct BenchMakeFile: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "make-file",
        abstract: "Write a float32 FCS 3.1 file of uniform noise (fixed seed) for benchmarks and smoke tests.",
        discussion: BenchExit.help)

    @Argument(help: "Output path.")
    var output: String

    @Option(parsing: .unconditional, help: "Events.")
    var events = 10_000_000

    @Option(parsing: .unconditional, help: "Channels (ignored with --panel legend2, which has 14).")
    var channels = 14

    @Option(help: "Channel names: 'numbered' (CH1…) or 'legend2' (the LEGEND-2 ten-colour panel).")
    var panel = "numbered"

    @Flag(help: "With --panel legend2: write a $SPILLOVER matrix over the ten fluorescence channels.")
    var spillover = false

    func validate() throws {
        try CountRange.check("--events", events, atLeast: 1)
        try CountRange.check("--channels", channels, atLeast: 1)
    }

    func run() throws {
        let descriptions: [FCSChannelDescription]
        switch panel {
        case "numbered": descriptions = (1...max(1, channels)).map { FCSChannelDescription(name: "CH\($0)", range: 262_144) }
        case "legend2": descriptions = LegendPanel.channels
        default: throw ValidationError("--panel must be 'numbered' or 'legend2'")
        }
        try NoiseFile.write(path: output, events: events, channels: descriptions,
                                spillover: spillover && panel == "legend2" ? LegendPanel.spillover : nil)
        print("wrote \(output): \(events) events × \(descriptions.count) channels")
    }
}

/// The file a bench reads: the one given, or a float32 noise file of --events × --channels
/// generated in the temporary directory (removed afterwards by the caller).
struct BenchInput: ParsableArguments {
    @Argument(help: "The file to read (FCS, or an HDF5 event store where the bench allows). Omit to generate an FCS file.")
    var file: String?

    @Option(parsing: .unconditional, help: "Events in the generated file.")
    var events = 10_000_000

    @Option(parsing: .unconditional, help: "Channels in the generated file.")
    var channels = 14

    func validate() throws {
        try CountRange.check("--events", events, atLeast: 1)
        try CountRange.check("--channels", channels, atLeast: 1)
    }

    /// The path to use, and the generated file's path when one was written.
    func resolve() throws -> (String, String?) {
        if let file { return (file, nil) }
        let target = NSTemporaryDirectory() + "flowmrd-bench-\(ProcessInfo.processInfo.processIdentifier)-\(events)x\(channels).fcs"
        let start = ContinuousClock.now
        try NoiseFile.write(path: target, events: events, channels: channels)
        print("generated \(target): \(events) events × \(channels) channels float32 in \(format(ContinuousClock.now - start))")
        return (target, target)
    }
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
}

func format(_ duration: Duration) -> String { String(format: "%.2f s", seconds(duration)) }

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? .nan : sorted[sorted.count / 2]
}

/// The exit status of every bench command, for its help.
enum BenchExit {
    static let help = "Exit status: 0 measured; 1 a file could not be read or written; \(ExitHelp.usage)."

    /// A file a bench command could not read (exit status 1).
    struct Unreadable: Error, CustomStringConvertible {
        let path: String
        var description: String { "cannot read \(path)" }
    }

    static func unreadable(_ path: String) -> Unreadable { Unreadable(path: path) }
}
