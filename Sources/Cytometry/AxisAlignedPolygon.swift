/// A polygon gate whose outline is an axis-aligned rectangle, recognised so that it can be
/// evaluated as a rectangle gate (two ranges instead of four edges per event) with exactly the
/// same events inside.
///
/// Why the events are the same: the polygon rule (``windingNumber(x:y:xs:ys:)``'s parity, and
/// the vectorised ``polygonMask(x:y:xs:ys:into:count:avx2:)``) never counts a horizontal edge.
/// A vertical edge at x = a, from y₀ to y₁, counts an event when it lies in the edge's y range,
/// [min, max) whichever its direction, and `side = 0 · (y − y₀) − (x − a) · (y₁ − y₀)` has the
/// sign that direction asks for, which in both directions comes down to `fl(x − a) · |y₁ − y₀|`
/// being negative. The floating-point difference of two doubles has the sign of the exact one
/// (and is zero only when they are equal), so that is `x < a` — unless the product underflows
/// to zero, which ``init(xs:ys:)`` rules out (below). The two vertical edges, at x_min < x_max,
/// share the y range [y_min, y_max), so the parity is odd exactly when x_min ≤ x < x_max and
/// y_min ≤ y < y_max: the rectangle gate's test (lower bound inclusive, upper exclusive). NaN
/// is outside under both rules (every comparison with it is false); so is ±∞ in x (both edges
/// or neither count) and in y (outside the range).
///
/// The product `fl(x − a) · h` (h = y_max − y_min) is not zero when x ≠ a if h > 1/2 (the
/// smallest nonzero difference, 2⁻¹⁰⁷⁴, times more than ½ rounds away from zero; times exactly
/// ½ it is a tie, which rounds to the even zero), or if |a| ≥ 2⁻⁹⁰⁰ and h ≥ 2⁻¹⁰⁰ (x and a then
/// differ by at least 2⁻⁹⁵³). An outline that meets neither condition — an edge at x = 0 with a
/// height of ½ or less, say — stays a polygon: an event value within a subnormal of the edge
/// could otherwise land on the other side.
struct AxisAlignedPolygon: Equatable {
    let x: Range<Double>
    let y: Range<Double>

    /// The rectangle the outline (xs, ys) is, or nil when it is not an axis-aligned rectangle of
    /// four corners (repeated consecutive vertices, such as a closing copy of the first, are
    /// ignored) or when the underflow condition above is not met.
    /// - Complexity: O(vertices).
    init?(xs: [Double], ys: [Double]) {
        guard xs.count == ys.count else { return nil }
        var corners: [(x: Double, y: Double)] = []
        for (vx, vy) in zip(xs, ys) {
            guard vx.isFinite, vy.isFinite else { return nil }
            if let last = corners.last, last.x == vx, last.y == vy { continue }
            corners.append((vx, vy))
        }
        if corners.count > 1, corners[0].x == corners[corners.count - 1].x, corners[0].y == corners[corners.count - 1].y {
            corners.removeLast()
        }
        guard corners.count == 4 else { return nil }
        // Every edge (cyclically) horizontal or vertical, and the four alternating: a box. Each
        // edge has a nonzero length, so the box has a nonzero width and height.
        var vertical: [Bool] = []
        for i in 0..<4 {
            let a = corners[i], b = corners[(i + 1) % 4]
            guard (a.x == b.x) != (a.y == b.y) else { return nil }
            vertical.append(a.x == b.x)
        }
        guard vertical[0] != vertical[1], vertical[1] != vertical[2], vertical[2] != vertical[3] else { return nil }
        let xLow = corners.map(\.x).min()!, xHigh = corners.map(\.x).max()!
        let yLow = corners.map(\.y).min()!, yHigh = corners.map(\.y).max()!
        let height = yHigh - yLow
        guard height.isFinite, (xHigh - xLow).isFinite else { return nil }
        let edgesClearOfZero = Swift.min(abs(xLow), abs(xHigh)) >= 0x1p-900
        guard height > 0.5 || (edgesClearOfZero && height >= 0x1p-100) else { return nil }
        x = xLow..<xHigh
        y = yLow..<yHigh
    }
}
