import Foundation
import Synthetic
import Testing

/// `flowmrd synth` with the realistic-marrow options and `flowmrd validate --matrix`, through the binary.
@Suite("flowmrd validate --matrix and the realistic-marrow synth options", .enabled(if: FlowMRDBinary.path != nil, Comment(rawValue: FlowMRDBinary.missingMessage)))
struct MatrixCLITests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("flowmrd-matrix-cli-\(UUID().uuidString)")

    @Test("the synth options a matrix file lists regenerate it byte for byte, for every condition")
    func synthArgumentsRegenerate() throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var plan = ValidationMatrixPlan()
        plan.events = 4_000
        plan.lowLevelEvents = 4_000
        plan.levels = [1e-2]
        plan.seedsPerCell = 1
        for cell in plan.cells() {
            let library = directory.appendingPathComponent("lib.fcs").path, command = directory.appendingPathComponent("cli.fcs").path
            try MarrowGenerator(cell.specification).write(fcsPath: library)
            let result = try FlowMRDBinary.run(["synth", command, "--quiet", "--overwrite"] + cell.specification.synthArguments)
            #expect(result.status == 0, "\(cell.condition.name): \(result.stderr)")
            #expect(FileManager.default.contents(atPath: library) == FileManager.default.contents(atPath: command), "\(cell.condition.name): \(cell.specification.synthArguments)")
        }
    }

    @Test("synth refuses contradictory or out-of-range realistic-marrow options with the option named")
    func synthRefuses() throws {
        let out = directory.appendingPathComponent("x.fcs").path
        let cases: [([String], String)] = [
            (["--fault", "dead:CD99"], "--fault: invalid technical fault \"dead:CD99\": unknown marker \"CD99\""),
            (["--normal-subset", "CD20-=0.1"], "unknown normal plasma-cell subset \"CD20-\""),
            (["--normal-subset", "CD19-"], "--normal-subset expects TRAIT=SHARE, got \"CD19-\""),
            (["--post-car-t", "--normal-pc", "1"], "post-CAR-T marrow has no normal plasma cells, but 1.0% were asked for"),
            (["--uniform-normals", "--normal-subset", "CD19-=0.2"], "--uniform-normals and --normal-subset contradict each other"),
            (["--phenotype", "CD56@+0.3"], "normal plasma cells lack CD56"),
            (["--clone-spread", "2"], "the clone spread must be 0.02–0.6 decades (got 2.0)"),
            (["--clone-light-chain-shift", "-4"], "the clone's light-chain shift must be −3 to 1 decades (got -4.0)"),
        ]
        for (arguments, message) in cases {
            let result = try FlowMRDBinary.run(["synth", out, "--events", "1000"] + arguments)
            #expect(result.status == 64 && result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: out))
        let help = try FlowMRDBinary.run(["synth", "--help"])
        for text in ["CD117+ (CD117 gain only)", "CD27dim,CD45dim (a CD19+ clone)", "--anti-cd38", "--post-car-t", "--regenerating", "dead:MARKER", "--clone-light-chain-shift"] {
            #expect(help.stdout.contains(text), "\(text)")
        }
    }

    @Test("validate --matrix writes its tables, lists wrong calls and exits 1 when any call is wrong")
    func matrixRun() throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("out").path
        let arguments = ["validate", "--matrix", "--conditions", "plain,dead-channel", "--levels", "0,1e-2", "--seeds", "1",
                         "--events", "20000", "--out", out, "--work-directory", directory.path, "--quiet"]
        let result = try FlowMRDBinary.run(arguments)
        // 20,000 events cannot reach 1.5 million nucleated cells: the MRD-zero plain file is not evaluable, a wrong call here.
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stdout.contains("4 files: 2 conditions × MRD 0, 1e-02 × 1 seeds; 20,000 events per file"))
        #expect(result.stdout.contains("| plain | MRD 0 | 1 | 0 | 0 | 0 | 1 | 0 | 1 |"))
        let markdown = try String(contentsOfFile: out + "/matrix.md", encoding: .utf8)
        #expect(markdown == result.stdout)
        let tsv = try String(contentsOfFile: out + "/matrix.tsv", encoding: .utf8).split(separator: "\n")
        #expect(tsv.count == 5 && tsv[0].hasPrefix("condition\tlevel\tseed"))
        let again = try FlowMRDBinary.run(arguments)
        #expect(again.stdout == result.stdout)
        let unknown = try FlowMRDBinary.run(["validate", "--matrix", "--conditions", "plain,martian"])
        #expect(unknown.status == 64 && unknown.stderr.contains("unknown condition \"martian\""))
    }
}
