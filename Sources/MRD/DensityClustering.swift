/// Density-based clustering (DBSCAN) of events in marker space, used for the "distinct
/// cluster" part of the 30-event criterion: an aberrant plasma cell counts only when it lies in
/// a dense, connected group of events, so scattered events that each pass the aberrancy rules
/// do not add up to a positive call.
///
/// Metric: Chebyshev (the largest difference over the dimensions), in transformed units, so
/// `radius` reads as "within r on every marker". A point is *core* when at least
/// `minNeighbours` points (itself included) lie within `radius`; core points within `radius` of
/// each other share a cluster; a non-core point within `radius` of a core point joins its
/// cluster (the first such core point in input order); the rest is noise.
///
/// Implementation: a grid of cells of side `radius` (two points of one cell are always within
/// `radius`, so a cell with `minNeighbours` points is all core and one cluster), cell
/// neighbours found by a sweep over cells sorted by their first coordinate, and union–find.
/// Cost: O(n log n) for sorting plus O(pairs checked) — typically a few per point, since
/// dense cells decide without distance checks; worst case (many sparse neighbouring cells)
/// quadratic in the points of neighbouring cells. Above `exactLimit` points, the clustering
/// runs on a deterministic subsample of `exactLimit` points (every k-th) and every other
/// point joins the cluster of a sampled core point within `radius`, or is noise.
/// Deterministic: the same points in the same order give the same labels.
public struct DensityClustering: Sendable {
    public let radius: Double
    public let minNeighbours: Int
    public let exactLimit: Int

    public init(radius: Double, minNeighbours: Int, exactLimit: Int = 50_000) {
        self.radius = radius
        self.minNeighbours = max(1, minNeighbours)
        self.exactLimit = max(1_000, exactLimit)
    }

    /// The clusters found: a label per point (−1 for noise, clusters numbered 0… by decreasing
    /// size, ties by first point) and each cluster's size.
    public struct Result: Sendable, Equatable {
        public let labels: [Int]
        public let sizes: [Int]
        /// Whether the subsample path was used.
        public let subsampled: Bool
    }

    /// Clusters `count` points of `dimensions` values each, row-major in `points`.
    public func cluster(points: [Float], dimensions d: Int) -> Result {
        precondition(d > 0 && points.count % d == 0)
        let n = points.count / d
        if n == 0 { return Result(labels: [], sizes: [], subsampled: false) }
        if n <= exactLimit {
            let (labels, _) = exact(points: points, d: d)
            return relabel(labels, subsampled: false)
        }
        // Subsample every k-th point, cluster it exactly, then attach the others to sampled core points.
        let step = (n + exactLimit - 1) / exactLimit
        var sampleIndex: [Int] = []
        var sample: [Float] = []
        for i in Swift.stride(from: 0, to: n, by: step) {
            sampleIndex.append(i)
            sample.append(contentsOf: points[(i * d)..<(i * d + d)])
        }
        let (sampleLabels, core) = exact(points: sample, d: d)
        let grid = Grid(points: sample, d: d, radius: radius, only: core)
        var labels = [Int](repeating: -1, count: n)
        for (k, i) in sampleIndex.enumerated() { labels[i] = sampleLabels[k] }
        let r = Float(radius)
        for i in 0..<n where i % step != 0 {
            let p = i * d
            let key = grid.cellCoordinates(points, p)
            labels[i] = grid.firstWithin(points, p, coordinates: key, radius: r) { sampleLabels[$0] } ?? -1
        }
        return relabel(labels, subsampled: true)
    }

    /// Renumbers clusters by decreasing size.
    private func relabel(_ labels: [Int], subsampled: Bool) -> Result {
        var sizes: [Int: Int] = [:]
        var first: [Int: Int] = [:]
        for (i, l) in labels.enumerated() where l >= 0 {
            sizes[l, default: 0] += 1
            if first[l] == nil { first[l] = i }
        }
        let order = sizes.keys.sorted { sizes[$0]! != sizes[$1]! ? sizes[$0]! > sizes[$1]! : first[$0]! < first[$1]! }
        var map: [Int: Int] = [:]
        for (k, l) in order.enumerated() { map[l] = k }
        return Result(labels: labels.map { $0 >= 0 ? map[$0]! : -1 }, sizes: order.map { sizes[$0]! }, subsampled: subsampled)
    }

