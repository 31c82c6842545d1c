import Foundation
import Synchronization
import Testing
import EventCore
import FCS
@testable import Cytometry

/// Dimensions read only inside one population are computed only for its events
/// (``DimensionDomains``): which ones, and that gates, counts and every value read are the
/// same bits as when every dimension is computed for every event.
@Suite("Dimensions computed only inside their population")
struct DimensionDomainTests {
    @Test("a dimension's domain is the lowest common ancestor of its readers' parents; a root reader or an open extra means every event")
    func domains() {
        // Gates: 0 root; 1 under 0; 2 under 1; 3 under 0; 4 root.
        let parents: [Int?] = [nil, 0, 1, 0, nil]
        // Dimensions: 0 read by the root gate 0; 1 only by gate 2; 2 by gates 1, 2 and 3; 3 by gate 2 and
        // an open extra; 4 only by an extra inside gate 2; 5 by gate 4 (another root).
        let readers: [[Int]] = [[0], [2], [1, 2, 3], [2], [5]]
        let domains = DimensionDomains(readers: readers, parents: parents,
                                       extras: [(dimension: 3, domain: nil), (dimension: 4, domain: 2)],
                                       outputsOfDimension: [[0], [1], [1, 2], [3], [], [4]], outputCount: 5)
        #expect(domains.domains == [nil, 1, 0, nil, 2, nil])
        #expect(domains.sparseOfGate == [[], [2], [1, 2], [2], []])
        #expect(domains.sparseExtras == [4])
        // Output 1 is read by dimensions 1 and 2, both with a domain; 0, 3 and 4 by dimensions without.
        #expect(domains.denseOutputs == [true, false, false, true, true])
    }

    @Test("gates, counts and every value read inside the domain have the same bits as with every dimension computed for every event", arguments: [false, true])
    func sameBits(avx2: Bool) throws {
        if avx2 && !ColumnKernels.avx2Available {
            Issue.record("this CPU has no AVX2: the AVX2 case cannot run here")
            return
        }
        let fixture = GatingTests()
        let (path, _, _) = try fixture.spilledFile(events: 30_011)
        let file = try FCSFile(path: path)
        let logicle = NamedTransformation(id: "l", BoundedTransformation(.logicle(try LogicleTransform(T: 1000, W: 0.5, M: 4.5, A: 0)), boundMax: 0.9))
        let fl1 = GateDimension.channel("FL1", compensation: .file, transform: logicle)
        let fl2 = GateDimension.channel("FL2", compensation: .file, transform: logicle)
        let fl3 = GateDimension.channel("FL3", compensation: .file, transform: logicle)
        let raw2 = GateDimension.channel("FL2", transform: logicle)
        let ratio = GateDimension(.ratio(id: "r", numerator: "FL3", denominator: "FL2", A: 2, B: 1, C: -3), compensation: .file)
        let gates = [
            // About 90% of the events: its children's dimensions are computed for whole chunks.
            Gate(id: "wide", shape: .rectangle(dimensions: [.channel("FSC")], minimums: [100], maximums: [nil])),
            Gate(id: "band", parentID: "wide", shape: .rectangle(dimensions: [fl1], minimums: [0.80], maximums: [0.82])),
            // Read only inside "band" (a few % of the events): FL2 and FL3 compensated (outputs no
            // dense dimension reads), the ratio, one at a time per event.
            Gate(id: "inner", parentID: "band", shape: .polygon(x: fl2, y: ratio, vertices: [Vertex(0.2, -1), Vertex(0.9, -1), Vertex(0.9, 2), Vertex(0.2, 2)])),
            Gate(id: "deep", parentID: "inner", shape: .rectangle(dimensions: [fl3], minimums: [0.75], maximums: [nil]), complement: true),
            Gate(id: "broad", parentID: "wide", shape: .rectangle(dimensions: [raw2], minimums: [nil], maximums: [0.95])),
            Gate(id: "either", shape: .boolean(.or, operands: [BooleanOperand("deep"), BooleanOperand("broad", complement: true)])),
        ]
        let tree = try GatingTree(gates: gates)
        let index = Dictionary(uniqueKeysWithValues: tree.gates.enumerated().map { ($1.id, $0) })
        let extras = [fl3, fl2, ratio, raw2]
        // Every dimension read for every event (the reference), then each extra only inside a gate.
        func run(domains: [Int?]) throws -> (GatingResult, [[Int: UInt64]]) {
            var evaluator = TreeEvaluator(tree: tree, extraDimensions: extras, extraDomains: domains)
            evaluator.avx2 = avx2
            let seen = Mutex([[Int: UInt64]](repeating: [:], count: extras.count))
            let inside = [index["inner"]!, index["band"]!, index["band"]!, index["broad"]!]
            let result = try evaluator.evaluate(file: file, membership: true, workers: 2, blockSize: 1_024) { _, block in
                var local = [[Int: UInt64]](repeating: [:], count: extras.count)
                for k in extras.indices {
                    let mask = block.mask(inside[k]), column = block.column(k)
                    for e in 0..<block.count where mask[e] != 0 { local[k][block.firstEvent + e] = column[e].bitPattern }
                }
                seen.withLock { all in for k in extras.indices { all[k].merge(local[k]) { a, _ in a } } }
            }
            return (result, seen.withLock { $0 })
        }
        let (reference, referenceValues) = try run(domains: [nil, nil, nil, nil])
        let (sparse, sparseValues) = try run(domains: [index["inner"]!, index["band"]!, index["band"]!, index["broad"]!])
        #expect(sparse.gates == reference.gates)
        #expect(sparse.membership == reference.membership)
        for k in extras.indices {
            let differing = referenceValues[k].filter { sparseValues[k][$0.key] != $0.value }.keys.sorted()
            #expect(sparseValues[k].count == referenceValues[k].count && differing.isEmpty,
                    "extra \(extras[k].label): \(differing.count) of \(referenceValues[k].count) values differ, first at events \(differing.prefix(5))")
        }
        // The tree must exercise both paths: a small domain and a large one.
        let count = { (id: String) in reference.count(id) ?? 0 }
        #expect(count("band") > 300 && count("band") * 20 < count("wide"), "\(reference.gates)")
        #expect(count("inner") > 50 && count("deep") > 5 && count("broad") * 4 > count("wide") * 3, "\(reference.gates)")
        #expect(referenceValues[0].count == count("inner") && referenceValues[1].count == count("band"))
    }
}
