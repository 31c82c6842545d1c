import ArgumentParser
import Foundation
import MRD
import Report
import Synthetic

/// `flowmrd bench analyze`: the whole MRD analysis of a synthetic marrow file.
struct BenchAnalyze: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Time the MRD analysis of a synthetic marrow file (release build); peak memory is reported too.",
        discussion: "The file is generated once (MRD 1e-4, seed 1) unless --file is given, and removed afterwards. " + BenchExit.help)

    @Option(parsing: .unconditional, help: "Events in the generated file.")
    var events = 10_000_000

    @Option(help: "Analyse this file instead of generating one.")
    var file: String?

    @OptionGroup var templateOption: TemplateOption

    @Option(help: ArgumentHelp("Judge the file against this normal reference, as analyze --reference does.", valueName: "LAB.reference"))
    var reference: String?

    @Option(parsing: .unconditional, help: "Timed repetitions (the median is reported).")
    var repeats = 3

    @Flag(help: "Also compute the file's SHA-256, as `analyze` does by default, and time the SHA-256 of the file alone (one core) for the ratio.")
    var checksum = false

    @Flag(help: "Also bin the report's dot plots and render the HTML report, as `analyze --report` does.")
    var report = false

    func validate() throws {
        try CountRange.check("--events", events, atLeast: 1)
        try CountRange.check("--repeats", repeats, atLeast: 1)
    }

    func run() throws {
        let generated = NSTemporaryDirectory() + "flowmrd-bench-analyze.fcs"
        let path = file ?? generated
        if file == nil {
            try MarrowGenerator(MarrowSpecification(events: events, aberrantFraction: 1e-4, seed: 1)).write(fcsPath: path)
        }
        defer { if file == nil { try? FileManager.default.removeItem(atPath: generated) } }
        let template = try templateOption.load()
        var analyzer = MRDAnalyzer(template: template).readingStores()
        try analyzer.useReference(reference)
        analyzer.computeChecksum = checksum
        var times: [Double] = []
        var result: MRDResult?
        var reportBytes = 0
        for _ in 0..<max(1, repeats) {
            let start = ContinuousClock.now
            if report {
                let analysis = try analyzer.analyzeWithPlots(path: path)
                reportBytes = HTMLReport.render(analysis).utf8.count
                result = analysis.result
            } else {
                result = try analyzer.analyze(path: path)
            }
            times.append(seconds(ContinuousClock.now - start))
        }
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let t = median(times)
        let r = result!
        if report { print(String(format: "HTML report: %.2f MB", Double(reportBytes) / 1e6)) }
        print(String(format: "flowmrd analyze%@: %.2f s median of %d for %d events (%.1f M events/s) on %d cores; peak RSS %.1f MB; call %@, aberrant %d of %d nucleated",
                     checksum ? " (with SHA-256)" : report ? " --report" : "", t, times.count, r.totalEvents, Double(r.totalEvents) / t / 1e6, ProcessInfo.processInfo.activeProcessorCount,
                     Double(usage.ru_maxrss) / 1024, r.call.rawValue, r.aberrantPC.count, r.nucleatedCells))
        if checksum {
            // The hash is one chain: its time alone on one core is the floor under the analysis
            // with it, and the ratio holds across a machine's fast and slow hours.
            var hashTimes: [Double] = []
            for _ in 0..<max(1, repeats) {
                let start = ContinuousClock.now
                guard SHA256.hex(ofFileAt: path) != nil else { throw BenchExit.unreadable(path) }
                hashTimes.append(seconds(ContinuousClock.now - start))
            }
            let h = median(hashTimes)
            print(String(format: "SHA-256 of the file alone: %.2f s median of %d on one core; the analysis with it takes %.2f× that", h, hashTimes.count, t / h))
        }
    }
}
