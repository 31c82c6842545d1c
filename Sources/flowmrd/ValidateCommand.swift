import Report
import ArgumentParser
import Cytometry
import FCS
import Foundation
import MRD
import Synthetic

/// `flowmrd validate`: a spike-in dilution series through an analysis, with CLSI H62-style statistics.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Run a synthetic spike-in dilution series through an analysis; report recovery, CV, linearity, LoB, LOD, LLOQ.",
        discussion: """
            The analysis is the MRD engine with a gating template (default legend2-10color; --template), plain gate \
            counts from a Gating-ML file (--gating-ml with --aberrant-gate and --nucleated-gate), or the files' own \
            truth (--truth, a self-check of the statistics). Exits with status 1 when an acceptance criterion fails.

            --matrix runs the validation matrix instead (docs/validation.md): every condition of the realistic-marrow \
            generator × MRD levels × seeds through the MRD engine, with a confusion table per condition, the \
            false-positive rate and its exact 95% interval, sensitivity, recovery, and every wrong call with the \
            `flowmrd synth` options that regenerate its file. Exits with status 1 when any call is wrong.

            Exit status: 0 every criterion met; 1 a criterion failed (a wrong call with --matrix), or a file \
            could not be read or written; \(ExitHelp.usage).
            """)

    @Option(help: "Aberrant fractions, comma-separated (0 makes blanks). Default 1e-2,1e-3,1e-4,1e-5,1e-6,0; with --matrix 0,1e-5,1e-4,1e-3,1e-2.")
    var levels: String?

    @Flag(help: "Run the validation matrix (conditions × levels × seeds) instead of a dilution series.")
    var matrix = false

    @Option(parsing: .unconditional, help: "With --matrix: seeds per condition and level.")
    var seeds = 4

    @Option(help: ArgumentHelp("With --matrix: conditions, comma-separated (default all).",
                               discussion: "Conditions: \(MatrixCondition.all.map(\.name).joined(separator: ", "))."))
    var conditions: String?

    @Option(parsing: .unconditional, help: "With --matrix: events per file for levels below 5e-5.")
    var lowLevelEvents = 5_000_000

    @Option(help: "With --matrix: a folder for matrix.md, matrix.tsv and matrix.json.")
    var out: String?

    @Option(parsing: .unconditional, help: "Replicates per level.")
    var replicates = 3

    @Option(parsing: .unconditional, help: "Events per file.")
    var events = 2_000_000

    @Option(parsing: .unconditional, help: "First seed (default 1; with --matrix 14000).")
    var seed: UInt64?

    @OptionGroup var templateOption: TemplateOption

    @Option(help: ArgumentHelp("With --matrix: judge every file against this normal-marrow reference.", valueName: "LAB.reference"))
    var reference: String?

    @Option(name: .customLong("gating-ml"), help: "Gating-ML file whose gate counts are the analysis.")
    var gatingML: String?

    @Option(help: "Gate id counting aberrant plasma cells (with --gating-ml).")
    var aberrantGate: String?

    @Option(help: "Gate id counting nucleated cells, the denominator (with --gating-ml).")
    var nucleatedGate: String?

    @Flag(help: "Use each file's truth as the measurement (checks the statistics, not an analysis).")
    var truth = false

    @Flag(help: "Spike exactly the level's count in every replicate (default: a Poisson draw around it, as a real spike-in).")
    var exactSpikes = false

    @Flag(help: "Normal plasma cells of the majority phenotype only (no CD19−, CD45 dim, CD56+, CD27 dim or CD81 dim subsets), as the old generator had them.")
    var uniformNormals = false

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @Option(help: "Directory for the temporary series files (default: the system's temporary directory).")
    var workDirectory: String?

    @Flag(help: "No progress lines.")
    var quiet = false

    func validate() throws {
        if truth && gatingML != nil { throw ValidationError("choose one analysis: the MRD template (default), --gating-ml GATES.xml or --truth") }
        if gatingML != nil && (aberrantGate == nil || nucleatedGate == nil) {
            throw ValidationError("--gating-ml needs --aberrant-gate and --nucleated-gate")
        }
        guard replicates >= 1, events > 0, seeds >= 1, lowLevelEvents > 0 else {
            throw ValidationError("--replicates, --seeds, --events and --low-level-events must be positive")
        }
        guard parsedLevels() != nil else { throw ValidationError("--levels must be comma-separated fractions between 0 and 0.5") }
        if matrix && (truth || gatingML != nil) { throw ValidationError("--matrix runs the MRD engine; it does not take --truth or --gating-ml") }
        if let unknown = parsedConditions().unknown { throw ValidationError("--conditions: unknown condition \"\(unknown)\"; expected one of \(MatrixCondition.all.map(\.name).joined(separator: ", "))") }
    }

    func parsedConditions() -> (conditions: [MatrixCondition], unknown: String?) {
        guard let conditions else { return (MatrixCondition.all, nil) }
        var result: [MatrixCondition] = []
        for name in conditions.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            guard let c = MatrixCondition.named(name) else { return ([], name) }
            result.append(c)
        }
        return (result, nil)
    }

    func parsedLevels() -> [Double]? {
        let values = (levels ?? (matrix ? "0,1e-5,1e-4,1e-3,1e-2" : "1e-2,1e-3,1e-4,1e-5,1e-6,0")).split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ $0 != nil && $0! >= 0 && $0! <= 0.5 }) else { return nil }
        return values.map { $0! }
    }

    func run() throws {
        if matrix { return try runMatrix() }
        var plan = ValidationPlan()
        plan.levels = parsedLevels()!
        plan.replicates = replicates
        plan.eventsPerFile = events
        plan.seed = seed ?? 1
        plan.poissonSpikes = !exactSpikes
        plan.uniformNormals = uniformNormals
        let analysis: ValidationAnalysis
        if truth {
            analysis = { _, truth in ValidationMeasurement(aberrant: truth.aberrantPlasmaCells, nucleated: truth.nucleatedCells) }
        } else if gatingML == nil {
            let analyzer = MRDAnalyzer(template: try templateOption.load()).readingStores()
            analysis = { path, _ in
                let result = try analyzer.analyze(path: path)
                return ValidationMeasurement(aberrant: result.aberrantPC.count, nucleated: result.nucleatedCells)
            }
        } else {
            let tree = try GatingMLImport.read(path: gatingML!)
            for id in [aberrantGate!, nucleatedGate!] where tree.gate(id) == nil {
                throw ValidationError("gate \"\(id)\" is not in \(gatingML!)")
            }
            let aberrantID = aberrantGate!, nucleatedID = nucleatedGate!
            analysis = { path, _ in
                let result = try TreeEvaluator(tree: tree).evaluate(file: try FCSFile(path: path))
                return ValidationMeasurement(aberrant: result.count(aberrantID) ?? 0, nucleated: result.count(nucleatedID) ?? 0)
            }
        }
        let directory = workDirectory ?? NSTemporaryDirectory()
        let showProgress = !quiet && isatty(STDERR_FILENO) != 0
        let report = try ValidationSeries(plan: plan).run(directory: directory, analysis: analysis) { line in
            if showProgress { FileHandle.standardError.write(Data((line + "\n").utf8)) }
        }
        print(json ? try StableJSON.encode(report) : report.text)
        if !report.passed { throw ExitCode(1) }
    }
}
