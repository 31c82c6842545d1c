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
            """)

    @Argument(help: "The FCS file to write.")
    var output: String

    @Option(help: "Events in the file.")
    var events = 1_000_000

    @Option(help: "Aberrant plasma cells as a fraction of nucleated cells (e.g. 1e-4; 0 for none).")
    var mrd = 0.0

    @Option(help: "An exact number of aberrant plasma cells (overrides --mrd).")
    var aberrantCount: Int?

    @Option(help: "Random seed.")
    var seed: UInt64 = 1

    @Option(help: "Hemodilution, 0 (none) to 0.95.")
    var hemodilution = 0.0

    @Option(help: "Light chain of the clone: kappa or lambda.")
    var lightChain: String = "kappa"

    @Option(help: ArgumentHelp("Phenotype of the clone relative to normal plasma cells, e.g. \"CD19-,CD56++,CD117+\".",
                               discussion: "Levels: - negative, dim, + positive, ++ bright, = as normal plasma cells. Default: CD19-,CD56++,CD45-,CD27dim,CD81dim,CD38dim."))
    var phenotype: String?

    @Option(help: "Flow profile: stable, clog or burst.")
    var flow: String = "stable"

    @Flag(help: "No summary line.")
    var quiet = false

    func validate() throws {
        guard events > 0 else { throw ValidationError("--events must be positive") }
        guard mrd >= 0 && mrd <= 0.5 else { throw ValidationError("--mrd must be between 0 and 0.5") }
        guard (0...0.95).contains(hemodilution) else { throw ValidationError("--hemodilution must be between 0 and 0.95") }
        guard LightChain(rawValue: lightChain) != nil else { throw ValidationError("--light-chain must be kappa or lambda") }
        guard FlowProfile(rawValue: flow) != nil else { throw ValidationError("--flow must be stable, clog or burst") }
        if let aberrantCount, aberrantCount < 0 { throw ValidationError("--aberrant-count must not be negative") }
        if let phenotype {
            do { _ = try AberrantPhenotype(phenotype) } catch { throw ValidationError("--phenotype: \(error)") }
        }
    }

    func run() throws {
        let specification = MarrowSpecification(
            events: events, aberrantFraction: mrd, aberrantCount: aberrantCount, seed: seed, hemodilution: hemodilution,
            lightChain: LightChain(rawValue: lightChain)!, aberrantPhenotype: try phenotype.map { try AberrantPhenotype($0) },
            flow: FlowProfile(rawValue: flow)!)
        let base = output.hasSuffix(".fcs") ? String(output.dropLast(4)) : output
        let truth = try MarrowGenerator(specification).write(fcsPath: output, labelsPath: base + ".labels")
        try StableJSON.encode(truth).write(toFile: base + ".truth.json", atomically: true, encoding: .utf8)
        if !quiet {
            print("wrote \(output): \(events) events, \(truth.nucleatedCells) nucleated, \(truth.aberrantPlasmaCells) aberrant plasma cells (MRD \(truth.mrdPercent)%)")
        }
    }
}
