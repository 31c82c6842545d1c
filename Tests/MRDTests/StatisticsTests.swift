import Foundation
import Testing
import Cytometry
@testable import MRD

/// Exact intervals, valleys, quantiles, flow-rate bins and the density-cluster criterion.
@Suite("MRD statistics")
struct StatisticsTests {
    /// Reference values from scipy.stats.beta.ppf (scipy 1.x): lower = ppf(0.025, x, n−x+1), upper = ppf(0.975, x+1, n−x).
    @Test("Clopper–Pearson equals scipy's beta quantiles", arguments: [
        (0, 1_500_000, 0.0, 2.4592499454491857e-06),
        (30, 1_500_000, 1.3493955412865675e-05, 2.8551121521946438e-05),
        (50, 2_000_000, 1.8555537020896174e-05, 3.2959252163547774e-05),
        (18_000, 2_000_000, 0.00886957589137138, 0.009131848810703131),
        (5, 20, 0.08657146910143461, 0.49104587170795744),
        (20, 20, 0.8315665290169146, 1.0),
    ])
    func clopperPearson(x: Int, n: Int, lower: Double, upper: Double) {
        let ci = ClopperPearson(successes: x, trials: n)
        #expect(abs(ci.lower - lower) <= 1e-9 * max(lower, 1e-12) + 1e-15, "lower \(ci.lower) vs \(lower)")
        #expect(abs(ci.upper - upper) <= 1e-9 * upper, "upper \(ci.upper) vs \(upper)")
    }

    /// Reference values from scipy.stats.fisher_exact(table, alternative="greater") (scipy 1.x).
    @Test("Fisher's exact test, one-sided, equals scipy's", arguments: [
        (31, 44, 42, 90, 0.007477655827903783),
        (15, 17, 21, 33, 0.06271585714012759),
        (30, 40, 28, 80, 3.266442899725777e-05),
        (0, 10, 5, 10, 1.0),
        (10, 10, 0, 10, 5.412544112234515e-06),
        (87, 88, 101, 157, 4.980621804480707e-12),
        (3, 10, 9, 10, 0.9996427720885925),
    ])
    func fisherExact(s1: Int, n1: Int, s2: Int, n2: Int, p: Double) {
        let tail = FisherExactTest.upperTail(successes: s1, of: n1, against: s2, of: n2)
        #expect(abs(tail - p) <= 1e-9 * p, "\(tail) vs \(p)")
    }