    /// Exact DBSCAN: labels (root ids, −1 noise) and the core flags.
    private func exact(points: [Float], d: Int) -> ([Int], [Bool]) {
        let n = points.count / d
        let r = Float(radius)
        let grid = Grid(points: points, d: d, radius: radius, only: nil)
        var core = [Bool](repeating: false, count: n)
        // 1. Core points.
        for c in 0..<grid.cellCount {
            let members = grid.members(c)
            if members.count >= minNeighbours {
                for p in members { core[p] = true }
                continue
            }
            for p in members {
                var count = members.count
                search: for other in grid.neighbours[c] {
                    for q in grid.members(other) where within(points, p * d, q * d, d, r) {
                        count += 1
                        if count >= minNeighbours { break search }
                    }
                }
                core[p] = count >= minNeighbours
            }
        }
        // 2. Union of core points: whole cells, then neighbouring cells with a close core pair.
        var parent = Array(0..<n)
        func find(_ x: Int) -> Int {
            var x = x
            while parent[x] != x {
                parent[x] = parent[parent[x]]
                x = parent[x]
            }
            return x
        }
        func union(_ a: Int, _ b: Int) {
            let ra = find(a), rb = find(b)
            if ra != rb { parent[max(ra, rb)] = min(ra, rb) }
        }
        var firstCore = [Int](repeating: -1, count: grid.cellCount)
        for c in 0..<grid.cellCount {
            for p in grid.members(c) where core[p] {
                if firstCore[c] < 0 { firstCore[c] = p } else { union(firstCore[c], p) }
            }
        }
        for c in 0..<grid.cellCount where firstCore[c] >= 0 {
            for other in grid.neighbours[c] where other > c && firstCore[other] >= 0 {
                if find(firstCore[c]) == find(firstCore[other]) { continue }
                pairs: for p in grid.members(c) where core[p] {
                    for q in grid.members(other) where core[q] && within(points, p * d, q * d, d, r) {
                        union(p, q)
                        break pairs
                    }
                }
            }
        }
        // 3. Labels; border points join the first core point within reach.
        var labels = [Int](repeating: -1, count: n)
        for c in 0..<grid.cellCount {
            for p in grid.members(c) {
                if core[p] {
                    labels[p] = find(p)
                } else if firstCore[c] >= 0 {
                    labels[p] = find(firstCore[c])
                } else {
                    search: for other in grid.neighbours[c] where firstCore[other] >= 0 {
                        for q in grid.members(other) where core[q] && within(points, p * d, q * d, d, r) {
                            labels[p] = find(q)
                            break search
                        }
                    }
                }
            }
        }
        return (labels, core)
    }
}

@inline(__always)
private func within(_ points: [Float], _ a: Int, _ b: Int, _ d: Int, _ r: Float) -> Bool {
    for k in 0..<d where !(abs(points[a + k] - points[b + k]) <= r) { return false }
    return true
}

/// Points bucketed into cells of side `radius`, with each occupied cell's neighbouring cells.
private struct Grid {
    let d: Int
    let radius: Double
    /// Points of cell c: order[start[c]..<start[c+1]].
    var order: [Int] = []
    var start: [Int] = []
    var coordinates: [[Int32]] = []
    var neighbours: [[Int]] = []
    var index: [[Int32]: Int] = [:]
    /// The indexed points (row-major).
    let values: [Float]

    var cellCount: Int { coordinates.count }

    func members(_ c: Int) -> ArraySlice<Int> { order[start[c]..<start[c + 1]] }

    /// The cell of the point starting at `p`; a NaN or infinite value lands in an edge cell
    /// (never a trap), far from every finite point.
    func cellCoordinates(_ points: [Float], _ p: Int) -> [Int32] {
        (0..<d).map { Int32((Double(points[p + $0]) / radius).rounded(.down).clamped(-1e6, 1e6)) }
    }

    init(points: [Float], d: Int, radius: Double, only: [Bool]?) {
        self.d = d
        self.radius = radius
        self.values = points
        let n = points.count / d
        var cellOf = [Int](repeating: -1, count: n)
        var counts: [Int] = []
        for i in 0..<n where only?[i] ?? true {
            let key = cellCoordinates(points, i * d)
            if let c = index[key] {
                cellOf[i] = c
                counts[c] += 1
            } else {
                index[key] = coordinates.count
                cellOf[i] = coordinates.count
                coordinates.append(key)
                counts.append(1)
            }
        }
        start = [0]
        for c in counts { start.append(start.last! + c) }
        var fill = start
        order = [Int](repeating: 0, count: start.last!)
        for i in 0..<n where cellOf[i] >= 0 {
            order[fill[cellOf[i]]] = i
            fill[cellOf[i]] += 1
        }
        // Neighbouring cells (every coordinate within 1): sweep over cells sorted by the first coordinate.
        let sorted = (0..<coordinates.count).sorted { coordinates[$0][0] != coordinates[$1][0] ? coordinates[$0][0] < coordinates[$1][0] : $0 < $1 }
        neighbours = [[Int]](repeating: [], count: coordinates.count)
        var low = 0
        for c in sorted {
            let a = coordinates[c]
            while coordinates[sorted[low]][0] < a[0] - 1 { low += 1 }
            var j = low
            while j < sorted.count, coordinates[sorted[j]][0] <= a[0] + 1 {
                let o = sorted[j]
                if o != c {
                    let b = coordinates[o]
                    var adjacent = true
                    for t in 1..<d where abs(a[t] - b[t]) > 1 {
                        adjacent = false
                        break
                    }
                    if adjacent { neighbours[c].append(o) }
                }
                j += 1
            }
        }
        for c in 0..<neighbours.count { neighbours[c].sort() }
    }

    /// The label of the first (in cell order) indexed point within `radius` of point p of `points`.
    func firstWithin(_ points: [Float], _ p: Int, coordinates key: [Int32], radius r: Float, label: (Int) -> Int) -> Int? {
        var cells: [Int] = []
        if let c = index[key] { cells = [c] + neighbours[c] } else {
            // The point's own cell is empty here: look at the cells around it.
            for (c, coordinate) in coordinates.enumerated() where zip(coordinate, key).allSatisfy({ abs($0 - $1) <= 1 }) { cells.append(c) }
        }
        for c in cells {
            for q in members(c) {
                var close = true
                for k in 0..<d where !(abs(points[p + k] - values[q * d + k]) <= r) {
                    close = false
                    break
                }
                if close { return label(q) }
            }
        }
        return nil
    }

}

extension Double {
    func clamped(_ lo: Double, _ hi: Double) -> Double { isNaN ? hi : Swift.min(Swift.max(self, lo), hi) }
}
