import Foundation

/// Fisher's exact test of a 2×2 table, one-sided: whether the first group's share of successes
/// exceeds the second's by more than chance, given both groups' sizes and the successes in all.
enum FisherExactTest {
    /// P(X ≥ `s1`) for X hypergeometric: `s1` of `n1` first-group events and `s2` of `n2`
    /// second-group events are successes; X is the first group's successes when the `s1 + s2`
    /// successes fall at random among the `n1 + n2` events.
    /// - Complexity: O(min(n1, s1 + s2) − s1), each term from log-gamma.
    static func upperTail(successes s1: Int, of n1: Int, against s2: Int, of n2: Int) -> Double {
        precondition(s1 >= 0 && s1 <= n1 && s2 >= 0 && s2 <= n2)
        let total = n1 + n2, successes = s1 + s2
        func logChoose(_ n: Int, _ k: Int) -> Double { lgamma(Double(n + 1)) - lgamma(Double(k + 1)) - lgamma(Double(n - k + 1)) }
        let denominator = logChoose(total, n1)
        var p = 0.0
        for x in s1...min(n1, successes) where successes - x <= total - n1 {
            p += exp(logChoose(successes, x) + logChoose(total - successes, n1 - x) - denominator)
        }
        return min(1, p)
    }
}
