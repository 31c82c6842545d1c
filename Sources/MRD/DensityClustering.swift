import Dispatch
import EventCore

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
    /// Threads the grid's neighbour lists and the attach step run on, at most (labels do not depend on it).
    public let workers: Int

    /// Bytes the grid's cell bit sets may take (``CellBitIndex``); 0: always the scan. A speed setting: the labels are the same.
    let cellIndexBytes: Int

    public init(radius: Double, minNeighbours: Int, exactLimit: Int = 50_000, workers: Int = ProcessInfoCores.active) {
        self.init(radius: radius, minNeighbours: minNeighbours, exactLimit: exactLimit, workers: workers, cellIndexBytes: CellBitIndex.byteLimit)
    }

    init(radius: Double, minNeighbours: Int, exactLimit: Int = 50_000, workers: Int = ProcessInfoCores.active, cellIndexBytes: Int) {
        self.radius = radius
        self.minNeighbours = max(1, minNeighbours)
        self.exactLimit = max(1_000, exactLimit)
        self.workers = max(1, workers)
        self.cellIndexBytes = cellIndexBytes
    }

    /// The clusters found: a label per point (−1 for noise, clusters numbered 0… by decreasing
    /// size, ties by first point) and each cluster's size. Labels are 32-bit: at 30 million
    /// events, 400,000 plasma cells' labels take 1.6 MB instead of 3.2.
    public struct Result: Sendable, Equatable {
        public let labels: [Int32]
        public let sizes: [Int]
        /// Whether the subsample path was used.
        public let subsampled: Bool
    }

    /// Clusters `count` points of `dimensions` values each, row-major in `points`.
    public func cluster(points: [Float], dimensions d: Int) -> Result {
        precondition(d > 0 && points.count % d == 0)
        return cluster(rows: points, stride: d, dimensions: d)
    }

    /// Clusters the rows of a row-major table of `stride` values per row, whose first
    /// `dimensions` values are the point: read in place, so that a table of plasma-cell rows
    /// is not copied (only the subsample, of at most `exactLimit` points, is).
    /// - Complexity: as ``cluster(points:dimensions:)``; memory O(min(rows, exactLimit) · dimensions) beyond the labels.
    func cluster(rows: [Float], stride: Int, dimensions d: Int) -> Result {
        precondition(d > 0 && stride >= d && rows.count % stride == 0 && rows.count / stride < Int(Int32.max))
        let n = rows.count / stride
        if n == 0 { return Result(labels: [], sizes: [], subsampled: false) }
        if n <= exactLimit {
            var points = rows
            if stride != d {
                points = []
                points.reserveCapacity(n * d)
                for i in 0..<n { points.append(contentsOf: rows[(i * stride)..<(i * stride + d)]) }
            }
            let (labels, _, _) = exact(points: points, d: d)
            return relabel(labels.map { Int32($0) }, subsampled: false)
        }
        // Subsample every k-th point, cluster it exactly, then attach the others to sampled core points.
        let step = (n + exactLimit - 1) / exactLimit
        var sampleIndex: [Int] = []
        var sample: [Float] = []
        for i in Swift.stride(from: 0, to: n, by: step) {
            sampleIndex.append(i)
            sample.append(contentsOf: rows[(i * stride)..<(i * stride + d)])
        }
        var clock = PhaseClock()
        // The sample's grid is reused; only its core points take others in.
        let (sampleLabels, core, grid) = exact(points: sample, d: d)
        releaseFreedMemory()
        clock.mark("dbscan sample")
        defer { clock.mark("attach"); clock.report() }
        var labels = [Int32](repeating: -1, count: n)
        for (k, i) in sampleIndex.enumerated() { labels[i] = Int32(sampleLabels[k]) }
        let r = Float(radius)
        // Each point is attached on its own: chunks on `workers` threads, each writing its own range.
        let chunk = 4_096, chunks = (n + chunk - 1) / chunk
        labels.withUnsafeMutableBufferPointer { out in
            let out = SendableBuffer(base: out.baseAddress!)
            _ = parallelMap(chunks, workers: workers) { c in
                withUnsafeTemporaryAllocation(of: Int32.self, capacity: d) { key in
                    for i in (c * chunk)..<min(n, (c + 1) * chunk) where i % step != 0 {
                        out.base[i] = Int32(grid.firstWithin(rows, i * stride, radius: r, only: core, key: key.baseAddress!) { sampleLabels[$0] } ?? -1)
                    }
                }
            }
        }
        releaseFreedMemory()
        return relabel(labels, subsampled: true)
    }

    /// Renumbers clusters by decreasing size (ties by first point). The labels before are root
    /// point numbers, below the point count: sizes, first points and the new numbers are kept in
    /// arrays indexed by them, not dictionaries.
    private func relabel(_ labels: consuming [Int32], subsampled: Bool) -> Result {
        let slots = Int(labels.max() ?? -1) + 1
        var sizes = [Int](repeating: 0, count: slots), first = [Int](repeating: -1, count: slots)
        for (i, l) in labels.enumerated() where l >= 0 {
            sizes[Int(l)] += 1
            if first[Int(l)] < 0 { first[Int(l)] = i }
        }
        let order = (0..<slots).filter { sizes[$0] > 0 }.sorted { sizes[$0] != sizes[$1] ? sizes[$0] > sizes[$1] : first[$0] < first[$1] }
        var map = [Int32](repeating: -1, count: slots)
        for (k, l) in order.enumerated() { map[l] = Int32(k) }
        // In place: a second label array would be as large as the first.
        for i in labels.indices where labels[i] >= 0 { labels[i] = map[Int(labels[i])] }
        return Result(labels: labels, sizes: order.map { sizes[$0] }, subsampled: subsampled)
    }

    /// Exact DBSCAN: labels (root ids, −1 noise) and the core flags.
    private func exact(points: [Float], d: Int) -> ([Int], [Bool], Grid) {
        let n = points.count / d
        let r = Float(radius)
        let grid = Grid(points: points, d: d, radius: radius, workers: workers, cellIndexBytes: cellIndexBytes)
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
                search: for other in grid.neighbours(c) {
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
            for other in grid.neighbours(c) where other > c && firstCore[other] >= 0 {
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
                    search: for other in grid.neighbours(c) where firstCore[other] >= 0 {
                        for q in grid.members(other) where core[q] && within(points, p * d, q * d, d, r) {
                            labels[p] = find(q)
                            break search
                        }
                    }
                }
            }
        }
        return (labels, core, grid)
    }
}

