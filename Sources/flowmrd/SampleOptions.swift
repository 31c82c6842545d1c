import ArgumentParser
import EventCore
import FCS
import Foundation
import MRD

/// The options of every command that analyses samples with a gating template (analyze, qc,
/// batch): the template, hand-mapped channels, partial reading, workers and progress.
struct SampleOptions: ParsableArguments {
    @OptionGroup var templateOption: TemplateOption

    var template: String { templateOption.template }

    @Option(name: .customLong("channel"), help: ArgumentHelp(
        "Use this channel ($PnN) for a template marker the file's labels do not name; repeatable, recorded in the result.",
        valueName: "MARKER=CHANNEL"))
    var channels: [String] = []

    @Option(help: ArgumentHelp("Judge samples against this normal-marrow reference (flowmrd reference build) instead of the one the template names, if any: hemodilution against its percentiles, every plasma-cell cluster's distance to its normal subsets.", valueName: "LAB.reference"))
    var reference: String?

    @Flag(help: "Read a truncated FCS file up to its last complete event, and the events that fit when DATA's length disagrees with $TOT × the bytes per event, instead of rejecting the file (with a warning; QC then fails when fewer events were read than $TOT).")
    var allowPartial = false

    @Option(parsing: .unconditional, help: "Worker threads (default: all cores).")
    var workers: Int?

    @Flag(help: "No progress messages.")
    var quiet = false

    func validate() throws {
        if let workers { try CountRange.check("--workers", workers, atLeast: 1) }
    }

    /// The analyzer these options describe (HDF5 stores readable), with any hemodilution limits
    /// replaced. A template that cannot be found or read, or a `--channel` it cannot take, is
    /// printed as `error: …` and ends the command with exit status 1.
    /// - Parameter judged: use the normal reference (`--reference`, or the one the template names);
    ///   false when building one.
    func analyzer(qcLimits: [String: Double] = [:], judged: Bool = true) throws -> MRDAnalyzer {
        do {
            let template = try templateOption.load()
            var analyzer = MRDAnalyzer(template: template, workers: workers ?? ProcessInfo.processInfo.activeProcessorCount).readingStores()
            analyzer.channelAssignments = try ChannelAssignments(channels, template: template)
            analyzer.readOptions = ReadOptions(allowPartialData: allowPartial)
            // The reference's limits first, so that --limit (qc) still replaces any of them.
            if judged { try analyzer.useReference(reference) }
            if !qcLimits.isEmpty { try analyzer.overrideQCLimits(qcLimits) }
            return analyzer
        } catch {
            CommandError.print(error)
            throw ExitCode(1)
        }
    }
}

/// `--template`, for every command that runs the MRD engine (analyze, qc, batch, validate, bench analyze).
struct TemplateOption: ParsableArguments {
    @Option(help: "Gating template: a path, or a name in $FLOWMRD_TEMPLATES or gating-templates/.")
    var template = "legend2-10color"

    /// The template, found and checked (``TemplateLocator``).
    func load() throws(MRDError) -> GatingTemplate { try TemplateLocator.template(template) }
}

/// The range checks of numeric options, as errors that name the option, the range and the value.
enum CountRange {
    static func check<T: Comparable & CustomStringConvertible>(_ option: String, _ value: T, atLeast minimum: T) throws {
        guard value >= minimum else { throw ValidationError("\(option) must be at least \(minimum) (got \(value))") }
    }

    static func check(_ option: String, _ value: Double, in range: ClosedRange<Double>) throws {
        guard value.isFinite, range.contains(value) else {
            throw ValidationError("\(option) must be between \(range.lowerBound.formatted()) and \(range.upperBound.formatted()) (got \(value.formatted()))")
        }
    }
}

extension Double {
    /// Shortest form: 1e-05 → "1e-05", 0.5 → "0.5", 2 → "2".
    func formatted() -> String { String(format: "%g", self) }
}

/// Errors printed the one way every command prints them: `error: …` on standard error.
enum CommandError {
    static func print(_ error: any Error) {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    }

    static func print(_ message: String) {
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    }

    /// A line on standard error that is not an error (a note about an output written).
    static func printLine(_ message: String) {
        FileHandle.standardError.write(Data("\(message)\n".utf8))
    }
}

/// The exit status every command shares, for its help.
enum ExitHelp {
    static let usage = "64 the command line is invalid (the message names the option)"
}
