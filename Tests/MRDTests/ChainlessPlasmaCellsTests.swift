import Foundation
import Testing
import TestSupport
@testable import MRD
@testable import Synthetic

@Suite("Plasma cells without a light chain")
struct ChainlessPlasmaCellsTests {
    /// Rows of (κ, λ, CD138) with their cluster labels. Cluster 0: `normal` plasma cells reading κ
    /// (κ 0.8, λ 0.2), `normalChainless` of them with both chains at 0.2; cluster 1: `population`
    /// cells with both chains at 0.2 (chainless), CD138 at `cd138`; `noise` chainless CD138-bright
    /// cells in no cluster.
    static func rows(normal: Int = 2_000, normalChainless: Int = 0, population: Int, cd138: Float = 0.8,
                     noise: Int = 0) -> (rows: [Float], labels: [Int32]) {
        var rows: [Float] = [], labels: [Int32] = []
        for i in 0..<normal {
            rows += i < normalChainless ? [0.2, 0.2, 0.8] : [0.8, 0.2, 0.8]
            labels.append(0)
        }
        for _ in 0..<population { rows += [0.2, 0.2, cd138]; labels.append(1) }
        for _ in 0..<noise { rows += [0.2, 0.2, 0.8]; labels.append(-1) }
        return (rows, labels)
    }

    static func find(_ table: (rows: [Float], labels: [Int32]), minimum: Int = 30) -> ChainlessPlasmaCells {
        ChainlessPlasmaCells(rows: table.rows, stored: 3, kappa: 0, lambda: 1, column: 2, gate: "cd138-positive", marker: "CD138",
                             threshold: 0.5, reading: LightChainReading(margin: 0.1, level: 0.5), labels: table.labels, clusters: 2, alpha: 0.001, minimum: minimum)
    }

