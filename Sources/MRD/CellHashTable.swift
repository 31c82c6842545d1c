/// The first grid cell of each coordinate hash, for ``DensityClustering``'s grid: an
/// open-addressing table (linear probing, at most half full) keyed by the grid's own 64-bit
/// hash, so a lookup costs one multiply and a probe or two instead of hashing the hash again.
/// Cells whose hashes are equal are chained by the grid, not here.
struct CellHashTable {
    private var hashes: [UInt64]
    /// The cell of each slot; −1: empty.
    private var cells: [Int32]
    private var mask: Int
    private(set) var count = 0

    /// - Complexity: O(capacity).
    init(capacity: Int = 64) {
        var slots = 16
        while slots < 2 * capacity { slots *= 2 }
        hashes = [UInt64](repeating: 0, count: slots)
        cells = [Int32](repeating: -1, count: slots)
        mask = slots - 1
    }

    /// The slot where a hash's probe starts: the high bits of the hash times an odd constant.
    @inline(__always)
    private func start(_ hash: UInt64) -> Int {
        Int(truncatingIfNeeded: (hash &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }

    /// The cell stored for `hash`, if any.
    /// - Complexity: O(1) expected.
    @inline(__always)
    func cell(_ hash: UInt64) -> Int? {
        var i = start(hash)
        while cells[i] >= 0 {
            if hashes[i] == hash { return Int(cells[i]) }
            i = (i + 1) & mask
        }
        return nil
    }

    /// Stores `cell` for `hash`, replacing the cell stored before (returned, −1 when none).
    /// - Complexity: O(1) amortised (the table doubles when half full).
    mutating func set(_ hash: UInt64, cell: Int) -> Int {
        var i = start(hash)
        while cells[i] >= 0 {
            if hashes[i] == hash {
                let previous = Int(cells[i])
                cells[i] = Int32(cell)
                return previous
            }
            i = (i + 1) & mask
        }
        hashes[i] = hash
        cells[i] = Int32(cell)
        count += 1
        if 2 * count > mask + 1 { grow() }
        return -1
    }

    private mutating func grow() {
        var larger = CellHashTable(capacity: mask + 1)
        for i in cells.indices where cells[i] >= 0 { _ = larger.set(hashes[i], cell: Int(cells[i])) }
        self = larger
    }
}
