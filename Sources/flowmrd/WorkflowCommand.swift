import ArgumentParser
import Foundation
import MRD
import Report

/// `flowmrd workflow snakemake IN --out WF`: a workflow a cluster's engine runs.
struct WorkflowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workflow",
        abstract: "Write a workflow for a workflow engine (Snakemake) that analyses a folder one job per sample.",
        discussion: "Exit status: 0 written; 1 the template or reference could not be read, or a file could not be written; \(ExitHelp.usage).",
        subcommands: [SnakemakeCommand.self])
}

struct SnakemakeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snakemake",
        abstract: "Write WF/Snakefile, WF/config.yaml and WF/profiles/{local,slurm}: one flowmrd batch --sample job per file, then --summarize.",
        discussion: """
            Run it with `snakemake -s WF/Snakefile -d WF --profile WF/profiles/local` (or profiles/slurm with \
            snakemake-executor-plugin-slurm). Results (WF/results unless --results) are the same files as \
            `flowmrd batch`. Adding files to IN makes new jobs only; changing the template or reference reruns \
            every sample; a sample that cannot be analysed fails its own job.
            Exit status: 0 written; 1 the template or reference could not be read, or a file could not be written; \
            \(ExitHelp.usage).
            """)

    @Argument(help: "The folder of event files to analyse.")
    var input: String

    @Option(help: ArgumentHelp("The workflow folder to write.", valueName: "WF_DIR"))
    var out: String

    @Option(help: ArgumentHelp("Where the jobs write results (default WF_DIR/results).", valueName: "DIR"))
    var results: String?

    @OptionGroup var templateOption: TemplateOption

    @Option(help: ArgumentHelp("A normal-marrow reference for every job.", valueName: "LAB.reference"))
    var reference: String?

    @Option(parsing: .unconditional, help: "Threads per job.")
    var threads = 2

    @Option(name: .customLong("mem-mb"), parsing: .unconditional, help: "Memory per job, MB.")
    var memoryMB = 1_024

    @Flag(help: "Replace the workflow's files if they exist.")
    var overwrite = false

    func validate() throws {
        try CountRange.check("--threads", threads, atLeast: 1)
        try CountRange.check("--mem-mb", memoryMB, atLeast: 64)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: input, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("\(input) is not a directory")
        }
    }

    func run() throws {
        func absolute(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }
        let template: GatingTemplate, referencePath: String?
        do {
            template = try templateOption.load()
            referencePath = reference ?? template.referencePath
            if let referencePath { _ = try NormalReference.load(path: referencePath, template: template) }
        } catch {
            CommandError.print(error)
            throw ExitCode(1)
        }
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
        var workflow = SnakemakeWorkflow(input: absolute(input), results: absolute(results ?? (out as NSString).appendingPathComponent("results")),
                                         template: absolute(template.path), templateSHA256: template.checksum,
                                         reference: referencePath.map(absolute), flowmrd: binary, software: MRDAnalyzer.software)
        workflow.threads = threads
        workflow.memoryMB = memoryMB
        for (name, text) in workflow.files {
            let path = (out as NSString).appendingPathComponent(name)
            do {
                try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try ReportFile.write(text, to: path, overwrite: overwrite)
            } catch let error as ReportError {
                CommandError.print(error)
                throw ExitCode(1)
            } catch {
                CommandError.print("cannot create the folder for \(path)")
                throw ExitCode(1)
            }
        }
        print("wrote \(out)/Snakefile, config.yaml and profiles/{local,slurm}; run: snakemake -s \(out)/Snakefile -d \(out) --profile \(out)/profiles/local")
    }
}
