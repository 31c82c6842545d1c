import Foundation

/// How far a plasma-cell cluster lies from the nearest normal subset of a ``NormalReference``:
/// the Mahalanobis distance of the cluster's mean under that subset's covariance (overall), and
/// per marker the difference in that subset's standard deviations.
public struct ReferenceDistance: Codable, Sendable, Equatable {
    /// Index of the nearest subset in the reference's `plasma_cells.subsets`.
    public let nearestSubset: Int
    /// Mahalanobis distance, in standard deviations of the nearest subset.
    public let overall: Double
    /// (cluster mean − subset centroid) / subset SD, per phenotype marker.
    public let markers: [String: Double]

    enum CodingKeys: String, CodingKey { case overall, markers, nearestSubset = "nearest_subset" }
}

extension NormalReference {
    /// The distance of a point (a cluster's mean per ``PlasmaCellReference/markers``) to the nearest subset;
    /// nil when the reference has no subset.
    ///
    /// Covariances are inverted once per call by Cholesky factorisation with a small ridge (1e-6 of
    /// the trace) so a degenerate subset cannot divide by zero.
    /// - Complexity: O(subsets × markers³).
    /// - Parameter ignoring: markers left out (a masked marker): the distance is taken in the others only.
    public func distance(of point: [Double], ignoring: Set<String> = []) -> ReferenceDistance? {
        let all = plasmaCells.markers.count
        guard point.count == all, !plasmaCells.subsets.isEmpty else { return nil }
        let kept = plasmaCells.markers.indices.filter { !ignoring.contains(plasmaCells.markers[$0]) }
        let d = kept.count
        guard d > 0 else { return nil }
        var best: (index: Int, distance: Double)?
        for (index, subset) in plasmaCells.subsets.enumerated() {
            let delta = kept.map { point[$0] - subset.centroid[$0] }
            let covariance = kept.flatMap { i in kept.map { j in subset.covariance[i * all + j] } }
            guard let squared = Self.mahalanobisSquared(delta, covariance: covariance, dimensions: d) else { continue }
            let distance = squared.squareRoot()
            if best == nil || distance < best!.distance { best = (index, distance) }
        }
        guard let best else { return nil }
        let subset = plasmaCells.subsets[best.index]
        var markers: [String: Double] = [:]
        for i in kept {
            let sd = max(1e-9, subset.covariance[i * all + i]).squareRoot()
            markers[plasmaCells.markers[i]] = round6((point[i] - subset.centroid[i]) / sd)
        }
        return ReferenceDistance(nearestSubset: best.index, overall: round6(best.distance), markers: markers)
    }

    /// Whether a cluster at `distance` is phenotypically distinct from every normal subset: on some
    /// marker more than ``departureSD`` of the nearest subset's SDs away, or overall outside the
    /// subset's 99% ellipsoid (Mahalanobis² above the χ² 0.99 quantile for the markers compared).
    public static func isDistinct(_ distance: ReferenceDistance) -> Bool {
        distance.markers.values.contains { abs($0) > departureSD } || distance.overall * distance.overall > chiSquare99(distance.markers.count)
    }

    /// Per-marker departure, in SDs of the nearest normal subset.
    public static let departureSD = 2.0

    /// χ² 0.99 quantile for 1–12 degrees of freedom (Wilson–Hilferty beyond).
    static func chiSquare99(_ df: Int) -> Double {
        let table: [Double] = [6.635, 9.210, 11.345, 13.277, 15.086, 16.812, 18.475, 20.090, 21.666, 23.209, 24.725, 26.217]
        if df >= 1 && df <= table.count { return table[df - 1] }
        let k = Double(max(1, df)), z = 2.326
        return k * pow(1 - 2 / (9 * k) + z * (2 / (9 * k)).squareRoot(), 3)
    }

    /// δᵀ Σ⁻¹ δ by Cholesky (Σ + ridge·I = L Lᵀ, solve L y = δ, return |y|²); nil if Σ is not positive definite.
    static func mahalanobisSquared(_ delta: [Double], covariance: [Double], dimensions d: Int) -> Double? {
        var l = covariance
        let trace = (0..<d).reduce(0.0) { $0 + covariance[$1 * d + $1] }
        for i in 0..<d { l[i * d + i] += 1e-6 * max(trace, 1e-12) }
        for j in 0..<d {
            var diagonal = l[j * d + j]
            for k in 0..<j { diagonal -= l[j * d + k] * l[j * d + k] }
            guard diagonal > 0, diagonal.isFinite else { return nil }
            let root = diagonal.squareRoot()
            l[j * d + j] = root
            for i in (j + 1)..<max(j + 1, d) {
                var value = l[i * d + j]
                for k in 0..<j { value -= l[i * d + k] * l[j * d + k] }
                l[i * d + j] = value / root
            }
        }
        var y = [Double](repeating: 0, count: d)
        for i in 0..<d {
            var value = delta[i]
            for k in 0..<i { value -= l[i * d + k] * y[k] }
            y[i] = value / l[i * d + i]
        }
        return y.reduce(0) { $0 + $1 * $1 }
    }
}
