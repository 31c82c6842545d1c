/// The occupied cells of a density-clustering grid as bit sets, one per dimension and
/// coordinate value: the cells within 1 of a point on every coordinate are the AND over the
/// dimensions of the OR of (at most) three bit sets, read out in increasing cell order.
///
/// When the points concentrate in a few coordinate values per dimension (plasma cells span a
/// few grid cells per marker), a search ordered by the leading coordinates scans most cells for
/// every query; the bit sets cost d × 3 × cells / 64 word operations instead. The index is only
/// built while it stays small (``byteLimit``); it is a speed setting, and the cells found are
/// the same as by the scan.
struct CellBitIndex {
    /// Bit sets larger than this in all are not built by default (the grid keeps its scan).
    static let byteLimit = 1 << 20

    let dimensions: Int
    /// 64-bit words per bit set.
    let words: Int
    /// Per dimension, its distinct coordinate values in increasing order.
    private let values: [[Int32]]
    /// Per dimension, the index in ``bits`` of its first value's bit set.
    private let firstSet: [Int]
    /// Every bit set, `words` words each; the last one is all zero (a missing value).
    private let bits: [UInt64]

    /// - Parameters: `coordinates`: `dimensions` per cell, cell after cell.
    /// - Returns: nil when the bit sets would exceed `byteLimit` bytes.
    /// - Complexity: O(cells × dimensions × log cells).
    init?(coordinates: [Int32], dimensions d: Int, cells: Int, byteLimit: Int = CellBitIndex.byteLimit) {
        guard d > 0, cells > 0 else { return nil }
        let words = (cells + 63) / 64
        var values: [[Int32]] = []
        var total = 0
        for k in 0..<d {
            let distinct = Array(Set((0..<cells).map { coordinates[$0 * d + k] })).sorted()
            total += distinct.count
            guard (total + 1) * words * 8 <= byteLimit else { return nil }
            values.append(distinct)
        }
        var firstSet: [Int] = []
        var bits = [UInt64](repeating: 0, count: (total + 1) * words)
        var next = 0
        for k in 0..<d {
            firstSet.append(next)
            for c in 0..<cells {
                // Binary search of the cell's value among the dimension's distinct ones.
                let v = coordinates[c * d + k], list = values[k]
                var lo = 0, hi = list.count
                while lo < hi { let mid = (lo + hi) / 2; if list[mid] < v { lo = mid + 1 } else { hi = mid } }
                bits[(next + lo) * words + c / 64] |= 1 << UInt64(c % 64)
            }
            next += values[k].count
        }
        self.dimensions = d
        self.words = words
        self.values = values
        self.firstSet = firstSet
        self.bits = bits
    }

    /// The cells whose every coordinate is within 1 of `key`'s, in increasing order.
    /// - Complexity: O(dimensions × (log values + words) + cells found).
    func cells(around key: UnsafePointer<Int32>) -> [Int] {
        var found: [Int] = []
        forEachCell(around: key) { found.append($0); return false }
        return found
    }

    /// Calls `body` with each cell whose every coordinate is within 1 of `key`'s, in increasing
    /// order, until it returns true (without listing them).
    /// - Complexity: as ``cells(around:)``, up to the cell that stops it.
    func forEachCell(around key: UnsafePointer<Int32>, _ body: (Int) -> Bool) {
        let words = words, zero = bits.count / words - 1
        bits.withUnsafeBufferPointer { sets in
            withUnsafeTemporaryAllocation(of: UInt64.self, capacity: words) { acc in
                acc.initialize(repeating: ~0)
                for k in 0..<dimensions {
                    // The bit sets of the values key − 1, key and key + 1 (the zero set where a value is absent).
                    let list = values[k], low = key[k] &- 1
                    var lo = 0, hi = list.count
                    while lo < hi { let mid = (lo + hi) / 2; if list[mid] < low { lo = mid + 1 } else { hi = mid } }
                    var set = (zero, zero, zero)
                    if lo < list.count && list[lo] == low { set.0 = firstSet[k] + lo; lo += 1 }
                    if lo < list.count && list[lo] == key[k] { set.1 = firstSet[k] + lo; lo += 1 }
                    if lo < list.count && list[lo] == key[k] &+ 1 { set.2 = firstSet[k] + lo }
                    var any: UInt64 = 0
                    for w in 0..<words {
                        acc[w] &= sets[set.0 * words + w] | sets[set.1 * words + w] | sets[set.2 * words + w]
                        any |= acc[w]
                    }
                    if any == 0 { return }
                }
                for w in 0..<words {
                    var word = acc[w]
                    while word != 0 {
                        if body(w * 64 + word.trailingZeroBitCount) { return }
                        word &= word &- 1
                    }
                }
            }
        }
    }
}
