import Foundation

/// The median, on one marker, of a restricted population's clonal excess rather than of all its
/// events: the phenotype of the clone when normal plasma cells share its box.
///
/// A box drawn inside a normal cluster holds the clone (one chain) and normal cells of both
/// chains, which have one phenotype whatever their chain. The box's median mixes the two, so a
/// clone 0.4 decade below the normal cells, with as many normal cells beside it, shows half of
/// that or less. Counting, at each level v, the restricted chain's events at or below v minus r
/// times the other chain's (r: the polyclonal events of the restricted chain per event of the
/// other) takes the normal cells out of the cumulative count: what is left is the excess's. Its
/// median is the level where that count first reaches half the excess E = restricted − r·other.
/// With no event of the other chain it is the restricted chain's own median.
///
/// The same holds for a box that is one chain's spillover spreading, not a clone: the excess is
/// then the spread tail, and its median lies beyond the normal cells on the spread side, below
/// them on a marker the normal plasma cells lack, which no aberrancy rule calls aberrant.
enum ExcessMedian {
    /// - Parameters:
    ///   - values: the events' values on the marker (non-finite ones are left out).
    ///   - chains: per event, 1 κ, −1 λ, 0 undetermined (left out).
    ///   - want: the restricted chain.
    ///   - ratio: polyclonal events of the restricted chain per event of the other.
    /// - Returns: nil when the excess is not positive.
    /// - Complexity: O(n log n) for n events.
    static func median(values: [Float], chains: [Int8], want: Int8, ratio r: Double) -> Double? {
        precondition(values.count == chains.count)
        var events: [(Float, Bool)] = []
        events.reserveCapacity(values.count)
        var restricted = 0, other = 0
        for (v, chain) in zip(values, chains) where v.isFinite && chain != 0 {
            events.append((v, chain == want))
            if chain == want { restricted += 1 } else { other += 1 }
        }
        let excess = Double(restricted) - r * Double(other)
        guard excess > 0, r.isFinite, r > 0 else { return nil }
        events.sort { $0.0 < $1.0 }
        var below = 0.0
        for (v, isRestricted) in events {
            below += isRestricted ? 1 : -r
            if below >= excess / 2 { return Double(v) }
        }
        return events.last.map { Double($0.0) }
    }
}
