/// The grid ``DensityClustering`` finds neighbours with.
/// Points bucketed into cells of side `radius`, with each occupied cell's neighbouring cells.
/// Cells are found by a hash of their coordinates (no allocation per lookup); cells whose
/// hashes collide are chained and told apart by their coordinates.
struct DensityGrid {
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
    var index = CellHashTable()
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

    /// Writes the cell coordinates of the point at `point` (d values) to `key` and returns their
    /// hash. Coordinate k is ⌊value / radius⌋; a NaN or infinite value lands in an edge cell
    /// (never a trap), far from every finite point.
    @inline(__always)
    func key(_ point: UnsafePointer<Float>, into key: UnsafeMutablePointer<Int32>) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for k in 0..<d {
            // Clamped, then floored by truncation and correction (the same as rounded(.down) in
            // this range, without a call per value).
            let q = (Double(point[k]) / radius).clamped(-1e6, 1e6)
            let i = Int32(q)
            let c = Double(i) > q ? i - 1 : i
            key[k] = c
            h = (h ^ UInt64(UInt32(bitPattern: c))) &* 0x100_0000_01B3
        }
        return h
    }

    /// The occupied cell with these coordinates, if any.
    private func cell(key: UnsafeMutablePointer<Int32>, hash h: UInt64) -> Int? {
        var c = index.cell(h) ?? -1
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
            let h = points.withUnsafeBufferPointer { self.key($0.baseAddress! + i * d, into: key) }
            if let c = cell(key: key, hash: h) {
                cellOf[i] = c
                counts[c] += 1
            } else {
                let c = sameHash.count
                for k in 0..<d { coordinates.append(key[k]) }
                sameHash.append(index.set(h, cell: c))
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

    /// Every cell's core points (in the cell's order), their labels and their values side by
    /// side: what the attach step reads, instead of every member and a flag per member.
    struct CoreCells {
        /// Core points of cell c: positions start[c]..<start[c + 1] of `labels` (and of `packed`, d values each).
        let start: [Int32]
        let labels: [Int32]
        let packed: [Float]
    }

    /// - Parameters: `core`: per indexed point; `labels`: per indexed point, its cluster label.
    /// - Complexity: O(points · d).
    func coreCells(core: [Bool], labels: [Int]) -> CoreCells {
        var cellStart: [Int32] = [0], coreLabels: [Int32] = [], corePacked: [Float] = []
        cellStart.reserveCapacity(cellCount + 1)
        for c in 0..<cellCount {
            for j in start[c]..<start[c + 1] where core[order[j]] {
                coreLabels.append(Int32(labels[order[j]]))
                corePacked.append(contentsOf: packed[(j * d)..<((j + 1) * d)])
            }
            cellStart.append(Int32(coreLabels.count))
        }
        return CoreCells(start: cellStart, labels: coreLabels, packed: corePacked)
    }

    /// Attaches the points `range` of a row-major table (`stride` values per row, the first d
    /// the point) but every `step`-th (the sampled ones, labelled already): each gets the label
    /// of the first (in cell order) core point within `radius`, looked for in its own cell, then
    /// in the neighbouring cells in increasing order; −1 when none. One call per chunk of points,
    /// reading the grid's arrays through pointers (no copy of the grid, no retain per point).
    /// - Complexity: O(points × (d + core points of the cells looked in)).
    func attach(_ rows: UnsafePointer<Float>, stride: Int, range: Range<Int>, step: Int, radius r: Float, cores: CoreCells,
                into out: UnsafeMutablePointer<Int32>) {
        let d = d
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: d) { keyBuffer in
            let key = keyBuffer.baseAddress!
            cores.start.withUnsafeBufferPointer { start in
                cores.packed.withUnsafeBufferPointer { packed in
                    cores.labels.withUnsafeBufferPointer { labels in
                        neighbourStart.withUnsafeBufferPointer { neighbourStart in
                            neighbourList.withUnsafeBufferPointer { neighbourList in
                                for i in range where i % step != 0 {
                                    let point = rows + i * stride
                                    /// The label of the first of cell c's core points within r of the point, or −1.
                                    func firstClose(_ c: Int) -> Int32 {
                                        var j = Int(start[c])
                                        let end = Int(start[c + 1])
                                        while j < end {
                                            var close = true
                                            for k in 0..<d where !(abs(point[k] - packed[j * d + k]) <= r) {
                                                close = false
                                                break
                                            }
                                            if close { return labels[j] }
                                            j += 1
                                        }
                                        return -1
                                    }
                                    let h = self.key(point, into: key)
                                    var found: Int32 = -1
                                    if let c = cell(key: key, hash: h) {
                                        found = firstClose(c)
                                        var n = neighbourStart[c]
                                        while found < 0 && n < neighbourStart[c + 1] {
                                            found = firstClose(Int(neighbourList[n]))
                                            n += 1
                                        }
                                    } else if let bitIndex {
                                        // The point's own cell is empty: the cells around it, in cell order.
                                        bitIndex.forEachCell(around: key) { other in
                                            found = firstClose(other)
                                            return found >= 0
                                        }
                                    } else {
                                        for other in cells(around: key) where found < 0 { found = firstClose(other) }
                                    }
                                    out[i] = found
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

extension Double {
    func clamped(_ lo: Double, _ hi: Double) -> Double { isNaN ? hi : Swift.min(Swift.max(self, lo), hi) }
}
