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
        let cores = grid.coreCells(core: core, labels: sampleLabels)
        labels.withUnsafeMutableBufferPointer { out in
            let out = SendableBuffer(base: out.baseAddress!)
            _ = parallelMap(chunks, workers: workers) { c in
                rows.withUnsafeBufferPointer { rows in
                    grid.attach(rows.baseAddress!, stride: stride, range: (c * chunk)..<min(n, (c + 1) * chunk), step: step, radius: r,
                                cores: cores, into: out.base)
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

    /// Exact DBSCAN: labels (root ids, −1 noise) and the core flags. The grid's members are
    /// read by position in cell order (`order[j]`, values at `packed[j·d]`), through pointers.
    private func exact(points: [Float], d: Int) -> ([Int], [Bool], DensityGrid) {
        let n = points.count / d
        let r = Float(radius), minNeighbours = minNeighbours
        let grid = DensityGrid(points: points, d: d, radius: radius, workers: workers, cellIndexBytes: cellIndexBytes)
        let cells = grid.cellCount
        var core = [Bool](repeating: false, count: n)
        var labels = [Int](repeating: -1, count: n)
        grid.order.withUnsafeBufferPointer { order in
        grid.start.withUnsafeBufferPointer { start in
        grid.packed.withUnsafeBufferPointer { packed in
        grid.neighbourStart.withUnsafeBufferPointer { neighbourStart in
        grid.neighbourList.withUnsafeBufferPointer { neighbourList in
            /// Whether the points at positions a and b are within r on every dimension.
            func close(_ a: Int, _ b: Int) -> Bool {
                for k in 0..<d where !(abs(packed[a * d + k] - packed[b * d + k]) <= r) { return false }
                return true
            }
            // 1. Core points.
            for c in 0..<cells {
                let members = start[c]..<start[c + 1]
                if members.count >= minNeighbours {
                    for j in members { core[order[j]] = true }
                    continue
                }
                for p in members {
                    var count = members.count
                    search: for m in neighbourStart[c]..<neighbourStart[c + 1] {
                        let other = Int(neighbourList[m])
                        for q in start[other]..<start[other + 1] where close(p, q) {
                            count += 1
                            if count >= minNeighbours { break search }
                        }
                    }
                    core[order[p]] = count >= minNeighbours
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
            var firstCore = [Int](repeating: -1, count: cells)
            for c in 0..<cells {
                for j in start[c]..<start[c + 1] where core[order[j]] {
                    if firstCore[c] < 0 { firstCore[c] = order[j] } else { union(firstCore[c], order[j]) }
                }
            }
            for c in 0..<cells where firstCore[c] >= 0 {
                for m in neighbourStart[c]..<neighbourStart[c + 1] {
                    let other = Int(neighbourList[m])
                    guard other > c && firstCore[other] >= 0 else { continue }
                    if find(firstCore[c]) == find(firstCore[other]) { continue }
                    pairs: for p in start[c]..<start[c + 1] where core[order[p]] {
                        for q in start[other]..<start[other + 1] where core[order[q]] && close(p, q) {
                            union(order[p], order[q])
                            break pairs
                        }
                    }
                }
            }
            // 3. Labels; border points join the first core point within reach.
            for c in 0..<cells {
                for p in start[c]..<start[c + 1] {
                    let point = order[p]
                    if core[point] {
                        labels[point] = find(point)
                    } else if firstCore[c] >= 0 {
                        labels[point] = find(firstCore[c])
                    } else {
                        search: for m in neighbourStart[c]..<neighbourStart[c + 1] {
                            let other = Int(neighbourList[m])
                            guard firstCore[other] >= 0 else { continue }
                            for q in start[other]..<start[other + 1] where core[order[q]] && close(p, q) {
                                labels[point] = find(order[q])
                                break search
                            }
                        }
                    }
                }
            }
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
