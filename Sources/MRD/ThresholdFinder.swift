import Cytometry
import Foundation

/// Places data-driven gate boundaries from one sample's events: a density valley between two
/// peaks, a quantile of a reference population, a ratio band for singlets, and the stable
/// stretches of the flow rate. Each returns nil (with the reason) when the data does not
/// show what the rule needs; the caller then switches the gate or rule off and warns.
///
/// Cost: O(n log n) for quantiles (a sort of a copy), O(n + bins) for histograms.
public enum ThresholdFinder {
    /// An outcome: the value found, or why none was.
    public enum Outcome<T: Sendable>: Sendable {
        case found(T)
        case notFound(String)
    }

    /// The lowest point of the Gaussian-smoothed density of `values` inside `search`, accepted
    /// only when a peak at least twice as high lies on each side of it.
    /// When the valley is a flat run (an empty gap between two populations), its middle.
    public static func valley(_ values: [Double], search: ClosedRange<Double>, smoothing: Double, minEvents: Int) -> Outcome<Double> {
        let finite = values.filter(\.isFinite)
        guard finite.count >= minEvents else { return .notFound("only \(finite.count) events (at least \(minEvents) needed)") }
        let width = smoothing / 4
        let low = search.lowerBound - 1, high = search.upperBound + 1
        let bins = Int(((high - low) / width).rounded(.up))
        var histogram = [Double](repeating: 0, count: bins)
        for v in finite {
            let b = Int(((v - low) / width).rounded(.down))
            histogram[min(max(b, 0), bins - 1)] += 1
        }
        // Values beyond the histogram pile up in the edge bins: they are peaks' tails, not density here.
        let radius = 12
        var kernel = (0...(2 * radius)).map { exp(-0.5 * pow(Double($0 - radius) / 4, 2)) }
        let total = kernel.reduce(0, +)
        kernel = kernel.map { $0 / total }
        var smooth = [Double](repeating: 0, count: bins)
        for i in 0..<bins {
            var s = 0.0
            for k in 0...(2 * radius) {
                let j = i + k - radius
                if j >= 1 && j < bins - 1 { s += kernel[k] * histogram[j] }
            }
            smooth[i] = s
        }
        let first = Int(((search.lowerBound - low) / width).rounded(.up))
        let last = min(bins - 2, Int(((search.upperBound - low) / width).rounded(.down)))
        guard first <= last else { return .notFound("the search range is narrower than one bin") }
        var minimum = Double.infinity
        for i in first...last { minimum = min(minimum, smooth[i]) }
        let tolerance = minimum * 1e-9 + 1e-12
        let at = (first...last).first { smooth[$0] <= minimum + tolerance }!
        var end = at
        while end + 1 <= last && smooth[end + 1] <= minimum + tolerance { end += 1 }
        let leftPeak = smooth[1..<at].max() ?? 0
        let rightPeak = smooth[(end + 1)..<(bins - 1)].max() ?? 0
        let needed = 2 * minimum + 1e-9 * Double(finite.count)
        guard leftPeak >= needed, rightPeak >= needed, leftPeak > 0.5 / Double(radius), rightPeak > 0.5 / Double(radius) else {
            return .notFound("no valley between two peaks in \(search.lowerBound)…\(search.upperBound)")
        }
        guard at > first || end < last else { return .notFound("the density is flat across the search range") }
        // The lowest point must not be pinned to an edge of the search range while the density still falls beyond it.
        if at == first && smooth[first - 1] <= smooth[first] * 1.0001 && end == at { return .notFound("the density keeps falling below \(search.lowerBound)") }
        if end == last && smooth[last + 1] <= smooth[last] * 1.0001 && at == end { return .notFound("the density keeps falling above \(search.upperBound)") }
        let middle = Double(at + end) / 2 + 0.5
        return .found(low + middle * width)
    }

    /// The `q` quantile of the finite `values` (linear interpolation between order statistics,
    /// R type 7), by selection rather than sorting: the same value as sorting gives.
    /// - Complexity: O(n) expected (median-of-three quickselect; a sort beyond 2·log₂n rounds;
    ///   from ``RadixSelection/minimumCount`` values on, radix selection without a copy).
    public static func quantile(_ values: [Double], _ q: Double) -> Double? {
        if values.count >= RadixSelection.minimumCount, let result = values.withUnsafeBufferPointer({ RadixSelection.quantile($0, q) }) {
            return result
        }
        var a = values.filter(\.isFinite)
        guard !a.isEmpty else { return nil }
        let h = Double(a.count - 1) * min(max(q, 0), 1)
        let i = Int(h.rounded(.down))
        let low = select(&a, i)
        guard i + 1 < a.count else { return low }
        let high = a[(i + 1)...].min()!
        return low + (h - Double(i)) * (high - low)
    }

