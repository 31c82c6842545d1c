import Foundation
import EventCore

extension ReferenceRatioUncertainty {
    /// The variance of log κ:λ *within* the normal plasma cells, along their phenotype markers,
    /// that spillover spreading puts there: per marker, the mean product of the log-ratio
    /// deviations of mirrored slabs (slab b and slab B−1−b of `bins` equal-count slabs, each
    /// deviation from the slabs' weighted mean log κ:λ); the mean over the markers, and 0 when
    /// negative. The mean, not the largest: each marker's product is an unbiased but noisy
    /// estimate, and the largest of eight such estimates is biased up by the noise alone (on
    /// synthetic marrow without spreading, a few hundred cells per slab gave 0.01–0.015, enough
    /// to cut a clone's tails in the widening).
    ///
    /// A light chain's spillover spreads the channels it spills into, so the chain's cells are
    /// over-represented at both ends of such a marker and under-represented in its middle. A
    /// region of a normal cluster (a box cut to the middle of a spread marker) then holds normal
    /// cells at a κ:λ off r₀, and thousands of them subtracted at r₀ leave an excess that is
    /// not the clone's. One cluster has no between-cluster τ² to say so; this does.
    ///
    /// Spreading is symmetric: mirrored slabs deviate to the same side, and their product
    /// estimates the squared deviation (the slabs' counting noise is independent, so it adds
    /// nothing to the product on average). A clone's tails left in the normal cluster (beyond
    /// the box that found it) enrich one end only; their mirror does not deviate with them, so
    /// they do not pass for spreading here, as they would in a plain between-slab variance.
    ///
    /// - Parameters:
    ///   - values: the normal plasma cells (the caller's choice of clusters), on the phenotype markers.
    ///   - chains: per row of `values`, 1 κ, −1 λ, 0 undetermined.
    ///   - bins: slabs per marker, of equal counts of at most `sampleLimit` rows with a chain (every k-th).
    /// - Complexity: O(n + d · m log m) for n rows, d markers and m ≤ `sampleLimit`, markers on `workers` threads.
    static func alongMarkers(values: MarkerRows, chains: [Int8], bins: Int = 16, sampleLimit: Int = 50_000,
                             workers: Int = ProcessInfoCores.active) -> Double {
        let n = values.count
        precondition(chains.count == n && bins > 1)
        // The rows with a chain, every k-th beyond `sampleLimit` (a deterministic subsample: the
        // slabs' ratios need thousands of cells each, not every one of 400,000 plasma cells).
        let rows = ThinnedRows.every(count: n, limit: sampleLimit) { chains[$0] != 0 }
        guard rows.count >= bins else { return 0 }
        let perMarker = parallelMap(values.dimensions, workers: workers) { k -> Double in
            // The sampled cells with a finite value, in order on the marker (ties by row, the search's
            // radix order), cut by rank into equal-count slabs.
            let ordered = RestrictedSubsetSearch.ordered(rows.filter { values[$0, k].isFinite }, on: k, of: values)
            guard ordered.count >= bins else { return 0 }   // too few values to slab: no estimate
            var kappa = [Int](repeating: 0, count: bins), lambda = [Int](repeating: 0, count: bins)
            for b in 0..<bins {
                for r in (ordered.count * b / bins)..<(ordered.count * (b + 1) / bins) {
                    if chains[ordered[r]] == 1 { kappa[b] += 1 } else { lambda[b] += 1 }
                }
            }
            return mirroredProduct(kappa: kappa, lambda: lambda)
        }
        return perMarker.isEmpty ? 0 : max(0, perMarker.reduce(0, +) / Double(perMarker.count))
    }

    /// The mean over mirrored slab pairs (b, B−1−b) of the product of their log κ:λ deviations
    /// from the slabs' weighted mean (weights κλ/(κ+λ), the inverse of a log ratio's sampling
    /// variance), not clipped (the caller averages the markers' products, then clips); pairs with
    /// a slab missing a chain are left out.
    /// - Complexity: O(B) for B slabs.
    static func mirroredProduct(kappa: [Int], lambda: [Int]) -> Double {
        let bins = kappa.count
        let y = (0..<bins).map { kappa[$0] > 0 && lambda[$0] > 0 ? log(Double(kappa[$0]) / Double(lambda[$0])) : Double.nan }
        let w = (0..<bins).map { y[$0].isNaN ? 0 : Double(kappa[$0]) * Double(lambda[$0]) / Double(kappa[$0] + lambda[$0]) }
        let sw = w.reduce(0, +)
        guard sw > 0 else { return 0 }
        let mean = (0..<bins).reduce(0.0) { $0 + (w[$1] > 0 ? w[$1] * y[$1] : 0) } / sw
        var sum = 0.0, pairs = 0
        for b in 0..<(bins / 2) where w[b] > 0 && w[bins - 1 - b] > 0 {
            sum += (y[b] - mean) * (y[bins - 1 - b] - mean)
            pairs += 1
        }
        return pairs > 0 ? sum / Double(pairs) : 0
    }
}