/// A buffer that concurrent workers write at disjoint indices.
private struct SendableBuffer: @unchecked Sendable {
    let base: UnsafeMutablePointer<Int32>
}

@inline(__always)
private func within(_ points: [Float], _ a: Int, _ b: Int, _ d: Int, _ r: Float) -> Bool {
    for k in 0..<d where !(abs(points[a + k] - points[b + k]) <= r) { return false }
    return true
}

/// Points bucketed into cells of side `radius`, with each occupied cell's neighbouring cells.
/// Cells are found by a hash of their coordinates (no allocation per lookup); cells whose
/// hashes collide are chained and told apart by their coordinates.
private struct Grid {
    let d: Int
    let radius: Double
    /// Points of cell c: order[start[c]..<start[c+1]].
    var order: [Int] = []
    var start: [Int] = []
    /// Cell coordinates, `d` per cell.
    var coordinates: [Int32] = []
    /// Neighbouring cells of cell c: neighbourList[neighbourStart[c]..<neighbourStart[c+1]] (one
    /// flat list: a list per cell cost more memory than the grid's points).
    var neighbourStart: [Int] = []
    var neighbourList: [Int32] = []
    /// First cell of each coordinate hash; `sameHash[c]` is the next cell with c's hash (−1: none).
    var index: [UInt64: Int] = [:]
    var sameHash: [Int] = []
    /// Cells sorted by their leading coordinates (ties by number).
    var byFirst: [Int] = []
    /// The cells as bit sets by coordinate, when small enough (``CellBitIndex``); else the scan over ``byFirst``.
    var bitIndex: CellBitIndex?
    /// The indexed points (row-major).
    let values: [Float]
    /// The indexed points' values in cell order (point order[j] at packed[j·d..<(j+1)·d]), so a
    /// cell's members are read from contiguous memory.
    var packed: [Float] = []

    var cellCount: Int { sameHash.count }

    func members(_ c: Int) -> ArraySlice<Int> { order[start[c]..<start[c + 1]] }

    /// The occupied cells adjacent to cell c, in increasing order.
    func neighbours(_ c: Int) -> LazyMapSequence<ArraySlice<Int32>, Int> {
        neighbourList[neighbourStart[c]..<neighbourStart[c + 1]].lazy.map { Int($0) }
    }

