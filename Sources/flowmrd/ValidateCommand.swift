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
            """)

    @Option(help: "Aberrant fractions, comma-separated (0 makes blanks).")
    var levels = "1e-2,1e-3,1e-4,1e-5,1e-6,0"

    @Option(help: "Replicates per level.")
    var replicates = 3

    @Option(help: "Events per file.")
    var events = 2_000_000

    @Option(help: "First seed.")
    var seed: UInt64 = 1

    @Option(help: "Gating template for the MRD analysis: a path or a name in gating-templates/.")
    var template = "legend2-10color"

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
        guard replicates >= 1, events > 0 else { throw ValidationError("--replicates and --events must be positive") }
        guard parsedLevels() != nil else { throw ValidationError("--levels must be comma-separated fractions between 0 and 0.5") }
    }

    func parsedLevels() -> [Double]? {
        let values = levels.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ $0 != nil && $0! >= 0 && $0! <= 0.5 }) else { return nil }
        return values.map { $0! }
    }

    func run() throws {
        var plan = ValidationPlan()
        plan.levels = parsedLevels()!
        plan.replicates = replicates
        plan.eventsPerFile = events
        plan.seed = seed
        plan.poissonSpikes = !exactSpikes
        let analysis: ValidationAnalysis
        if truth {
            analysis = { _, truth in ValidationMeasurement(aberrant: truth.aberrantPlasmaCells, nucleated: truth.nucleatedCells) }
        } else if gatingML == nil {
            let analyzer = MRDAnalyzer(template: try GatingTemplate(path: try TemplateLocator.path(for: template)))
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
