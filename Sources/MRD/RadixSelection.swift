/// Order statistics of the finite values of a large array by radix selection, without copying
/// or reordering the array: ``ThresholdFinder/quantile(_:_:)`` uses it from ``minimumCount``
/// values on (a subsample's 300,000 ratios, a cluster's medians).
///
/// Each finite value maps to a 64-bit key whose unsigned order is the value's order. The keys'
/// smallest and largest give the high bits every key shares (ratios near 1 share sign, exponent
/// and the first mantissa bits); a histogram of the next 16 bits finds the bucket that holds the
/// k-th smallest, only that bucket's keys are kept, and the next 16 bits split it again, until a
/// few dozen keys are left to sort.
///
/// The k-th smallest value is the same whichever algorithm finds it, with one exception: −0 and
/// +0 compare equal but differ in bits, and which of them a comparison selection returns depends
/// on its swaps. A zero is therefore not answered here (nil), and the caller selects as before.
enum RadixSelection {
    /// Below this many values, the quickselect of ``ThresholdFinder`` is as fast.
    static let minimumCount = 4_096

    /// The key of a finite value: unsigned order equals the value's order (−0 before +0).
    @inline(__always)
    static func key(_ v: Double) -> UInt64 {
        let bits = v.bitPattern
        return bits & (1 << 63) != 0 ? ~bits : bits | (1 << 63)
    }

    /// The value of a key.
    @inline(__always)
    static func value(_ key: UInt64) -> Double {
        Double(bitPattern: key & (1 << 63) != 0 ? key & ~(1 << 63) : ~key)
    }

    /// The `q` quantile of the finite values (R type 7, as ``ThresholdFinder/quantile(_:_:)``):
    /// order statistics i and i + 1 interpolated. Nil when there is no finite value or one of
    /// the two statistics is a zero (see above); the caller then selects as before.
    /// - Complexity: O(n): one pass for the finite count and the keys' range, one for the
    ///   histogram, one for the bucket's keys, passes over that bucket; statistic i + 1 is read
    ///   from the bucket's sorted keys, or (when i is the bucket's last) found by one more pass.
    static func quantile(_ values: UnsafeBufferPointer<Double>, _ q: Double) -> Double? {
        let (finite, shift) = range(values)
        guard finite > 0 else { return nil }
        let h = Double(finite - 1) * min(max(q, 0), 1)
        let i = Int(h.rounded(.down))
        let (low, following) = select(values, shift: shift, i)
        guard low != 0 else { return nil }
        guard i + 1 < finite else { return low }
        // Statistic i + 1: the next key in i's bucket, else the least value above low (none equals
        // it outside the bucket: equal values have equal keys).
        var high = following ?? .infinity
        if following == nil { for v in values where v.isFinite && v > low && v < high { high = v } }
        guard high != 0 else { return nil }
        return low + (h - Double(i)) * (high - low)
    }

    /// The number of finite values, and the shift of the first 16-bit digit: the digit just below
    /// the high bits that every finite key shares (at most 48, so the digit is the top 16 bits
    /// when they differ).
    private static func range(_ values: UnsafeBufferPointer<Double>) -> (finite: Int, shift: UInt64) {
        var finite = 0
        var smallest = UInt64.max, largest = UInt64.min
        for v in values where v.isFinite {
            let kv = key(v)
            smallest = min(smallest, kv)
            largest = max(largest, kv)
            finite += 1
        }
        guard finite > 0 else { return (0, 48) }
        let shared = UInt64((smallest ^ largest).leadingZeroBitCount)   // 64 when all keys are equal
        return (finite, shared >= 48 ? 0 : 48 - shared)
    }

    /// The k-th smallest finite value, and the (k + 1)-th when it lies among the last bucket's
    /// keys. The first digit is the 16 bits at `shift`: above them every key is the same, so the
    /// digit orders the keys.
    private static func select(_ values: UnsafeBufferPointer<Double>, shift firstShift: UInt64, _ k: Int) -> (value: Double, following: Double?) {
        var counts = [Int32](repeating: 0, count: 1 << 16)
        counts.withUnsafeMutableBufferPointer { c in
            for v in values where v.isFinite { c[Int(truncatingIfNeeded: (key(v) >> firstShift) & 0xFFFF)] += 1 }
        }
        var rank = k
        var bucket = 0
        while rank >= Int(counts[bucket]) {
            rank -= Int(counts[bucket])
            bucket += 1
        }
        var keys: [UInt64] = []
        keys.reserveCapacity(Int(counts[bucket]))
        for v in values where v.isFinite {
            let kv = key(v)
            if Int(truncatingIfNeeded: (kv >> firstShift) & 0xFFFF) == bucket { keys.append(kv) }
        }
        // The next 16 bits, over the bucket's keys only, while many are left (a last digit may
        // overlap the one before it: those bits are the same in every key left).
        var shift = firstShift
        while keys.count > 64 && shift > 0 {
            shift = shift >= 16 ? shift - 16 : 0
            for i in counts.indices { counts[i] = 0 }
            for kv in keys { counts[Int(truncatingIfNeeded: (kv >> shift) & 0xFFFF)] += 1 }
            bucket = 0
            while rank >= Int(counts[bucket]) {
                rank -= Int(counts[bucket])
                bucket += 1
            }
            let chosen = bucket, at = shift
            keys = keys.filter { Int(truncatingIfNeeded: ($0 >> at) & 0xFFFF) == chosen }
        }
        keys.sort()
        return (value(keys[rank]), rank + 1 < keys.count ? value(keys[rank + 1]) : nil)
    }
}
