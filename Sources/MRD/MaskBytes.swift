/// Gate masks as the evaluator writes them, one byte per event (nonzero: inside), read without a
/// branch per event: the subsample's collection compacts its columns by them.
enum MaskBytes {
    /// 1 for a nonzero byte, else 0, by arithmetic (the top bit of `b | −b`), not a branch.
    /// - Complexity: O(1).
    @inline(__always)
    static func isSet(_ b: UInt8) -> Int { Int(truncatingIfNeeded: (b | (0 &- b)) >> 7) }

    /// The number of nonzero bytes among the first `count` (the sum kept in a register).
    /// - Complexity: O(count).
    static func count(_ mask: UnsafePointer<UInt8>, _ count: Int) -> Int {
        var set = 0
        for e in 0..<count { set &+= isSet(mask[e]) }
        return set
    }
}
