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
        subcommands: [ReferenceBuild.self])
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