    /// Coordinate k of the cell of the point starting at `p` (⌊value / radius⌋); a NaN or
    /// infinite value lands in an edge cell (never a trap), far from every finite point.
    @inline(__always)
    func coordinate(_ points: [Float], _ p: Int, _ k: Int) -> Int32 {
        // Clamped, then floored by truncation and correction (the same as rounded(.down) in
        // this range, without a call per value).
        let q = (Double(points[p + k]) / radius).clamped(-1e6, 1e6)
        let i = Int32(q)
        return Double(i) > q ? i - 1 : i
    }

    /// Writes the point's cell coordinates to `key` and returns their hash.
    @inline(__always)
    func key(_ points: [Float], _ p: Int, into key: UnsafeMutablePointer<Int32>) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for k in 0..<d {
            let c = coordinate(points, p, k)
            key[k] = c
            h = (h ^ UInt64(UInt32(bitPattern: c))) &* 0x100_0000_01B3
        }
        return h
    }

    /// The occupied cell with these coordinates, if any.
    private func cell(key: UnsafeMutablePointer<Int32>, hash h: UInt64) -> Int? {
        var c = index[h] ?? -1
        while c >= 0 {
            var same = true
            for k in 0..<d where coordinates[c * d + k] != key[k] {
                same = false
                break
            }
            if same { return c }
            c = sameHash[c]
        }
        return nil
    }

    init(points: [Float], d: Int, radius: Double, workers: Int, cellIndexBytes: Int) {
        self.d = d
        self.radius = radius
        self.values = points
        let n = points.count / d
        var cellOf = [Int](repeating: -1, count: n)
        var counts: [Int] = []
        let key = UnsafeMutablePointer<Int32>.allocate(capacity: d)
        defer { key.deallocate() }
        for i in 0..<n {
            let h = self.key(points, i * d, into: key)
            if let c = cell(key: key, hash: h) {
                cellOf[i] = c
                counts[c] += 1
            } else {
                let c = sameHash.count
                for k in 0..<d { coordinates.append(key[k]) }
                sameHash.append(index[h] ?? -1)
                index[h] = c
                cellOf[i] = c
                counts.append(1)
            }
        }
        start = [0]
        for c in counts { start.append(start.last! + c) }
        var fill = start
        order = [Int](repeating: 0, count: start.last!)
        for i in 0..<n {
            order[fill[cellOf[i]]] = i
            fill[cellOf[i]] += 1
        }
        packed = [Float](repeating: 0, count: order.count * d)
        for (j, i) in order.enumerated() { for k in 0..<d { packed[j * d + k] = points[i * d + k] } }
        // Neighbouring cells (every coordinate within 1): bit sets, or a sweep over cells sorted by their leading coordinates.
        let cells = sameHash.count, coordinates = self.coordinates
        // Sorted by the leading coordinates (up to three), then cell number.
        let leading = min(d, Self.leadingCoordinates)
        byFirst = (0..<cells).sorted { a, b in
            for k in 0..<leading where coordinates[a * d + k] != coordinates[b * d + k] { return coordinates[a * d + k] < coordinates[b * d + k] }
            return a < b
        }
        bitIndex = CellBitIndex(coordinates: coordinates, dimensions: d, cells: cells, byteLimit: cellIndexBytes)
        // Each cell's list on its own, chunks of cells on `workers` threads, joined in cell order.
        let grid = self, chunk = 1_024
        let lists = parallelMap((cells + chunk - 1) / chunk, workers: workers) { k -> (counts: [Int], list: [Int32]) in
            var counts: [Int] = [], list: [Int32] = []
            for c in (k * chunk)..<min(cells, (k + 1) * chunk) {
                let found = grid.neighbourCells(of: c)
                counts.append(found.count)
                list += found.map { Int32($0) }
            }
            return (counts, list)
        }
        neighbourStart = [0]
        neighbourStart.reserveCapacity(cells + 1)
        neighbourList.reserveCapacity(lists.reduce(0) { $0 + $1.list.count })
        for part in lists {
            for count in part.counts { neighbourStart.append(neighbourStart[neighbourStart.count - 1] + count) }
            neighbourList += part.list
        }
    }

    /// Coordinates that order ``byFirst``: the cells near a point are found by binary searches
    /// over the 3^(leading − 1) combinations of its leading coordinates ± 1, each followed by a
    /// scan over the last leading coordinate's three values.
    static let leadingCoordinates = 3

    /// The occupied cells adjacent to cell c (every coordinate within 1), in increasing order.
    /// - Complexity: O(3^(leading − 1) · log cells + cells within 1 of c on the leading coordinates).
    private func neighbourCells(of c: Int) -> [Int] {
        coordinates.withUnsafeBufferPointer { all in
            var found = cells(around: all.baseAddress! + c * d)
            found.removeAll { $0 == c }
            return found
        }
    }

    /// The occupied cells whose every coordinate is within 1 of `key`'s, in increasing order.
    private func cells(around key: UnsafePointer<Int32>) -> [Int] {
        if let bitIndex { return bitIndex.cells(around: key) }
        var found: [Int] = []
        let leading = min(d, Self.leadingCoordinates), last = leading - 1
        // Every combination of the leading coordinates but the last, each within 1 of the key's
        // (unused leading slots stay 0 and are never compared).
        let combinations = last == 0 ? 1 : last == 1 ? 3 : 9
        for combination in 0..<combinations {
            var prefix: (Int32, Int32, Int32) = (0, 0, 0)
            if last >= 1 { prefix.0 = key[0] + Int32(combination % 3) - 1 }
            if last >= 2 { prefix.1 = key[1] + Int32(combination / 3) - 1 }
            let lastLow = key[last] - 1, lastHigh = key[last] + 1
            switch last {
            case 0: prefix.0 = lastLow
            case 1: prefix.1 = lastLow
            default: prefix.2 = lastLow
            }
            var j = lowerBound(prefix, leading)
            while j < byFirst.count {
                let o = byFirst[j], at = o * d
                if last >= 1 && coordinates[at] != prefix.0 { break }
                if last >= 2 && coordinates[at + 1] != prefix.1 { break }
                guard coordinates[at + last] <= lastHigh else { break }
                var near = true
                for k in leading..<d where abs(coordinates[at + k] - key[k]) > 1 { near = false; break }
                if near { found.append(o) }
                j += 1
            }
        }
        found.sort()
        return found
    }

    /// The first position in byFirst whose cell's leading coordinates are ≥ `prefix` (lexicographically, `leading` of them).
    private func lowerBound(_ prefix: (Int32, Int32, Int32), _ leading: Int) -> Int {
        var lo = 0, hi = byFirst.count
        while lo < hi {
            let mid = (lo + hi) / 2, at = byFirst[mid] * d
            var less: Bool
            if coordinates[at] != prefix.0 || leading == 1 { less = coordinates[at] < prefix.0 }
            else if coordinates[at + 1] != prefix.1 || leading == 2 { less = coordinates[at + 1] < prefix.1 }
            else { less = coordinates[at + 2] < prefix.2 }
            if less { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// The label of the first (in cell order) indexed point with `only` set within `radius` of
    /// point p of `points`. Called once per attached point: it reads the grid's arrays by index,
    /// with no closure or slice that would retain them per call.
    /// - Parameter key: room for `d` coordinates (the caller's, reused from point to point).
    func firstWithin(_ points: [Float], _ p: Int, radius r: Float, only: [Bool], key: UnsafeMutablePointer<Int32>, label: (Int) -> Int) -> Int? {
        guard let c = cell(key: key, hash: self.key(points, p, into: key)) else {
            // The point's own cell is empty: the cells around it, in cell order.
            for other in cells(around: key) {
                if let j = firstClose(points, p, r, only, cell: other) { return label(order[j]) }
            }
            return nil
        }
        if let j = firstClose(points, p, r, only, cell: c) { return label(order[j]) }
        for n in neighbourStart[c]..<neighbourStart[c + 1] {
            if let j = firstClose(points, p, r, only, cell: Int(neighbourList[n])) { return label(order[j]) }
        }
        return nil
    }

    /// The first position j of cell c's members (`order[j]`) with `only` set within `r` of point p.
    @inline(__always)
    private func firstClose(_ points: [Float], _ p: Int, _ r: Float, _ only: [Bool], cell c: Int) -> Int? {
        for j in start[c]..<start[c + 1] where only[order[j]] {
            var close = true
            for k in 0..<d where !(abs(points[p + k] - packed[j * d + k]) <= r) {
                close = false
                break
            }
            if close { return j }
        }
        return nil
    }
}

extension Double {
    func clamped(_ lo: Double, _ hi: Double) -> Double { isNaN ? hi : Swift.min(Swift.max(self, lo), hi) }
}
