import ArgumentParser
import Foundation
import MRD
import Report

/// `flowmrd reference build NORMAL… --template T --out LAB.reference`.
struct ReferenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reference",
        abstract: "Normal-marrow references: the normal plasma-cell subsets and hemodilution levels of a lab's own normal marrows (docs/reference.md).",
        discussion: "Exit status: 0 built; 1 a file could not be read, was refused (with the reason), or the output could not be written; \(ExitHelp.usage).",
        subcommands: [ReferenceBuild.self, ReferenceLeaveOneOut.self])
}

struct ReferenceBuild: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build a reference from normal or regenerating marrows (FCS or .h5), each analysed with the template.",
        discussion: """
            A file that fails QC, is not evaluable or is called positive is refused, with the reason, and nothing \
            is written. At least \(NormalReference.minimumFiles) files are needed; a lab should use 10–20 of its own, \
            acquired on the instrument and panel it analyses. Same files (in the same order), template and software \
            give identical bytes.
            Exit status: 0 built; 1 a file could not be read or was refused, or the output could not be written; \
            \(ExitHelp.usage).
            """)

    @Argument(help: "Normal or regenerating marrow files, or folders of them.")
    var files: [String]

    @OptionGroup var sample: SampleOptions

    @Option(help: ArgumentHelp("The reference file to write.", valueName: "LAB.reference"))
    var out: String

    @Option(help: "What the reference is built from, for the file and the reports.")
    var description = "normal and regenerating marrows"

    @Flag(help: "Label the reference as built from synthetic marrows (the bundled default).")
    var synthetic = false

    @Flag(help: "Replace OUT if it exists.")
    var overwrite = false

    func validate() throws {
        if sample.reference != nil { throw ValidationError("reference build does not judge its marrows against a reference (--reference)") }
        if !overwrite && FileManager.default.fileExists(atPath: out) {
            throw ValidationError("\(out) exists; give --overwrite to replace it (nothing was built)")
        }
    }

    func run() throws {
        let paths = SampleList.expand(files)
        let builder = ReferenceBuilder(analyzer: try sample.analyzer(judged: false), description: description, synthetic: synthetic)
        let progress = Progress(enabled: !sample.quiet, total: paths.count)
        do {
            let reference = try builder.build(paths: paths, output: out) { i, path in progress.step(i, "analysing \(path)") }
            progress.finish()
            try ReportFile.write(String(decoding: try reference.encoded(), as: UTF8.self), to: out)
            print("wrote \(out): \(reference.files.count) marrows, \(reference.plasmaCells.subsets.count) normal plasma-cell subsets, content SHA-256 \(reference.contentSHA256)")
        } catch {
            progress.finish()
            CommandError.print(error)
            throw ExitCode(1)
        }
    }
}

/// `flowmrd reference leave-one-out NORMAL…`: each marrow against the reference of the others.
struct ReferenceLeaveOneOut: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "leave-one-out",
        abstract: "Check a reference's marrows: each is analysed against the reference built from all the others; none may be called positive.",
        discussion: """
            Prints one line per marrow: its call, the marrow-content score against its limit, and the largest \
            distance of a plasma-cell cluster to the normal subsets. Every marrow must be acceptable to \
            `reference build` (QC passed, negative).
            Exit status: 0 no marrow called positive; 1 at least one positive, or a file could not be read or was \
            refused; \(ExitHelp.usage).
            """)

    @Argument(help: "The normal or regenerating marrows of the reference (or folders of them).")
    var files: [String]

    @OptionGroup var sample: SampleOptions

    func validate() throws {
        if sample.reference != nil { throw ValidationError("leave-one-out builds its own references; it does not take --reference") }
    }

    func run() throws {
        let paths = SampleList.expand(files)
        let builder = ReferenceBuilder(analyzer: try sample.analyzer(judged: false), description: "leave-one-out")
        let progress = Progress(enabled: !sample.quiet, total: 2 * paths.count)
        let outcomes: [(file: String, result: MRDResult)]
        do {
            outcomes = try builder.leaveOneOut(paths: paths) { i, path in progress.step(i, (i < paths.count ? "analysing " : "judging ") + path) }
        } catch {
            progress.finish()
            CommandError.print(error)
            throw ExitCode(1)
        }
        progress.finish()
        for (file, r) in outcomes {
            let score = r.qc.marrowScore.map { String(format: "%.2f", $0) } ?? "—", limit = r.qc.marrowScoreLimit.map { String(format: "%.2f", $0) } ?? "—"
            let farthest = r.clonality?.clusters.compactMap { $0.referenceDistance?.overall }.max().map { String(format: "%.1f", $0) } ?? "—"
            print("\(file)\t\(r.call.rawValue)\tmarrow score \(score) (limit \(limit))\tfarthest cluster \(farthest) SD")
        }
        let positives = outcomes.filter { $0.result.call == .positive || $0.result.call == .positiveBelowLLOQ }.count
        print("\(outcomes.count) marrows, each against the other \(outcomes.count - 1): \(positives) called positive, "
              + "\(outcomes.filter { $0.result.call == .notEvaluable }.count) not evaluable, \(outcomes.filter { $0.result.call == .negative }.count) negative")
        if positives > 0 { throw ExitCode(1) }
    }
}
