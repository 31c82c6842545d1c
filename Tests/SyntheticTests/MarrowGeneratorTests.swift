import Foundation
import Testing
import TestSupport
import FCS
import Cytometry
@testable import Synthetic

@Suite("Synthetic marrow generator")
struct MarrowGeneratorTests {
    let directory = TemporaryDirectory()

    func generate(_ spec: MarrowSpecification, name: String = "s") throws -> (fcs: String, labels: [UInt8], truth: MarrowTruth) {
        let fcs = directory.path("\(name).fcs"), labels = directory.path("\(name).labels")
        let truth = try MarrowGenerator(spec).write(fcsPath: fcs, labelsPath: labels)
        return (fcs, [UInt8](FileManager.default.contents(atPath: labels)!), truth)
    }

    @Test("same specification and seed give byte-identical files; another seed does not")
    func determinism() throws {
        let spec = MarrowSpecification(events: 20_000, aberrantFraction: 1e-2, seed: 11)
        let a = try generate(spec, name: "a"), b = try generate(spec, name: "b")
        #expect(FileManager.default.contents(atPath: a.fcs) == FileManager.default.contents(atPath: b.fcs))
        #expect(a.labels == b.labels)
        var other = spec
        other.seed = 12
        let c = try generate(other, name: "c")
        #expect(FileManager.default.contents(atPath: a.fcs) != FileManager.default.contents(atPath: c.fcs))
    }

    @Test("labels, truth and keywords agree, and exact counts are hit", arguments: [(0.0, nil as Int?), (1e-3, nil), (0, 30)])
    func truthAgrees(_ fraction: Double, _ exact: Int?) throws {
        let (fcs, labels, truth) = try generate(MarrowSpecification(events: 50_000, aberrantFraction: fraction, aberrantCount: exact, seed: 3))
        #expect(labels.count == 50_000)
        let set = try FCSFile(path: fcs).dataSet()
        for population in CellPopulation.allCases {
            let counted = labels.filter { $0 == population.rawValue }.count
            #expect(counted == truth.counts[population.name], "\(population.name)")
            #expect(set.keywords["FLOWMRD_TRUTH_\(population.name.uppercased())"] == String(counted))
        }
        let expectedAberrant = exact ?? Int((Double(truth.nucleatedCells) * fraction).rounded())
        #expect(truth.aberrantPlasmaCells == expectedAberrant)
        #expect(set.keywords["FLOWMRD_ABERRANT_PC"] == String(expectedAberrant))
        #expect(set.keywords["FLOWMRD_NUCLEATED"] == String(labels.filter { CellPopulation(rawValue: $0)!.isNucleated }.count))
        #expect(set.spillover.map { $0 != nil } == .success(true))
        #expect(set.channels.compactMap(\.marker) == Marker.allCases.map(\.name))
    }

    @Test("populations are dealt in random order: each is spread evenly over the file (99.9% binomial interval)")
    func evenlySpread() throws {
        let (_, labels, truth) = try generate(MarrowSpecification(events: 100_000, aberrantFraction: 1e-2, seed: 5))
        let firstHalf = labels.prefix(50_000)
        for population in CellPopulation.allCases {
            let total = truth.counts[population.name]!
            guard total >= 200 else { continue }
            let inFirst = firstHalf.filter { $0 == population.rawValue }.count
            let sd = (Double(total) * 0.25).squareRoot()  // binomial(total, 1/2)
            #expect(abs(Double(inFirst) - Double(total) / 2) < 3.29 * sd, "\(population.name): \(inFirst) of \(total) in the first half")
        }
    }

    @Test("after compensation, aberrant plasma cells are CD19 negative and CD56 positive; normal ones the reverse")
    func phenotypesAfterCompensation() throws {
        let (fcs, labels, _) = try generate(MarrowSpecification(events: 200_000, aberrantFraction: 2e-2, seed: 9))
        let file = try FCSFile(path: fcs)
        let set = try file.dataSet()
        let matrix = try CompensationMatrix(spillover: try set.spillover.get()!)
        let columns = matrix.detectors.map { set.channelIndex(named: $0)! }
        var reader = try file.reader()
        var block = reader.makeBlock(of: Double.self)
        var aberrant = (total: 0, cd19Negative: 0, cd56Positive: 0), normal = (total: 0, cd19Positive: 0, cd56Negative: 0)
        var index = 0
        let cd19 = matrix.outputs.firstIndex(of: "PE-Cy7-A")!, cd56 = matrix.outputs.firstIndex(of: "APC-A700-A")!
        var compensated = [[Double]](repeating: [], count: matrix.outputs.count)
        while try reader.next(into: &block) {
            let n = block.count
            var outs = (0..<matrix.outputs.count).map { _ in UnsafeMutablePointer<Double>.allocate(capacity: n) }
            defer { outs.forEach { $0.deallocate() } }
            block.withUnsafeStorage { base in
                matrix.apply(inputs: columns.map { base + $0 * block.capacity }, outputs: outs, count: n)
            }
            for o in outs.indices { compensated[o] = Array(UnsafeBufferPointer(start: outs[o], count: n)) }
            for e in 0..<n {
                let label = CellPopulation(rawValue: labels[index + e])!
                if label == .aberrantPlasmaCell {
                    aberrant.total += 1
                    if compensated[cd19][e] < 1_000 { aberrant.cd19Negative += 1 }
                    if compensated[cd56][e] > 3_000 { aberrant.cd56Positive += 1 }
                } else if label == .normalPlasmaCell {
                    normal.total += 1
                    if compensated[cd19][e] > 1_000 { normal.cd19Positive += 1 }
                    if compensated[cd56][e] < 3_000 { normal.cd56Negative += 1 }
                }
            }
            outs.removeAll()
            index += n
        }
        #expect(aberrant.total > 3_000 && normal.total > 900)
        #expect(Double(aberrant.cd19Negative) / Double(aberrant.total) > 0.99)
        #expect(Double(aberrant.cd56Positive) / Double(aberrant.total) > 0.99)
        #expect(Double(normal.cd19Positive) / Double(normal.total) > 0.95)
        #expect(Double(normal.cd56Negative) / Double(normal.total) > 0.95)
    }

    @Test("time increases; a clog lowers the event rate in its window")
    func flowProfiles() throws {
        func rates(_ flow: FlowProfile) throws -> (inside: Double, outside: Double) {
            let (fcs, _, _) = try generate(MarrowSpecification(events: 40_000, seed: 2, flow: flow), name: flow.rawValue)
            let rows = try FCSFile(path: fcs)
            var reader = try rows.reader()
            var block = reader.makeBlock(of: Double.self)
            var times: [Double] = []
            while try reader.next(into: &block) { times += block.column(3) }
            #expect(zip(times, times.dropFirst()).allSatisfy { $0 <= $1 })
            let a = Int(0.40 * 40_000), b = Int(0.55 * 40_000) - 1
            let inside = Double(b - a) / (times[b] - times[a])
            let outside = Double(a) / (times[a] - times[0])
            return (inside, outside)
        }
        let stable = try rates(.stable), clog = try rates(.clog)
        #expect(abs(stable.inside / stable.outside - 1) < 0.1)
        #expect(clog.inside / clog.outside < 0.2)
    }
}
