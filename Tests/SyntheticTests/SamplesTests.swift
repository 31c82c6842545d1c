import FCS
import Foundation
import Testing
import TestSupport
@testable import Synthetic

/// The committed samples are what their README's commands write, and the clone phenotype option parses strictly.
@Suite("Committed samples and clone phenotypes")
struct SamplesTests {
    let directory = TemporaryDirectory()

    @Test("each committed sample is byte-identical to regenerating it with its documented command", arguments: [
        ("positive", MarrowSpecification(events: 30_000, aberrantFraction: 0.01, seed: 101)),
        ("borderline-30", MarrowSpecification(events: 30_000, aberrantCount: 30, seed: 102, cloneSpread: 0.15).uniformNormals()),
        ("too-few", MarrowSpecification(events: 30_000, aberrantFraction: 0, seed: 103)),
    ])
    func regenerate(name: String, spec: MarrowSpecification) throws {
        let committed = SharedMaterial.packageRoot.appendingPathComponent("samples/\(name)")
        let fcs = directory.path("\(name).fcs"), labels = directory.path("\(name).labels")
        let truth = try MarrowGenerator(spec).write(fcsPath: fcs, labelsPath: labels)
        #expect(FileManager.default.contents(atPath: fcs) == FileManager.default.contents(atPath: committed.path + ".fcs"))
        #expect(FileManager.default.contents(atPath: labels) == FileManager.default.contents(atPath: committed.path + ".labels"))
        let keywords = try FCSFile(path: committed.path + ".fcs").dataSets[0].keywords
        #expect(keywords["FLOWMRD_ABERRANT_PC"] == String(truth.aberrantPlasmaCells))
        #expect(keywords["FLOWMRD_NUCLEATED"] == String(truth.nucleatedCells))
    }

    @Test("clone phenotypes: levels parse, mistakes are named")
    func phenotypes() throws {
        let p = try AberrantPhenotype("CD19-, CD56++, cd117+, CD27dim, CD38=")
        #expect(p.description == "CD19-,CD56++,CD117+,CD27dim,CD38=")
        #expect(p.aberrantMarkers == [.cd19, .cd56, .cd117, .cd27])
        let shifted = try AberrantPhenotype("CD27@-0.3, CD81@+0.25")
        #expect(shifted.description == "CD27@-0.3,CD81@+0.25")
        #expect(try AberrantPhenotype("random").isRandom)
        #expect(throws: SyntheticError.invalidPhenotype(term: "CD56@+0.3", reason: "normal plasma cells lack CD56, so a shift from their level means nothing; use dim, + or ++")) {
            try AberrantPhenotype("CD56@+0.3")
        }
        #expect(throws: SyntheticError.invalidPhenotype(term: "CD20+", reason: "unknown marker; expected one of CD45, CD38, CD138, CD19, CD56, CD117, CD81, CD27")) {
            try AberrantPhenotype("CD19-,CD20+")
        }
        #expect(throws: SyntheticError.invalidPhenotype(term: "CD56bright!", reason: "unknown level \"bright!\"; expected -, dim, +, ++, = or a shift such as @-0.3")) {
            try AberrantPhenotype("CD56bright!")
        }
        #expect(throws: SyntheticError.self) { try AberrantPhenotype("cyKappa+") }
        #expect(throws: SyntheticError.self) { try AberrantPhenotype("CD19-,CD19+") }
    }
}
