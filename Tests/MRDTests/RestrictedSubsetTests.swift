import Foundation
import Testing
import TestSupport
@testable import MRD
@testable import Synthetic

/// The light-chain-guided search for a restricted subset inside a polyclonal-looking cluster:
/// the statistic, a clone hidden beside a normal subset of the same phenotype, the null
/// (no restricted subset in polyclonal clusters), and whole analyses of single-aberrancy clones.
@Suite("Restricted subsets inside clusters")
struct RestrictedSubsetTests {
    let directory = TemporaryDirectory()

    /// A deterministic generator for the synthetic clusters (SplitMix64).
    struct Mix {
        var state: UInt64
        mutating func next() -> Double {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
        }
    }

    /// A cluster in 3 dimensions: `normal` polyclonal cells (κ share p) uniform on [0,1]³ and
    /// `clone` κ cells uniform on [0.9,1]×[0.8,1]×[0,1] (inside the normal range).
    static func cluster(normal: Int, clone: Int, kappaShare p: Double, seed: UInt64) -> (values: [Float], chains: [Int8], half: [Bool]) {
        var rng = Mix(state: seed)
        var values: [Float] = [], chains: [Int8] = []
        for _ in 0..<normal {
            for _ in 0..<3 { values.append(Float(rng.next())) }
            chains.append(rng.next() < p ? 1 : -1)
        }
        for _ in 0..<clone {
            values.append(Float(0.9 + 0.1 * rng.next()))
            values.append(Float(0.8 + 0.2 * rng.next()))
            values.append(Float(rng.next()))
            chains.append(1)
        }
        return (values, chains, (0..<chains.count).map { $0 & 1 == 0 })
    }

    @Test("the one-sided likelihood-ratio statistic against a direct formula")
    func statistic() {
        #expect(abs(RestrictedSubsetSearch.statistic(10, 0, 0.5) - 20 * log(2.0)) < 1e-12)
        let expected = 2 * (30 * log(0.75 / 0.6) + 10 * log(0.25 / 0.4))
        #expect(abs(RestrictedSubsetSearch.statistic(30, 10, 0.6) - expected) < 1e-12)
        #expect(RestrictedSubsetSearch.statistic(6, 4, 0.6) == 0)
        #expect(RestrictedSubsetSearch.statistic(0, 0, 0.6) == 0)
    }