    /// The `q` quantile of a normal distribution with the finite `values`' median and robust SD
    /// (1.4826 × MAD): median + z(q) × SD. Unlike the empirical quantile of a tail, a minority
    /// of other cells in the population (up to about a quarter) barely moves it.
    /// - Complexity: O(n) expected (two selections).
    public static func robustQuantile(_ values: [Double], _ q: Double) -> Double? {
        let finite = values.filter(\.isFinite)
        guard let median = quantile(finite, 0.5), let mad = quantile(finite.map { abs($0 - median) }, 0.5) else { return nil }
        return median + standardNormalQuantile(q) * 1.4826 * mad
    }

    /// The same normal fitted in data units: the transformed `values` are taken back through
    /// `transform`'s inverse, the quantile placed there and transformed forward. A negative
    /// population's noise (electronic, photon, spillover spreading) is near normal in data
    /// units; after a logicle or log transform its tails are compressed, so a normal fitted to
    /// the transformed values puts a high quantile far beyond the data (0.48 against an empirical
    /// 0.36 for the lymphocytes' CD138 of an independent generator's file, docs/validation.md).
    /// The median is the same either way (the transform is monotone); only the spread differs.
    /// - Complexity: O(n).
    public static func robustQuantile(_ values: [Double], _ q: Double, dataUnits transform: Transformation) -> Double? {
        robustQuantile(values.map(transform.inverse), q).map(transform.apply)
    }

    /// z with Φ(z) = p, for 0 < p < 1: bisection on Φ(z) = erfc(−z/√2)/2 to the last bit.
    /// - Complexity: O(1) (at most 200 halvings of [−40, 40]).
    static func standardNormalQuantile(_ p: Double) -> Double {
        var lo = -40.0, hi = 40.0
        for _ in 0..<200 {
            let mid = (lo + hi) / 2
            if mid == lo || mid == hi { break }
            if erfc(-mid / 2.0.squareRoot()) / 2 < p { lo = mid } else { hi = mid }
        }
        return (lo + hi) / 2
    }

    /// Moves the k-th smallest value to index k, smaller-or-equal values before it and
    /// greater-or-equal ones after, and returns it.
    static func select(_ a: inout [Double], _ k: Int) -> Double {
        var lo = 0, hi = a.count - 1
        var rounds = 0
        let limit = 2 * (Int.bitWidth - a.count.leadingZeroBitCount) + 4
        while lo < hi {
            rounds += 1
            if rounds > limit {
                a[lo...hi].sort()
                return a[k]
            }
            // Median of three as pivot.
            let mid = lo + (hi - lo) / 2
            if a[mid] < a[lo] { a.swapAt(mid, lo) }
            if a[hi] < a[lo] { a.swapAt(hi, lo) }
            if a[hi] < a[mid] { a.swapAt(hi, mid) }
            let pivot = a[mid]
            var i = lo, j = hi
            while i <= j {
                while a[i] < pivot { i += 1 }
                while a[j] > pivot { j -= 1 }
                if i <= j {
                    a.swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            // Now a[lo...j] ≤ pivot ≤ a[i...hi], and a[j+1..<i] == pivot.
            if k <= j { hi = j } else if k >= i { lo = i } else { return a[k] }
        }
        return a[k]
    }

    /// Median of y/x (events with x above 1% of the range) ± `width` robust SDs (1.4826 × MAD).
    public static func ratioBand(x: [Double], y: [Double], width: Double, minEvents: Int = 100) -> Outcome<ClosedRange<Double>> {
        var ratios: [Double] = []
        ratios.reserveCapacity(x.count)
        for i in 0..<min(x.count, y.count) where x[i] > 0.01 && x[i].isFinite && y[i].isFinite { ratios.append(y[i] / x[i]) }
        guard ratios.count >= minEvents else { return .notFound("only \(ratios.count) events with a measurable ratio") }
        let median = quantile(ratios, 0.5)!
        let mad = quantile(ratios.map { abs($0 - median) }, 0.5)!
        let sd = max(1.4826 * mad, 1e-6)
        return .found((median - width * sd)...(median + width * sd))
    }

    /// Time bins whose event count departs from the median bin count by more than `tolerance`
    /// (a fraction): returned as merged [start, end) intervals of time to exclude.
    public static func unstableIntervals(binCounts: [Int], start: Double, binWidth: Double, tolerance: Double) -> [Range<Double>] {
        guard !binCounts.isEmpty else { return [] }
        let median = quantile(binCounts.map(Double.init), 0.5)!
        var intervals: [Range<Double>] = []
        for (b, count) in binCounts.enumerated() where abs(Double(count) - median) > tolerance * median {
            let lo = start + Double(b) * binWidth, hi = start + Double(b + 1) * binWidth
            if let last = intervals.last, last.upperBound == lo {
                intervals[intervals.count - 1] = last.lowerBound..<hi
            } else {
                intervals.append(lo..<hi)
            }
        }
        return intervals
    }
}
