import Testing
@testable import MRD

/// The counted clone's phenotype: the median of the counted clusters' clonal excess, not of
/// their restricted-chain events.
@Suite("The clone's phenotype")
struct ClonePhenotypeTests {
    /// A table of two columns (CD19, CD56): a κ box holding a CD19− CD56+ clone beside normal
    /// CD19+ CD56− cells at κ:λ 2, and a clean λ cluster with its own clone.
    struct Table {
        var values: [Float] = [], labels: [Int32] = [], chains: [Int8] = []
        mutating func add(_ cd19: Float, _ cd56: Float, label: Int32, chain: Int8) {
            values += [cd19, cd56]; labels.append(label); chains.append(chain)
        }
    }

    static func outcome(_ direction: String, kappa: Int, lambda: Int, ratio: Double) -> ClonalityTest.Outcome {
        let excess = direction == "kappa" ? Double(kappa) - ratio * Double(lambda) : Double(lambda) - Double(kappa) / ratio
        return .init(kappa: kappa, lambda: lambda, referenceRatio: ratio, direction: direction, pValue: 0, oddsRatio: nil,
                     restricted: true, excess: excess, excessLow: excess, excessHigh: excess)
    }

    @Test("a clone inside a box of normal cells: its own levels, and the markers it departs on")
    func boxInsideNormalCells() throws {
        var t = Table()
        // Cluster 0: 120 κ clone events, CD19 0.10 … 0.219, CD56 0.70 … 0.819; 1,000 normal
        // levels CD19 0.55 … 0.6499, CD56 0.10 … 0.1999, each twice κ and once λ.
        for i in 0..<120 { t.add(0.10 + Float(i) * 0.001, 0.70 + Float(i) * 0.001, label: 0, chain: 1) }
        for j in 0..<1000 {
            for chain: Int8 in [1, 1, -1] { t.add(0.55 + Float(j) * 0.0001, 0.10 + Float(j) * 0.0001, label: 0, chain: chain) }
        }
        // Cluster 1 is polyclonal, not counted; cluster 2 a clean λ clone of 80 events at CD19
        // 0.30 … 0.379, CD56 0.60 … 0.679, with 2 κ events (κ:λ 2 expects 1 κ per 2 λ: excess 80 − 1).
        for j in 0..<50 { t.add(0.6, 0.1, label: 1, chain: j % 3 == 2 ? -1 : 1) }
        for i in 0..<80 { t.add(0.30 + Float(i) * 0.001, 0.60 + Float(i) * 0.001, label: 2, chain: -1) }
        t.add(0.6, 0.1, label: 2, chain: 1); t.add(0.6, 0.1, label: 2, chain: 1)
        let rows = t.labels.indices.filter { t.labels[$0] != 1 }
        let clusters = [0: Self.outcome("kappa", kappa: 2120, lambda: 1000, ratio: 2), 2: Self.outcome("lambda", kappa: 2, lambda: 80, ratio: 2)]
        let values = t.values
        let patterns = ClonePhenotype.patterns(labels: t.labels, chains: t.chains, clusters: clusters,
                                               markers: [("CD19", 0), ("CD56", 1)], value: { values[$0 * 2 + $1] },
                                               reference: ["CD19": 0.6, "CD56": 0.15], margin: 0.1)
        // The summed excess is 120 + 79 = 199; half is 99.5. The normal cells cancel level by
        // level (κ κ λ: +1 +1 −2), and λ's excess leaves one κ's −0.5 at 0.6: ordered, the 80
        // λ clone events come after the 120 κ clone events on CD19, so the median is the 100th
        // κ clone event, 0.10 + 99 · 0.001; on CD56 the normal levels and λ's two κ events (−1)
        // come first, then the λ clone (79), and the κ clone's 21st event (0.70 + 20 · 0.001)
        // reaches 100.
        #expect(patterns.map(\.marker) == ["CD19", "CD56"])
        #expect(patterns[0].aberrantMedian == round6(Double(Float(0.10) + Float(99) * 0.001)))
        #expect(patterns[1].aberrantMedian == round6(Double(Float(0.70) + Float(20) * 0.001)))
        #expect(patterns.map(\.pattern) == ["reduced", "increased"])
        // Its intervals (s = 1.96 · √6,200.5 / 2 = 77.2 about half the excess) stay inside the
        // clones: CD19 from the κ clone's 23rd event to the λ clone's 57th, clear of 0.6 ± 0.1.
        #expect(patterns[0].aberrantMedianCI95 == [round6(Double(Float(0.10) + Float(22) * 0.001)), round6(Double(Float(0.30) + Float(56) * 0.001))])
        #expect(patterns.map(\.uncertain) == [false, false])
        #expect(patterns.map(\.normalMedian) == [0.6, 0.15])
        // Read every other row (a limit of half the rows): the same patterns, medians within 0.005.
        let sampled = ClonePhenotype.patterns(labels: t.labels, chains: t.chains, clusters: clusters,
                                              markers: [("CD19", 0), ("CD56", 1)], value: { values[$0 * 2 + $1] },
                                              reference: ["CD19": 0.6, "CD56": 0.15], margin: 0.1, limit: (rows.count + 1) / 2)
        #expect(sampled.map(\.pattern) == patterns.map(\.pattern))
        for (a, b) in zip(sampled, patterns) { #expect(abs(a.aberrantMedian - b.aberrantMedian) < 0.005, "\(a.marker): \(a.aberrantMedian) vs \(b.aberrantMedian)") }
        #expect(sampled != patterns)
        // The restricted-chain events alone (2,200 of them, 2,000 normal) would read the normal
        // cells' levels: "normal" on both markers the clone departs on.
        let restricted = rows.filter { t.chains[$0] == (t.labels[$0] == 0 ? 1 : -1) }
        let plain = try #require(ThresholdFinder.quantile(restricted.map { Double(values[$0 * 2]) }, 0.5))
        #expect(abs(plain - 0.6) < 0.1)
    }

    @Test("the excess median's 95% interval: ranks n/2 ± 0.98√n for a clone alone; the whole box where its normal cells' chain noise swamps the excess")
    func interval() throws {
        // 100 κ events alone: s = 1.96 · √100 / 2 = 9.8; the interval runs from the first level
        // with 40.2 below (the 41st event) to the level after the last with fewer than 59.8 (the 60th).
        let alone = (0..<100).map { Float($0) * 0.01 }
        let single = [ExcessMedian.Population(want: 1, ratio: 1.5)]
        let e = try #require(ExcessMedian.estimate(values: alone, chains: [Int8](repeating: 1, count: 100), populations: single) { _ in 0 })
        #expect(e == .init(median: Double(alone[49]), low: Double(alone[40]), high: Double(alone[59])))
        #expect(ExcessMedian.median(values: alone, chains: [Int8](repeating: 1, count: 100), want: 1, ratio: 1.5) == e.median)
        // 20 κ clone events at 0.10 … 0.119 in a box of 3,000 normal cells at 0.55 … 0.85 (κ κ λ,
        // κ:λ 2): the excess is 20, its median the clone's 10th event, but s = 1.96 · √6,020 / 2 = 76
        // reaches from the first event to the last normal level.
        var values = (0..<20).map { 0.10 + Float($0) * 0.001 }, chains = [Int8](repeating: 1, count: 20)
        for j in 0..<1000 { for chain: Int8 in [1, 1, -1] { values.append(0.55 + Float(j) * 0.0003); chains.append(chain) } }
        let box = try #require(ExcessMedian.estimate(values: values, chains: chains, populations: [.init(want: 1, ratio: 2)]) { _ in 0 })
        #expect(box.median == Double(values[9]))
        #expect(box.low == Double(values[0]) && box.high == Double(values.last!), "\(box)")
        // As the clone's phenotype: reduced on that median, but uncertain; the clone alone is not.
        let boxed = ClonePhenotype.patterns(labels: [Int32](repeating: 0, count: values.count), chains: chains,
                                            clusters: [0: Self.outcome("kappa", kappa: 2020, lambda: 1000, ratio: 2)],
                                            markers: [("CD19", 0)], value: { values[$0 + $1] }, reference: ["CD19": 0.6], margin: 0.1)
        #expect(boxed.map(\.pattern) == ["reduced"] && boxed.map(\.uncertain) == [true])
        #expect(boxed[0].aberrantMedianCI95 == [round6(box.low), round6(box.high)])
        let clean = ClonePhenotype.patterns(labels: [Int32](repeating: 0, count: 100), chains: [Int8](repeating: 1, count: 100),
                                            clusters: [0: Self.outcome("kappa", kappa: 100, lambda: 0, ratio: 1.5)],
                                            markers: [("CD19", 0)], value: { alone[$0 + $1] }, reference: ["CD19": 0.1], margin: 0.1)
        // Median 0.49, interval 0.40–0.59, against 0.1 ± 0.1: increased, and certain.
        #expect(clean.map(\.pattern) == ["increased"] && clean.map(\.uncertain) == [false])
    }

    @Test("without a reference the pattern is no_reference; unclustered and uncounted rows are left out; without counted rows there is no phenotype")
    func noReference() {
        let values: [Float] = [0.2, 0.9, 0.3, 0.95, 0.4]
        let patterns = ClonePhenotype.patterns(labels: [0, -1, 0, 1, 0], chains: [1, 1, 1, 1, 1],
                                               clusters: [0: Self.outcome("kappa", kappa: 3, lambda: 0, ratio: 1.5)],
                                               markers: [("CD19", 0)], value: { values[$0 + $1] }, reference: nil, margin: 0.1)
        #expect(patterns == [.init(marker: "CD19", aberrantMedian: round6(Double(Float(0.3))), normalMedian: nil, pattern: "no_reference",
                                   aberrantMedianCI95: [round6(Double(Float(0.2))), round6(Double(Float(0.4)))], uncertain: nil)])
        #expect(ClonePhenotype.patterns(labels: [], chains: [], clusters: [:], markers: [("CD19", 0)], value: { _, _ in 0 },
                                        reference: nil, margin: 0.1).isEmpty)
        #expect(ClonePhenotype.patterns(labels: [1, -1], chains: [1, 1], clusters: [0: Self.outcome("kappa", kappa: 1, lambda: 0, ratio: 1.5)],
                                        markers: [("CD19", 0)], value: { _, _ in 0 }, reference: nil, margin: 0.1).isEmpty)
    }
}
