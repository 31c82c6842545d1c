/// Marker values of some rows of a row-major table, read in place: row `i` of the view is
/// table row `rows[i]` (every table row, in order, when `rows` is nil), and dimension `k` is
/// table column `columns[k]`.
///
/// The plasma-cell stages read the full pass's rows through views like this one instead of
/// copying a cluster's values, or every row's phenotype markers, into arrays of their own: at
/// 30 million events those copies were 13 MB each.
struct MarkerRows: Sendable {
    /// The table, `stride` values per row.
    let table: [Float]
    let stride: Int
    /// The table column of each dimension.
    let columns: [Int]
    /// The table row of each view row (32-bit, as the clusters' member lists); nil: every table row.
    let rows: [Int32]?
    /// Rows in the view.
    let count: Int

    var dimensions: Int { columns.count }

    /// A view of `rows` (every row when nil) of `table`, in `columns`.
    /// - Complexity: O(1); nothing is copied.
    init(table: [Float], stride: Int, columns: [Int], rows: [Int32]? = nil) {
        precondition(stride > 0 && columns.allSatisfy { $0 >= 0 && $0 < stride })
        self.table = table
        self.stride = stride
        self.columns = columns
        self.rows = rows
        count = rows?.count ?? table.count / stride
    }

    /// A plain row-major array of `dimensions` values per row, viewed whole.
    /// - Complexity: O(dimensions).
    init(values: [Float], dimensions d: Int) {
        self.init(table: values, stride: max(1, d), columns: Array(0..<d))
    }

    /// The value of view row `i` on dimension `k`.
    /// - Complexity: O(1).
    @inline(__always)
    subscript(i: Int, k: Int) -> Float {
        if let rows { return table[Int(rows[i]) * stride + columns[k]] }
        return table[i * stride + columns[k]]
    }

    /// Whether view row `i` lies inside the box `low`…`high` (bounds included) on every
    /// dimension; a non-finite value lies outside.
    /// - Complexity: O(dimensions).
    @inline(__always)
    func row(_ i: Int, isInside low: [Float], _ high: [Float]) -> Bool {
        for k in 0..<dimensions where !(self[i, k] >= low[k] && self[i, k] <= high[k]) { return false }
        return true
    }

    /// The same table rows in other columns.
    /// - Complexity: O(1).
    func selecting(columns: [Int]) -> MarkerRows {
        MarkerRows(table: table, stride: stride, columns: columns, rows: rows)
    }
}
