import ArgumentParser
import EventCore
import FCS
import Foundation
import HDF5Store

/// `flowmrd bench convert [FILE]`: FCS → HDF5 conversion time next to reading the same FCS file.
struct BenchConvert: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Time FCS → HDF5 conversion against a full read of the same FCS file and a plain copy's read (release build).",
        discussion: "Without FILE, a float32 file of --events × --channels is generated in the temporary directory first. The HDF5 output goes to the temporary directory and is removed. " + BenchExit.help)

    @OptionGroup var input: BenchInput

    @Option(parsing: .unconditional, help: "Timed repetitions (the median is reported).")
    var repeats = 3

    @Option(help: "HDF5 layout: flowmrd or anndata.")
    var layout: HDF5EventLayout = .flowmrd

    @Option(parsing: .unconditional, help: "Deflate level 1-9 (default: none).")
    var compression: Int?

    func validate() throws {
        try CountRange.check("--repeats", repeats, atLeast: 1)
        if let compression { try CountRange.check("--compression", Double(compression), in: 1...9) }
    }

    func run() throws {
        let (file, generated) = try input.resolve()
        let path: String? = file
        let output = NSTemporaryDirectory() + "flowmrd-bench-convert-\(ProcessInfo.processInfo.processIdentifier).h5"
        defer {
            if let generated { try? FileManager.default.removeItem(atPath: generated) }
            try? FileManager.default.removeItem(atPath: output)
        }
        let fcs = try FCSFile(path: path!)
        let reader = try fcs.reader()
        _ = try BenchRead.plainRead(path!)  // warm the page cache
        var readTimes: [Double] = [], convertTimes: [Double] = []
        for _ in 0..<max(1, repeats) {
            let t0 = ContinuousClock.now
            _ = try BenchRead.readAll(reader, Float.self, workers: ProcessInfoCores.active)
            readTimes.append(seconds(ContinuousClock.now - t0))
            try? FileManager.default.removeItem(atPath: output)
            let t1 = ContinuousClock.now
            _ = try HDF5Conversion.fcsToHDF5(fcsPath: path!, hdf5Path: output, layout: layout, compression: compression)
            convertTimes.append(seconds(ContinuousClock.now - t1))
        }
        let read = median(readTimes), convert = median(convertTimes)
        let size = (try FileManager.default.attributesOfItem(atPath: output)[.size] as? NSNumber)?.intValue ?? 0
        print("file: \(path!) — \(reader.eventCount) events × \(reader.channelCount) channels, \(fcs.size / 1_000_000) MB")
        print(String(format: "FCS read (all cores):  %.3f s  %7.1f M events/s", read, Double(reader.eventCount) / read / 1e6))
        print(String(format: "convert to HDF5:       %.3f s  %7.1f M events/s  (%@ layout, %@, %d MB written)",
                     convert, Double(reader.eventCount) / convert / 1e6, layout.rawValue,
                     compression.map { "deflate \($0) + shuffle" } ?? "no compression", size / 1_000_000))
        print(String(format: "convert speed:         %.2f of the read speed (target ≥ 0.5)", read / convert))
    }
}
