import Report
import ArgumentParser
import Foundation
import Synthetic

/// `flowmrd synth OUT.fcs`: a synthetic marrow file with known truth.
struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Write a synthetic lysed bone-marrow FCS 3.1 file (LEGEND-2 panel) with per-event truth.",
        discussion: """
            Beside OUT.fcs it writes OUT.labels (one population code byte per event) and OUT.truth.json \
            (counts per population, nucleated cells, aberrant plasma cells, MRD %). The same options and \
            seed give byte-identical files.
            Exit status: 0 written; 1 a file could not be written; \(ExitHelp.usage), an existing \
            output without --overwrite included.
            """)

    @Argument(help: "The FCS file to write.")
    var output: String

    @Option(parsing: .unconditional, help: "Events in the file.")
    var events = 1_000_000

    @Option(parsing: .unconditional, help: "Aberrant plasma cells as a fraction of nucleated cells (e.g. 1e-4; 0 for none).")
    var mrd = 0.0

    @Option(parsing: .unconditional, help: "An exact number of aberrant plasma cells (overrides --mrd).")
    var aberrantCount: Int?

    @Option(parsing: .unconditional, help: "Random seed.")
    var seed: UInt64 = 1

    @Option(parsing: .unconditional, help: "Hemodilution, 0 (none) to 0.95.")
    var hemodilution = 0.0

    @Option(help: "Light chain of the clone: kappa or lambda.")
    var lightChain: String = "kappa"

    @Option(help: ArgumentHelp("Phenotype of the clone relative to normal plasma cells, e.g. \"CD19-,CD56++,CD117+\", or random.",
                               discussion: """
                                   Levels: - negative, dim, + positive, ++ bright, = as normal plasma cells, @-0.3 / @+0.4 a shift \
                                   in decades from the normal level. Unnamed markers keep the normal level. Default: \
                                   CD19-,CD56++,CD45-,CD27dim,CD81dim,CD38dim. Examples: \
                                   \(AberrantPhenotype.examples.map { "\($0.text) (\($0.meaning))" }.joined(separator: "; ")).
                                   """))
    var phenotype: String?

    @Option(parsing: .unconditional, help: "How far (decades) the clone's dim or bright markers lie from the normal level (default: drawn 0.5–1.3 per marker).")
    var cloneShift: Double?

    @Option(parsing: .unconditional, help: "The clone's spread on every marker, decades of SD (default: drawn 0.12–0.35 per marker).")
    var cloneSpread: Double?

    @Option(parsing: .unconditional, help: "How far (decades, −3 to 1) the clone's light chain lies from the normal plasma cells' level; negative is dimmer (default: the normal level).")
    var cloneLightChainShift: Double?

    @Option(parsing: .unconditional, help: "Normal plasma cells as % of nucleated cells before hemodilution, 0–5 (default: drawn 0.1–5).")
    var normalPc: Double?

    @Option(name: .customLong("normal-subset"), help: ArgumentHelp(
        "Fix the share (0–1) of normal plasma cells with a trait, as TRAIT=SHARE; repeatable.",
        discussion: "Traits: \(NormalPlasmaCellTrait.allCases.map(\.key).joined(separator: ", ")). Shares not fixed are drawn from published ranges (docs/synthetic.md)."))
    var normalSubsets: [String] = []

    @Flag(help: "All normal plasma cells of the majority phenotype (every subset share 0): the old uniform model, not realistic marrow.")
    var uniformNormals = false

    @Option(parsing: .unconditional, help: "κ:λ of normal plasma cells (default: drawn 1.2–2.2).")
    var kappaLambda: Double?

    @Flag(help: "Anti-CD38 antibody masking: the CD38 signal of every cell scaled down (drawn 1–2 decades).")
    var antiCd38 = false

    @Flag(help: "After BCMA CAR-T: no normal plasma cells (a residual clone only with --mrd or --aberrant-count).")
    var postCarT = false

    @Flag(help: "Regenerating marrow: B-cell precursors 8–25% of nucleated cells.")
    var regenerating = false

    @Option(help: ArgumentHelp("A technical fault; repeatable.",
                               discussion: "dead:MARKER (the detector reads 0), nan:MARKER[:FRACTION] (NaN values), stain:MARKER=LABEL (a contradicting $PnS)."))
    var fault: [String] = []

    @Option(help: "Flow profile: stable, clog or burst.")
    var flow: String = "stable"

    @Flag(help: "Replace OUT.fcs, OUT.labels and OUT.truth.json if they exist (without this, an existing file is an error and is left as it is).")
    var overwrite = false

    @Flag(help: "No summary line.")
    var quiet = false

    /// OUT.fcs, OUT.labels, OUT.truth.json.
    var outputs: (fcs: String, labels: String, truth: String) {
        let companions = MarrowGenerator.companionPaths(of: output)
        return (output, companions.labels, companions.truth)
    }

    func specification() throws -> MarrowSpecification {
        guard let chain = LightChain(rawValue: lightChain) else { throw ValidationError("--light-chain must be kappa or lambda") }
        guard let profile = FlowProfile(rawValue: flow) else { throw ValidationError("--flow must be stable, clog or burst") }
        var shares: [String: Double] = [:]
        for entry in normalSubsets {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let share = Double(parts[1]) else { throw ValidationError("--normal-subset expects TRAIT=SHARE, got \"\(entry)\"") }
            shares[parts[0]] = share
        }
        let clone: AberrantPhenotype?
        do { clone = try phenotype.map { try AberrantPhenotype($0) } } catch { throw ValidationError("--phenotype: \(error)") }
        let faults: [TechnicalFault]
        do { faults = try fault.map { try TechnicalFault($0) } } catch { throw ValidationError("--fault: \(error)") }
        let specification = MarrowSpecification(
            events: events, aberrantFraction: mrd, aberrantCount: aberrantCount, seed: seed, hemodilution: hemodilution,
            lightChain: chain, aberrantPhenotype: clone, flow: profile, normalPlasmaCellPercent: normalPc, normalTraitShares: shares,
            kappaLambdaRatio: kappaLambda, cloneShift: cloneShift, cloneSpread: cloneSpread,
            cloneLightChainShift: cloneLightChainShift, antiCD38: antiCd38, postCART: postCarT,
            regenerating: regenerating, faults: faults)
        do { try specification.validate() } catch { throw ValidationError("\(error)") }
        if uniformNormals {
            guard normalSubsets.isEmpty else { throw ValidationError("--uniform-normals and --normal-subset contradict each other") }
            return specification.uniformNormals()
        }
        return specification
    }

    func validate() throws {
        try CountRange.check("--events", events, atLeast: 1)
        if let aberrantCount { try CountRange.check("--aberrant-count", aberrantCount, atLeast: 0) }
        _ = try specification()
        if !overwrite, let existing = [outputs.fcs, outputs.labels, outputs.truth].first(where: { FileManager.default.fileExists(atPath: $0) }) {
            throw ValidationError("\(existing) exists; give --overwrite to replace it (nothing was written)")
        }
    }

    func run() throws {
        let specification = try specification()
        let truth: MarrowTruth
        do {
            truth = try MarrowGenerator(specification).write(fcsPath: outputs.fcs, labelsPath: outputs.labels)
            try ReportFile.write(try StableJSON.encode(truth), to: outputs.truth)
        } catch {
            CommandError.print(error)
            throw ExitCode(1)
        }
        if !quiet {
            let mrd = String(format: "%.4g", truth.mrdPercent)
            print("wrote \(output): \(events) events, \(truth.nucleatedCells) nucleated, \(truth.counts["normal-plasma-cell"] ?? 0) normal and \(truth.aberrantPlasmaCells) aberrant plasma cells (MRD \(mrd)%), clone \(truth.parameters.clonePhenotype)")
        }
    }
}
