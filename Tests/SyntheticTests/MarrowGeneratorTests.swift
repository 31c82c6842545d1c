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
            let counted = labels.filter { EventLabel(code: $0).population == population }.count
            #expect(counted == truth.counts[population.name], "\(population.name)")
            #expect(set.keywords["FLOWMRD_TRUTH_\(population.name.uppercased())"] == String(counted))
        }
        let expectedAberrant = exact ?? Int((Double(truth.nucleatedCells) * fraction).rounded())
        #expect(truth.aberrantPlasmaCells == expectedAberrant)
        #expect(set.keywords["FLOWMRD_ABERRANT_PC"] == String(expectedAberrant))
        #expect(set.keywords["FLOWMRD_NUCLEATED"] == String(labels.filter { EventLabel(code: $0).population!.isNucleated }.count))
        #expect(labels.allSatisfy { EventLabel(code: $0).isValid })
        // Every label's count, subsets and light chains included, is exact.
        var perLabel: [String: Int] = [:]
        for code in labels { perLabel[EventLabel(code: code).description, default: 0] += 1 }
        #expect(perLabel == truth.labelCounts)
        let normal = labels.map { EventLabel(code: $0) }.filter { $0.population == .normalPlasmaCell }
        #expect(normal.filter { $0.lightChain == .kappa }.count == truth.normalKappa)
        #expect(normal.filter { $0.lightChain == .lambda }.count == truth.normalLambda)
        for trait in NormalPlasmaCellTrait.allCases {
            #expect(normal.filter { $0.traits.contains(trait) }.count == truth.normalPlasmaCellTraits[trait.key])
        }
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
            let inFirst = firstHalf.filter { EventLabel(code: $0).population == population }.count
            let sd = (Double(total) * 0.25).squareRoot()  // binomial(total, 1/2)
            #expect(abs(Double(inFirst) - Double(total) / 2) < 3.29 * sd, "\(population.name): \(inFirst) of \(total) in the first half")
        }
    }

    /// Compensated values of every event of a file, by detector name, with the labels.
    func compensated(_ fcs: String) throws -> [String: [Double]] {
        let file = try FCSFile(path: fcs)
        let set = try file.dataSet()
        let matrix = try CompensationMatrix(spillover: try set.spillover.get()!)
        let columns = matrix.detectors.map { set.channelIndex(named: $0)! }
        var reader = try file.reader()
        var block = reader.makeBlock(of: Double.self)
        var result = Dictionary(uniqueKeysWithValues: matrix.outputs.map { ($0, [Double]()) })
        while try reader.next(into: &block) {
            let n = block.count
            let outs = (0..<matrix.outputs.count).map { _ in UnsafeMutablePointer<Double>.allocate(capacity: n) }
            defer { outs.forEach { $0.deallocate() } }
            block.withUnsafeStorage { base in
                matrix.apply(inputs: columns.map { base + $0 * block.capacity }, outputs: outs, count: n)
            }
            for (o, name) in matrix.outputs.enumerated() { result[name]! += Array(UnsafeBufferPointer(start: outs[o], count: n)) }
        }
        return result
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? .nan : sorted[sorted.count / 2]
    }

    static func detector(_ marker: Marker) -> String { LegendPanel.channels[LegendPanel.firstMarkerChannel + marker.rawValue].name }

    @Test("after compensation, the default clone is CD19− CD56+; each normal subset shows its trait and only normal PCs without CD19− are CD19+")
    func phenotypesAfterCompensation() throws {
        let (fcs, labels, _) = try generate(MarrowSpecification(events: 200_000, aberrantFraction: 2e-2, seed: 9))
        let values = try compensated(fcs)
        let cd19 = values[Self.detector(.cd19)]!, cd56 = values[Self.detector(.cd56)]!
        let aberrant = labels.indices.filter { labels[$0] == CellPopulation.aberrantPlasmaCell.rawValue }
        #expect(aberrant.count > 3_000)
        #expect(Double(aberrant.filter { cd19[$0] < 1_000 }.count) / Double(aberrant.count) > 0.99)
        #expect(Double(aberrant.filter { cd56[$0] > 3_000 }.count) / Double(aberrant.count) > 0.99)
        let normal = labels.indices.filter { EventLabel(code: labels[$0]).population == .normalPlasmaCell }
        let with19neg = normal.filter { EventLabel(code: labels[$0]).traits.contains(.cd19Negative) }
        let without = normal.filter { !EventLabel(code: labels[$0]).traits.contains(.cd19Negative) }
        #expect(with19neg.count > 20 && without.count > 200)
        #expect(Double(without.filter { cd19[$0] > 1_000 }.count) / Double(without.count) > 0.95)
        #expect(Double(with19neg.filter { cd19[$0] < 1_000 }.count) / Double(with19neg.count) > 0.95)
        // Every trait subset sits below (or for CD56, above) the majority on its marker.
        let majority = normal.filter { EventLabel(code: labels[$0]).traits.isEmpty }
        for trait in NormalPlasmaCellTrait.allCases {
            let subset = normal.filter { EventLabel(code: labels[$0]).traits == [trait] }
            guard subset.count >= 10 else { continue }
            let column = values[Self.detector(trait.marker)]!
            let m = Self.median(subset.map { column[$0] }), n = Self.median(majority.map { column[$0] })
            if trait == .cd56Positive { #expect(m > 4 * max(n, 100), "\(trait.key): \(m) vs \(n)") } else { #expect(m < n / 3, "\(trait.key): \(m) vs \(n)") }
        }
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