    @Test("a cluster of CD138-positive plasma cells reading no chain is a population: its excess over the other plasma cells' share")
    func population() throws {
        // 1% of the normal cluster reads no chain: 20 of 2,000; the population's expected share of 200 is 2.
        let found = Self.find(Self.rows(normalChainless: 20, population: 200))
        let p = try #require(found.populations.first)
        #expect(found.populations.count == 1 && p.cluster == 1 && p.positive == 200 && p.chainless == 200)
        #expect(p.excess == 198 && found.excess == 198 && p.pValue < 1e-100)
        let finding = try #require(found.finding)
        #expect(finding == "plasma cells without a light chain: 198 CD138-positive plasma cells beyond the other plasma cells' share read neither κ nor λ, "
                + "in one cluster (200 of its 200 above gate cd138-positive at 0.500): a light-chain-negative clone, or a chain too dim to read; "
                + "no clonality test can see them — review on the κ vs λ plot")
    }

    @Test("cells below the gate's threshold (CD38-bright myeloid precursors, CD138 negative) are not a population, however many")
    func belowTheGate() {
        let found = Self.find(Self.rows(population: 500, cd138: 0.3))
        #expect(found.populations.isEmpty && found.excess == 0 && found.finding == nil)
    }

    @Test("chainless cells at the rate of every other cluster, too few of them, or outside every cluster are not a population")
    func noPopulation() {
        // Cluster 1: 40 chainless of 2,000 + 40; the normal cluster also 2%: no excess, no test passes.
        var table = Self.rows(normalChainless: 40, population: 0)
        for _ in 0..<1_960 { table.rows += [0.8, 0.2, 0.8]; table.labels.append(1) }
        for _ in 0..<40 { table.rows += [0.2, 0.2, 0.8]; table.labels.append(1) }
        #expect(Self.find(table).populations.isEmpty)
        // 29 chainless cells: below the LOD of 30, not tested.
        #expect(Self.find(Self.rows(population: 29)).populations.isEmpty)
        #expect(Self.find(Self.rows(population: 30)).populations.map(\.excess) == [30])
        // 300 chainless cells in no cluster.
        #expect(Self.find(Self.rows(population: 0, noise: 300)).populations.isEmpty)
    }

    @Test("the decision table: a chainless population of the LOD blocks a negative for review; it never makes or unmakes a positive")
    func decision() {
        let finding = "plasma cells without a light chain: …"
        var e = MRDDecision.Evidence.earnedNegative
        e.chainlessExcess = 30
        e.chainlessFinding = finding
        #expect(MRDDecision(e).call == .notEvaluable && MRDDecision(e).reasons == [finding])
        e.chainlessExcess = 29
        #expect(MRDDecision(e).call == .negative)
        e.chainlessExcess = 5_000
        e.clonalExcess = 50
        #expect(MRDDecision(e).call == .positive && MRDDecision(e).counted == 50)
    }

    @Test("a cluster fewer than half of whose cells read a chain is unread, never normal or a normal subset, and its warning says so")
    func unreadRole() {
        let test = ClonalityTest(alpha: 0.001, restrictionRatio: 4)
        typealias Role = PlasmaCellCluster.Role
        #expect(Role.of(restricted: false, departing: true, kappa: 0, lambda: 0, size: 274) == .unread)
        #expect(Role.of(restricted: false, departing: false, kappa: 80, lambda: 56, size: 274) == .unread)
        #expect(Role.of(restricted: false, departing: true, kappa: 80, lambda: 57, size: 274) == .normalSubset)
        #expect(Role.of(restricted: false, departing: false, kappa: 80, lambda: 57, size: 274) == .normal)
        // A restricted cluster keeps its role however few of its cells read a chain (a dim clone's).
        #expect(Role.of(restricted: true, departing: true, kappa: 100, lambda: 2, size: 274) == .mrd)
        #expect(Role.of(restricted: true, departing: false, kappa: 100, lambda: 2, size: 274) == .monotypic)
        func cluster(_ role: Role, size: Int, kappa: Int, lambda: Int, departing: Bool = true) -> PlasmaCellCluster {
            PlasmaCellCluster(size: size, role: role, clonality: test.test(kappa: kappa, lambda: lambda, referenceRatio: 1.6),
                              departures: departing ? [.init(marker: "CD117", difference: 0.2), .init(marker: "CD138", difference: -0.3)] : [])
        }
        // A CD138-negative myeloid island at 10 million events: 274 events, none reading a chain.
        #expect(cluster(.unread, size: 274, kappa: 0, lambda: 0).note
                == "a cluster of 274 events in the plasma-cell gate, only 0 of them reading a light chain (κ 0, λ 0), departs from the normal reference on CD117, CD138: "
                + "not shown to be polyclonal plasma cells — cells without immunoglobulin in the gate, or a chain too dim to read; not counted, and left out of the normal reference")
        #expect(cluster(.unread, size: 274, kappa: 80, lambda: 56, departing: false).note
                == "a cluster of 274 events in the plasma-cell gate, only 136 of them reading a light chain (κ 80, λ 56): "
                + "not shown to be polyclonal plasma cells — cells without immunoglobulin in the gate, or a chain too dim to read; not counted, and left out of the normal reference")
        #expect(cluster(.normalSubset, size: 274, kappa: 80, lambda: 57).note
                == "a polyclonal plasma-cell subset of 274 events (κ 80, λ 57) departs from the normal reference on CD117, CD138: a normal subset, not counted")
        #expect(cluster(.normal, size: 274, kappa: 80, lambda: 57, departing: false).note == nil)
    }

    @Test("the normal phenotype reference is the polyclonal clusters' without an unread one, however large")
    func unreadClusterLeftOutOfTheReference() throws {
        // 3,000 polyclonal plasma cells (κ:λ 3:2) and 4,000 cells reading no chain, CD138 negative,
        // in the template's markers; every value jittered by up to ±0.03 (deterministic).
        let columns = ["CD45", "CD38", "CD138", "CD19", "CD56", "CD117", "CD81", "CD27", "Kappa", "Lambda"]
        var state: UInt64 = 11
        func jitter() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Double(state >> 11) / Double(1 << 53) * 0.06 - 0.03)
        }
        var rows: [Float] = [], normalCD138: [Double] = []
        for i in 0..<7_000 {
            let unread = i >= 3_000
            let (kappa, lambda): (Float, Float) = unread ? (0.2, 0.2) : (i % 5 < 3 ? (0.8, 0.2) : (0.2, 0.8))
            for name in columns {
                let v = (name == "CD138" && unread ? 0.2 : name == "Kappa" ? kappa : name == "Lambda" ? lambda : 0.5) + jitter()
                rows.append(v)
                if name == "CD138" && !unread { normalCD138.append(Double(v)) }
            }
        }
        let outcome = PlasmaCellClustering(rules: AnalysisTests.template.mrd, workers: 1).run(rows: rows, stored: columns.count, columns: columns)
        // Clusters come largest first.
        #expect(outcome.clusters.map(\.role) == [.unread, .normal] && outcome.clusters.map(\.size) == [4_000, 3_000])
        #expect(outcome.medianSource == "sample" && outcome.referenceMedians?["CD138"] == ThresholdFinder.quantile(normalCD138, 0.5))
        #expect(outcome.clusters[0].departures.map(\.marker) == ["CD138"] && outcome.clusters[1].departures.isEmpty)
    }

    @Test("when the read level cannot be placed (after CAR-T, a clone of 60 the only plasma cells), the search is off and the result says so")
    func searchOff() throws {
        let directory = TemporaryDirectory()
        let (r, _) = try ClonalityTests.analyze(MarrowSpecification(events: 80_000, aberrantCount: 60, seed: 24, postCART: true), at: directory.path("car.fcs"), context: [.postCART])
        #expect(r.plasmaCells.count > 0 && r.plasmaCells.count < 100 && r.clonality?.lightChainReadLevel == nil, "\(r.plasmaCells.count)")
        #expect(r.clonality != nil && r.clonality?.chainless == nil)
        #expect(r.warnings.contains("plasma cells without a light chain were not looked for: the light-chain read level or gate cd138-positive's threshold could not be placed for this sample"),
                "\(r.warnings)")
    }

    /// A CD19− CD56+ clone of 400 among 400,000 events whose κ lies `shift` decades from the normal
    /// plasma cells' (−3: a light-chain-negative clone), analysed with the small-sample template.
    static func clone(shift: Double, spread: Double = 0.2) throws -> (MRDResult, MarrowTruth) {
        let directory = TemporaryDirectory()
        let spec = MarrowSpecification(events: 400_000, aberrantCount: 400, seed: 41, aberrantPhenotype: try AberrantPhenotype("CD19-,CD56+"),
                                       cloneSpread: spread, cloneLightChainShift: shift)
        return try ClonalityTests.analyze(spec, at: directory.path("chainless.fcs"))
    }

    @Test("a light-chain-negative clone of 400, and a dim clone joining the negative mode's flank, are not evaluable for review, never negative",
          arguments: [(-3.0, 0.2), (-2.0, 0.32)])
    func chainlessClone(shift: Double, spread: Double) throws {
        let (r, truth) = try Self.clone(shift: shift, spread: spread)
        #expect(r.call == .notEvaluable, "\(r.callText)")
        let reason = try #require(r.notEvaluableReasons.first { $0.hasPrefix("plasma cells without a light chain: ") }, "\(r.notEvaluableReasons)")
        let excess = try #require(Int(reason.dropFirst("plasma cells without a light chain: ".count).prefix { $0.isNumber }))
        #expect(excess <= truth.aberrantPlasmaCells && excess >= truth.aberrantPlasmaCells * 9 / 10, "\(reason)")
        #expect(r.notEvaluableReasons.count == 1, "\(r.notEvaluableReasons)")
        #expect(!r.warnings.contains { $0.contains("(κ 0, λ 0)") }, "the clone is not called a polyclonal subset: \(r.warnings)")
        // The result's record of the search: the population's cluster, listed as unread.
        let found = try #require(r.clonality?.chainless)
        let population = try #require(found.populations.first)
        #expect(found.gate == "cd138-positive" && found.marker == "CD138" && found.excess == excess && found.populations.count == 1)
        #expect(population.excess == excess && population.withoutChain <= population.aboveGate && population.pValue < 1e-6)
        let cluster = try #require(population.cluster.map { r.clonality!.clusters[$0] })
        #expect(cluster.role == .unread && population.aboveGate <= cluster.size, "\(cluster)")
        // Its events are neither normal nor aberrant plasma cells: `unread_pc` holds them, and the
        // normal count is the truth's normal plasma cells (with the clone's 400 it would not be).
        let unread = r.clonality!.clusters.filter { $0.role == .unread }.reduce(0) { $0 + $1.size }
        #expect(r.unreadPC.count >= unread && unread >= cluster.size && r.aberrantPC.count == 0)
        #expect(r.normalPC.count + r.unreadPC.count == r.plasmaCells.count)
        let normal = Double(try #require(truth.counts["normal-plasma-cell"]))
        #expect(abs(Double(r.normalPC.count) - normal) <= 0.03 * normal + 5 && Double(truth.aberrantPlasmaCells) > 0.03 * normal + 5,
                "normal \(r.normalPC.count), truth \(Int(normal)), unread \(r.unreadPC.count)")
        #expect(r.unreadPC.percentOfPlasmaCells == round6(100 * Double(r.unreadPC.count) / Double(r.plasmaCells.count)))
    }
}
