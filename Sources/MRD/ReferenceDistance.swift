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
    public func distance(of point: [Double]) -> ReferenceDistance? {
        let d = plasmaCells.markers.count
        guard point.count == d, !plasmaCells.subsets.isEmpty else { return nil }
        var best: (index: Int, distance: Double)?
        for (index, subset) in plasmaCells.subsets.enumerated() {
            let delta = (0..<d).map { point[$0] - subset.centroid[$0] }
            guard let squared = Self.mahalanobisSquared(delta, covariance: subset.covariance, dimensions: d) else { continue }
            let distance = squared.squareRoot()
            if best == nil || distance < best!.distance { best = (index, distance) }
        }
        guard let best else { return nil }
        let subset = plasmaCells.subsets[best.index]
        var markers: [String: Double] = [:]
        for (i, name) in plasmaCells.markers.enumerated() {
            let sd = max(1e-9, subset.covariance[i * d + i]).squareRoot()
            markers[name] = round6((point[i] - subset.centroid[i]) / sd)
        }
        return ReferenceDistance(nearestSubset: best.index, overall: round6(best.distance), markers: markers)
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