    @Test("the search's orders by packed integer keys equal the comparison sort: ties by row, −0 with +0, negatives, NaN")
    func orderByKeys() {
        var rng = Mix(state: 41)
        // Few distinct values, so that ties are many; both zeros, negatives and subnormals among them.
        let levels: [Float] = [-2.5, -1, -0.0, 0, Float.leastNormalMagnitude / 1_000, -Float.leastNormalMagnitude / 1_000, 0.25, 0.25000003, 3, -.infinity, .infinity]
        var table: [Float] = []
        for _ in 0..<3_000 { for _ in 0..<2 { table.append(levels[Int(rng.next() * Double(levels.count))]) } }
        let values = MarkerRows(table: table, stride: 2, columns: [0, 1])
        let rows = (0..<3_000).filter { _ in rng.next() < 0.7 }
        func byComparison(_ k: Int) -> [Int] {
            rows.sorted { values[$0, k] != values[$1, k] ? values[$0, k] < values[$1, k] : $0 < $1 }
        }
        for k in 0..<2 { #expect(RestrictedSubsetSearch.ordered(rows, on: k, of: values) == byComparison(k)) }
        // −0 before +0 in row order, and +0 before −0: both kept in row order, as equal values.
        let zeros = MarkerRows(table: [0, -0.0, 0, -0.0, -1], stride: 1, columns: [0])
        #expect(RestrictedSubsetSearch.ordered([0, 1, 2, 3, 4], on: 0, of: zeros) == [4, 0, 1, 2, 3])
        // A NaN among the values: the comparison sort's order, whatever it is, is kept.
        let withNaN = MarkerRows(table: [2, .nan, 1, 0.5, .nan, 3], stride: 1, columns: [0])
        let all = Array(0..<6)
        #expect(RestrictedSubsetSearch.ordered(all, on: 0, of: withNaN)
                == all.sorted { withNaN[$0, 0] != withNaN[$1, 0] ? withNaN[$0, 0] < withNaN[$1, 0] : $0 < $1 })
        // Values over many magnitudes and both signs (every radix digit differs), rows increasing
        // (the radix sort) and shuffled (the comparison of whole keys).
        var wide: [Float] = []
        for _ in 0..<5_000 { wide.append(Float((rng.next() - 0.3) * pow(10, 12 * rng.next() - 6))) }
        let wideValues = MarkerRows(table: wide, stride: 1, columns: [0])
        let increasing = (0..<5_000).filter { _ in rng.next() < 0.9 }
        var shuffled = increasing
        for i in stride(from: shuffled.count - 1, to: 0, by: -1) { shuffled.swapAt(i, Int(rng.next() * Double(i + 1))) }
        for list in [increasing, shuffled] {
            #expect(RestrictedSubsetSearch.ordered(list, on: 0, of: wideValues)
                    == list.sorted { wide[$0] != wide[$1] ? wide[$0] < wide[$1] : $0 < $1 })
        }
    }

    /// The greedy box as first written: every step filters each dimension's whole order by the
    /// box (``RestrictedSubsetSearch/box(_:kappa:referenceRatio:)`` keeps the orders compacted instead).
    static func referenceBox(_ prepared: RestrictedSubsetSearch.Prepared, kappa: Bool, r0: Double, minimumTestEvents: Int) -> (low: [Float], high: [Float])? {
        let values = prepared.values, d = prepared.dimensions, chains = prepared.chains
        let p0 = kappa ? r0 / (1 + r0) : 1 / (1 + r0), want: Int8 = kappa ? 1 : -1
        var low = [Float](repeating: -.infinity, count: d), high = [Float](repeating: .infinity, count: d)
        var inside = [Bool](repeating: false, count: chains.count)
        for i in prepared.search { inside[i] = true }
        var s = prepared.search.filter { chains[$0] == want }.count, f = prepared.search.count - s
        var g = RestrictedSubsetSearch.statistic(s, f, p0)
        for _ in 0..<(2 * d) {
            var best: (gain: Double, dim: Int, bound: Float, upper: Bool)? = nil
            for k in 0..<d {
                let kept = prepared.order[k].map(Int.init).filter { inside[$0] }
                let sorted = kept.map { values[$0, k] }
                var prefix = [0]
                for i in kept { prefix.append(prefix.last! + (chains[i] == want ? 1 : 0)) }
                let m = sorted.count
                guard m > 1 else { continue }
                for q in 1..<32 {
                    let j = m * q / 32
                    guard j > 0, j < m, sorted[j - 1] < sorted[j] else { continue }
                    let upperS = prefix[m] - prefix[j], lowerS = prefix[j]
                    for (part, kept, total, bound, upper) in [(upperS, upperS, m - j, sorted[j], false), (lowerS, lowerS, j, sorted[j - 1], true)]
                    where kept >= max(1, minimumTestEvents / 2) {
                        let gain = RestrictedSubsetSearch.statistic(part, total - part, p0) - g
                        if gain > (best?.gain ?? 2) { best = (gain, k, bound, upper) }
                    }
                }
            }
            guard let cut = best else { break }
            if cut.upper { high[cut.dim] = min(high[cut.dim], cut.bound) } else { low[cut.dim] = max(low[cut.dim], cut.bound) }
            for i in prepared.search where inside[i] && !(values[i, cut.dim] >= low[cut.dim] && values[i, cut.dim] <= high[cut.dim]) { inside[i] = false }
            s = prepared.search.filter { inside[$0] && chains[$0] == want }.count
            f = prepared.search.filter { inside[$0] }.count - s
            g = RestrictedSubsetSearch.statistic(s, f, p0)
        }
        guard low.contains(where: { $0 > -.infinity }) || high.contains(where: { $0 < .infinity }) else { return nil }
        return (low, high)
    }

    @Test("the greedy box equals the box of the whole orders filtered on every step, on clusters with and without clones, both chains")
    func boxAgainstReference() {
        let searcher = RestrictedSubsetSearch(restrictionRatio: 4, minimumTestEvents: 15)
        var boxes = 0
        for seed in UInt64(1)...12 {
            let (values, chains, half) = Self.cluster(normal: 3_000 + 500 * Int(seed), clone: [0, 40, 150, 600][Int(seed) % 4], kappaShare: 0.62, seed: 700 + seed)
            let prepared = searcher.prepare(values: values, dimensions: 3, chains: chains, searchHalf: half)
            for kappa in [true, false] {
                for r0 in [1.6, 1.9] {
                    let mine = searcher.box(prepared, kappa: kappa, referenceRatio: r0)
                    let reference = Self.referenceBox(prepared, kappa: kappa, r0: r0, minimumTestEvents: 15)
                    #expect(mine?.low == reference?.low && mine?.high == reference?.high, "seed \(seed) κ \(kappa) r0 \(r0)")
                    if mine != nil { boxes += 1 }
                }
            }
        }
        // Boxes were drawn (the clones' κ searches at least), so the comparison covered the cuts.
        #expect(boxes >= 12, "\(boxes)")
    }

    @Test("a κ clone among normal cells of the same phenotype: the box finds it, the λ search finds nothing")
    func hiddenClone() throws {
        let c = Self.cluster(normal: 3_000, clone: 400, kappaShare: 0.6, seed: 7)
        let values = c.values, chains = c.chains, half = c.half
        let search = RestrictedSubsetSearch(restrictionRatio: 4, minimumTestEvents: 15)
        // As a whole the cluster is far from restricted: κ:λ about 1.8 against 1.5.
        let kappa = chains.filter { $0 == 1 }.count, lambda = chains.filter { $0 == -1 }.count
        let whole = ClonalityTest(alpha: 0.001, restrictionRatio: 4).test(kappa: kappa, lambda: lambda, referenceRatio: 1.5)
        #expect(!whole.restricted)
        let result = search.search(values: values, dimensions: 3, chains: chains, searchHalf: half, kappa: true, referenceRatio: 1.5, alpha: 0.001 / 4)
        let found = try #require(result)
        #expect(found.test.restricted && found.test.direction == "kappa")
        // The box cuts dimensions 0 and 1 near the clone's edges, from below.
        let low = found.low, high = found.high
        #expect(low[0] > 0.85 && low[0] < 0.95 && low[1] > 0.75 && low[1] < 0.85, "\(low)")
        #expect(high[0] == .infinity && high[1] == .infinity)
        // Most of the clone is inside, and few normal cells.
        let cloneInside = found.members.filter { $0 >= 3_000 }.count, normalInside = found.members.count - cloneInside
        #expect(cloneInside >= 340 && normalInside <= 120, "\(cloneInside) clone, \(normalInside) normal")
        // Widening over every event recovers the clone's remaining events and adds few normal ones.
        let eligible = [Bool](repeating: true, count: chains.count)
        let wide = search.widen(low: low, high: high, values: values, dimensions: 3, chains: chains, eligible: eligible, kappa: true, referenceRatio: 1.5)
        let inside = (0..<chains.count).filter { i in (0..<3).allSatisfy { values[i * 3 + $0] >= wide.low[$0] && values[i * 3 + $0] <= wide.high[$0] } }
        let wideClone = inside.filter { $0 >= 3_000 }.count
        #expect(wideClone >= cloneInside && wideClone >= 380, "\(wideClone)")
        #expect(inside.count - wideClone <= 200, "\(inside.count - wideClone) normal")
        // The other half's box (the cross-fitted count's second box) finds the same clone's edges.
        let prepared = search.prepare(values: values, dimensions: 3, chains: chains, searchHalf: half.map { !$0 })
        let oddBox = try #require(search.box(prepared, kappa: true, referenceRatio: 1.5))
        #expect(oddBox.low[0] > 0.85 && oddBox.low[0] < 0.95 && oddBox.low[1] > 0.75 && oddBox.low[1] < 0.85, "\(oddBox.low)")
        let other = search.search(values: values, dimensions: 3, chains: chains, searchHalf: half, kappa: false, referenceRatio: 1.5, alpha: 0.001 / 4)
        #expect(other == nil)
    }

    @Test("polyclonal clusters: no restricted subset in 200 searches (each at α = 0.001)")
    func nullClusters() {
        let search = RestrictedSubsetSearch(restrictionRatio: 4, minimumTestEvents: 15)
        var found = 0
        for seed in 0..<100 {
            let c = Self.cluster(normal: 1_500, clone: 0, kappaShare: 0.6, seed: UInt64(1_000 + seed))
            for kappa in [true, false] {
                let result = search.search(values: c.values, dimensions: 3, chains: c.chains, searchHalf: c.half, kappa: kappa, referenceRatio: 1.5, alpha: 0.001)
                if result != nil { found += 1 }
            }
        }
        #expect(found == 0)
    }

    @Test("widening against a misjudged r₀: without r₀'s uncertainty it spreads over normal cells, with it the box stays on the clone")
    func widenWithRatioUncertainty() throws {
        // Normal cells at κ:λ 1.5, judged against r₀ = 1.25: every normal slab shows a κ "excess".
        let c = Self.cluster(normal: 20_000, clone: 400, kappaShare: 0.6, seed: 11)
        let search = RestrictedSubsetSearch(restrictionRatio: 4, minimumTestEvents: 15)
        let eligible = [Bool](repeating: true, count: c.chains.count)
        let low: [Float] = [0.9, 0.8, 0], high: [Float] = [.infinity, .infinity, .infinity]
        func normalInside(_ box: (low: [Float], high: [Float])) -> Int {
            (0..<20_000).filter { i in (0..<3).allSatisfy { c.values[i * 3 + $0] >= box.low[$0] && c.values[i * 3 + $0] <= box.high[$0] } }.count
        }
        let start = normalInside((low, high))
        let plain = search.widen(low: low, high: high, values: c.values, dimensions: 3, chains: c.chains, eligible: eligible, kappa: true, referenceRatio: 1.25)
        // The log-ratio error squared, as ReferenceRatioUncertainty's between-cluster term would hold it.
        let error = log(1.5 / 1.25)
        let careful = search.widen(low: low, high: high, values: c.values, dimensions: 3, chains: c.chains, eligible: eligible, kappa: true,
                                   referenceRatio: 1.25, ratioVariance: error * error)
        #expect(normalInside(plain) >= start + 2_000, "\(normalInside(plain)) normal cells against \(start)")
        #expect(normalInside(careful) <= start + 200, "\(normalInside(careful)) normal cells against \(start)")
        #expect(careful.low[0] >= 0.85 && careful.low[1] >= 0.75, "\(careful.low)")
    }

    @Test("widening within a cluster whose own κ:λ differs from r₀: the slab must stand out against its group's ratio too, and the clone's tails are still taken")
    func widenAgainstGroupRatio() {
        // One normal cluster at κ:λ 1.9 (κ share 0.655) judged against r₀ = 1.5 (the other clusters'),
        // and a κ clone of 400 on [0.85, 1] × [0.75, 1] whose deciding box starts at [0.9, 0.8].
        var rng = Mix(state: 23)
        var values: [Float] = [], chains: [Int8] = []
        for _ in 0..<20_000 {
            for _ in 0..<3 { values.append(Float(rng.next())) }
            chains.append(rng.next() < 0.655 ? 1 : -1)
        }
        for _ in 0..<400 {
            values += [Float(0.85 + 0.15 * rng.next()), Float(0.75 + 0.25 * rng.next()), Float(rng.next())]
            chains.append(1)
        }
        let search = RestrictedSubsetSearch(restrictionRatio: 4, minimumTestEvents: 15)
        let eligible = [Bool](repeating: true, count: chains.count), groups = [Int32](repeating: 0, count: chains.count)
        let rows = MarkerRows(values: values, dimensions: 3)
        let low: [Float] = [0.9, 0.8, 0], high: [Float] = [.infinity, .infinity, .infinity]
        func inside(_ box: (low: [Float], high: [Float]), _ range: Range<Int>) -> Int {
            range.filter { i in (0..<3).allSatisfy { values[i * 3 + $0] >= box.low[$0] && values[i * 3 + $0] <= box.high[$0] } }.count
        }
        let start = inside((low, high), 0..<20_000)
        let plain = search.widen(low: low, high: high, values: rows, chains: chains, eligible: eligible, kappa: true, referenceRatio: 1.5)
        let grouped = search.widen(low: low, high: high, values: rows, chains: chains, eligible: eligible, kappa: true, referenceRatio: 1.5, groups: groups)
        #expect(inside(plain, 0..<20_000) >= 15_000, "\(inside(plain, 0..<20_000)) normal cells against \(start)")
        #expect(inside(grouped, 0..<20_000) <= 2_000, "\(inside(grouped, 0..<20_000)) normal cells against \(start)")
        // Without groups the box takes in the whole normal cluster; with them about 1,600 of its
        // cells (396 at the start, about 400 more in the clone's tail region, the rest slabs that
        // passed by chance among the step's 96 looks).
        // The tails: the grouped box reaches toward the clone's edges and holds nearly all of it.
        #expect(inside(grouped, 20_000..<20_400) >= 370, "\(inside(grouped, 20_000..<20_400)) of the clone's 400, box \(grouped.low)")
    }

    @Test("widening reaches a clone's thin tail beside a large normal population: 147 clone events beyond the box are 1/200 of the slab, which the first sixteenth would drown")
    func widenTakesAThinTail() {
        // One dimension. 30,000 normal cells on [0, 0.5] at κ:λ 1.5; a κ clone of 600 on [0.55, 1]
        // whose deciding box starts at 0.66 (147 of its events lie below). r₀'s uncertainty is
        // a log-ratio variance of 0.01, as a marrow's normal heterogeneity gives.
        var rng = Mix(state: 31)
        var values: [Float] = [], chains: [Int8] = []
        for _ in 0..<30_000 {
            values.append(Float(0.5 * rng.next()))
            chains.append(rng.next() < 0.6 ? 1 : -1)
        }
        for i in 0..<600 {
            values.append(0.55 + 0.45 * Float(i) / 600)
            chains.append(1)
        }
        let search = RestrictedSubsetSearch(restrictionRatio: 4, minimumTestEvents: 15)
        let eligible = [Bool](repeating: true, count: chains.count)
        let start: Float = 0.66
        let below = (30_000..<30_600).filter { values[$0] < start }.count
        #expect(below == 147)
        let wide = search.widen(low: [start], high: [.infinity], values: values, dimensions: 1, chains: chains, eligible: eligible,
                                kappa: true, referenceRatio: 1.5, ratioVariance: 0.01)
        let clone = (30_000..<30_600).filter { values[$0] >= wide.low[0] }.count
        let normal = (0..<30_000).filter { values[$0] >= wide.low[0] }.count
        // The tail is taken in nearer slabs, each nearly pure (a slab short of the first
        // sixteenth must reach the restriction odds on its own): the clone but its last event or
        // so, and few normal cells (the first sixteenth, 1,884 events, holds 1,737 of them).
        #expect(clone >= 595, "\(clone) of 600, bound \(wide.low[0])")
        #expect(normal <= 30, "\(normal) normal cells, bound \(wide.low[0])")
        #expect(RestrictedSubsetSearch.steps(30_147) == [14, 29, 58, 117, 235, 471, 942] + (1...16).map { 30_147 * $0 / 16 })
    }
}