    func normals(_ n: Int, mean: Double, sd: Double, seed: UInt64) -> [Double] {
        var state = seed
        func uniform() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return (Double(state >> 11) + 0.5) / Double(1 << 53)
        }
        return (0..<n).map { _ in mean + sd * (-2 * log(uniform())).squareRoot() * cos(2 * .pi * uniform()) }
    }

    @Test("a valley between two peaks is found between them; one peak gives no valley")
    func valley() {
        let values = normals(4_000, mean: 0.15, sd: 0.04, seed: 1) + normals(1_000, mean: 0.7, sd: 0.05, seed: 2)
        guard case .found(let t) = ThresholdFinder.valley(values, search: 0.3...0.6, smoothing: 0.02, minEvents: 100) else {
            Issue.record("no valley found")
            return
        }
        #expect(t > 0.32 && t < 0.55)
        let one = normals(5_000, mean: 0.5, sd: 0.05, seed: 3)
        if case .found(let t) = ThresholdFinder.valley(one, search: 0.3...0.6, smoothing: 0.02, minEvents: 100) { Issue.record("found \(t) in unimodal data") }
        if case .found = ThresholdFinder.valley(Array(values.prefix(50)), search: 0.3...0.6, smoothing: 0.02, minEvents: 100) { Issue.record("too few events accepted") }
    }

    @Test("quantiles interpolate like R type 7 / numpy")
    func quantiles() {
        #expect(ThresholdFinder.quantile([1, 2, 3, 4], 0.5) == 2.5)
        #expect(ThresholdFinder.quantile([4, 1, 3, 2], 0.25) == 1.75)
        #expect(ThresholdFinder.quantile([.nan, 5], 0.9) == 5)
        #expect(ThresholdFinder.quantile([], 0.5) == nil)
    }

    @Test("quantiles by selection equal quantiles of the sorted values (ties, sorted and reversed input, NaN)")
    func quantilesBySelection() {
        func sorted(_ v: [Double], _ q: Double) -> Double {
            let s = v.filter(\.isFinite).sorted()
            let h = Double(s.count - 1) * q, i = Int(h.rounded(.down))
            return i + 1 < s.count ? s[i] + (h - Double(i)) * (s[i + 1] - s[i]) : s[i]
        }
        var state: UInt64 = 42
        func next() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53)
        }
        for n in [1, 2, 3, 7, 100, 1_001, 20_000] {
            let random = (0..<n).map { _ in next() }
            let ties = (0..<n).map { _ in (next() * 5).rounded(.down) }
            let ascending = (0..<n).map(Double.init), descending = ascending.reversed().map { $0 }
            let constant = [Double](repeating: 0.25, count: n), withNaN = random + [.nan, .infinity]
            for values in [random, ties, ascending, descending, constant, withNaN] {
                for q in [0, 0.01, 0.25, 0.5, 0.9, 0.99, 1] {
                    #expect(ThresholdFinder.quantile(values, q) == sorted(values, q), "n \(n) q \(q)")
                }
            }
        }
    }

    @Test("radix selection gives the quickselect's quantiles bit for bit on large arrays: negatives, subnormals, ties, one deep bucket, signed zeros (left to the quickselect)")
    func radixQuantiles() {
        // The quickselect path, as the quantile takes it below RadixSelection.minimumCount.
        func byQuickselect(_ v: [Double], _ q: Double) -> Double? {
            var a = v.filter(\.isFinite)
            guard !a.isEmpty else { return nil }
            let h = Double(a.count - 1) * q, i = Int(h.rounded(.down))
            let low = ThresholdFinder.select(&a, i)
            guard i + 1 < a.count else { return low }
            return low + (h - Double(i)) * (a[(i + 1)...].min()! - low)
        }
        var state: UInt64 = 7
        func next() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53)
        }
        let n = 9_000
        let mixed = (0..<n).map { _ in (next() - 0.4) * 1e4 }
        let subnormal = (0..<n).map { _ in (next() - 0.5) * (Double.leastNormalMagnitude / 200) }   // about 1e-310
        let ties = (0..<n).map { _ in (next() * 7).rounded(.down) - 3 }                          // zeros among them
        let deep = (0..<n).map { _ in 1 + next() * 1e-12 }                                        // one top-16-bit bucket
        let signedZeros = (0..<n).map { k in k % 3 == 0 ? -0.0 : k % 3 == 1 ? 0.0 : next() - 0.5 }
        let wide = (0..<n).map { _ in (next() < 0.5 ? -1 : 1) * pow(10, next() * 600 - 300) } + [.nan, .infinity, -.infinity]
        // Two far groups: the median's statistic i is the last of its bucket, i + 1 is in another.
        let split = (0..<n).map { k in k % 2 == 0 ? 1 + next() * 1e-3 : 1e6 + next() }
        for (name, values) in [("mixed", mixed), ("subnormal", subnormal), ("ties", ties), ("deep", deep), ("signed zeros", signedZeros), ("wide", wide), ("split", split)] {
            for q in [0, 0.001, 0.25, 1.0 / 3, 0.5, 0.75, 0.999, 1] {
                let radix = ThresholdFinder.quantile(values, q), select = byQuickselect(values, q)
                #expect(radix?.bitPattern == select?.bitPattern, "\(name) q \(q): \(String(describing: radix)) against \(String(describing: select))")
            }
        }
        // Order statistics themselves: quantiles that land exactly on statistic k are the sorted order's.
        let sorted = mixed.filter(\.isFinite).sorted()
        let finite = sorted.count
        for k in [0, 1, finite / 2, finite - 1] where finite > 1 {
            let q = Double(k) / Double(finite - 1)
            guard Double(finite - 1) * q == Double(k) else { continue }
            #expect(ThresholdFinder.quantile(mixed, q) == sorted[k], "statistic \(k)")
        }
    }

    @Test("flow-rate bins off the median by more than the tolerance become merged exclusion intervals")
    func flowRate() {
        let counts = [100, 98, 103, 10, 12, 101, 99, 500, 100]
        let intervals = ThresholdFinder.unstableIntervals(binCounts: counts, start: 0, binWidth: 1, tolerance: 0.5)
        #expect(intervals == [3..<5, 7..<8])
    }

    @Test("ratio band: median ± width robust SD")
    func ratioBand() {
        let x = (0..<1_000).map { 0.2 + Double($0) / 2_000 }
        let y = x.enumerated().map { $0.element * ($0.offset % 10 == 0 ? 0.5 : 0.8) }
        guard case .found(let band) = ThresholdFinder.ratioBand(x: x, y: y, width: 4) else { Issue.record("no band"); return }
        #expect(band.contains(0.8) && !band.contains(0.5))
    }

    @Test("standard normal quantiles equal scipy's norm.ppf")
    func normalQuantiles() {
        for (p, z) in [(0.999, 3.090232306167813), (0.975, 1.959963984540054), (0.01, -2.3263478740408408), (0.5, 0.0)] {
            #expect(abs(ThresholdFinder.standardNormalQuantile(p) - z) < 1e-12, "\(p)")
        }
    }

    @Test("robust quantile: median + z·1.4826·MAD; half a percent of bright cells move the empirical tail, not it")
    func robustQuantile() {
        // Evenly spaced normal quantiles: median 0, MAD 0.6745 (robust SD 1), so the 0.999 robust quantile is 3.0902.
        let clean = (1...9_999).map { ThresholdFinder.standardNormalQuantile(Double($0) / 10_000) }
        #expect(abs(ThresholdFinder.robustQuantile(clean, 0.999)! - 3.0902) < 0.002)
        let contaminated = clean + [Double](repeating: 10, count: 50)   // 0.5% other cells, far brighter
        #expect(ThresholdFinder.quantile(contaminated, 0.999)! > 9)
        #expect(abs(ThresholdFinder.robustQuantile(contaminated, 0.999)! - 3.0902) < 0.03)
        #expect(ThresholdFinder.robustQuantile([.nan], 0.5) == nil)
    }

    @Test("robust quantile in data units: a negative population's normal noise seen through the logicle; the fit after the transform overshoots")
    func robustQuantileInDataUnits() throws {
        // Noise of median 72 and SD 103 in data units (the lymphocytes' CD138 of an independent
        // generator's file), as evenly spaced normal quantiles, seen through the template's logicle.
        let logicle = Transformation.logicle(try LogicleTransform(T: 262_144, W: 0.5, M: 4.5, A: 0))
        let data = (1...9_999).map { 72 + 103 * ThresholdFinder.standardNormalQuantile(Double($0) / 10_000) }
        let shown = data.map(logicle.apply)
        let expected = logicle.apply(72 + 103 * 3.090232306167813)
        let fitted = try #require(ThresholdFinder.robustQuantile(shown, 0.999, dataUnits: logicle))
        #expect(abs(fitted - expected) < 0.002, "\(fitted) against \(expected)")
        // The empirical 99.9th percentile agrees; the normal fitted after the transform lies far beyond both.
        #expect(abs(ThresholdFinder.quantile(shown, 0.999)! - expected) < 0.002)
        #expect(ThresholdFinder.robustQuantile(shown, 0.999)! > expected + 0.05)
        // A linear transform changes nothing: the same value either way.
        let linear = Transformation.linear(T: 262_144, A: 0)
        let scaled = data.map(linear.apply)
        #expect(abs(ThresholdFinder.robustQuantile(scaled, 0.999, dataUnits: linear)! - ThresholdFinder.robustQuantile(scaled, 0.999)!) < 1e-12)
    }

    /// Points in 8 dimensions (transformed units).
    func scattered(_ n: Int, seed: UInt64) -> [Float] {
        var state = seed
        return (0..<(n * 8)).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Double(state >> 11) / Double(1 << 53))
        }
    }

    func tight(_ n: Int, center: Float, seed: UInt64) -> [Float] {
        normals(n * 8, mean: Double(center), sd: 0.02, seed: seed).map(Float.init)
    }

    @Test("40 scattered events form no cluster; a tight group of 30 forms one cluster of 30")
    func clusterCriterion() {
        let clustering = DensityClustering(radius: 0.15, minNeighbours: 5)
        let spread = clustering.cluster(points: scattered(40, seed: 7), dimensions: 8)
        #expect(spread.sizes.allSatisfy { $0 < 30 }, "\(spread.sizes)")
        #expect(spread.labels.filter { $0 >= 0 }.count < 10)
        let both = clustering.cluster(points: scattered(40, seed: 7) + tight(30, center: 0.5, seed: 8), dimensions: 8)
        #expect(both.sizes.first == 30)
        #expect(both.labels.suffix(30).allSatisfy { $0 == 0 })
    }

    @Test("above the exact limit, clusters are found on a subsample and the rest attached")
    func subsampledClustering() {
        let points = tight(3_000, center: 0.4, seed: 11) + tight(1_000, center: 0.8, seed: 12) + scattered(20, seed: 13)
        let exact = DensityClustering(radius: 0.15, minNeighbours: 5).cluster(points: points, dimensions: 8)
        let sampled = DensityClustering(radius: 0.15, minNeighbours: 5, exactLimit: 1_000).cluster(points: points, dimensions: 8)
        #expect(!exact.subsampled && sampled.subsampled)
        #expect(exact.sizes.prefix(2) == [3_000, 1_000])
        #expect(sampled.sizes.prefix(2) == [3_000, 1_000])
    }

    @Test("NaN and infinite values neither trap nor join a cluster")
    func nonFinite() {
        var points = tight(30, center: 0.5, seed: 21)
        points += [Float.nan, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]
        points += [Float.infinity, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]
        let result = DensityClustering(radius: 0.15, minNeighbours: 5).cluster(points: points, dimensions: 8)
        #expect(result.sizes.first == 30)
        #expect(result.labels.suffix(2) == [-1, -1])
    }

    @Test("the excess median: the clone's median when normal cells of both chains share its box; the chain's own median without the other chain; nil without an excess")
    func excessMedian() {
        // Normal cells at 0.40 … 0.60, each level twice κ and once λ (polyclonal κ:λ 2); a κ clone
        // of 501 events at 0.15 … 0.25. The box's median is a normal level; its excess's is the clone's.
        var values: [Float] = [], chains: [Int8] = []
        for i in 0...200 {
            let v = 0.4 + Float(i) * 0.001
            values += [v, v, v]
            chains += [1, 1, -1]
        }
        for i in 0...500 {
            values.append(0.15 + Float(i) * 0.0002)
            chains.append(1)
        }
        let plain = ThresholdFinder.quantile(values.map(Double.init), 0.5)!
        #expect(plain > 0.39)
        #expect(ExcessMedian.median(values: values, chains: chains, want: 1, ratio: 2) == Double(Float(0.15) + Float(250) * Float(0.0002)))
        // Undetermined chains and non-finite values are left out.
        #expect(ExcessMedian.median(values: values + [.nan, 0.9], chains: chains + [1, 0], want: 1, ratio: 2)
                == ExcessMedian.median(values: values, chains: chains, want: 1, ratio: 2))
        // Without the other chain: the chain's own median.
        #expect(ExcessMedian.median(values: [0.1, 0.5, 0.3, 0.2, 0.4], chains: [-1, -1, -1, -1, -1], want: -1, ratio: 0.5) == Double(Float(0.3)))
        // Polyclonal, or the other chain's way: no excess.
        #expect(ExcessMedian.median(values: [0.1, 0.2, 0.3], chains: [1, 1, -1], want: 1, ratio: 2) == nil)
        #expect(ExcessMedian.median(values: [0.1, 0.2, 0.3], chains: [1, -1, -1], want: 1, ratio: 1) == nil)
    }
}

