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
    /// A restricted chain and its polyclonal ratio: one box, cluster or slab whose excess is taken.
    struct Population: Sendable, Equatable {
        /// The restricted chain: 1 κ, −1 λ.
        let want: Int8
        /// Polyclonal events of the restricted chain per event of the other.
        let ratio: Double
    }

    /// - Parameters:
    ///   - values: the events' values on the marker (non-finite ones are left out).
    ///   - chains: per event, 1 κ, −1 λ, 0 undetermined (left out).
    ///   - want: the restricted chain.
    ///   - ratio: polyclonal events of the restricted chain per event of the other.
    /// - Returns: nil when the excess is not positive.
    /// - Complexity: O(n log n) for n events.
    static func median(values: [Float], chains: [Int8], want: Int8, ratio r: Double) -> Double? {
        median(values: values, chains: chains, populations: [Population(want: want, ratio: r)]) { _ in 0 }
    }

    /// The median of the summed excess of several populations (the counted clusters of a sample,
    /// each with its own chain and ratio): at each level, every population's restricted events at
    /// or below it minus its ratio times its other chain's, summed; the level where that first
    /// reaches half the summed excess. With one population it is ``median(values:chains:want:ratio:)``.
    /// - Parameters:
    ///   - values: the events' values on the marker (non-finite ones are left out).
    ///   - chains: per event, 1 κ, −1 λ, 0 undetermined (left out).
    ///   - populations: the populations the events belong to.
    ///   - population: the index into `populations` of event i.
    /// - Returns: nil when the summed excess is not positive or a ratio is not a positive number.
    /// - Complexity: O(n log n) for n events.
    static func median(values: [Float], chains: [Int8], populations: [Population], population: (Int) -> Int) -> Double? {
        estimate(values: values, chains: chains, populations: populations, population: population)?.median
    }

    /// The excess's median with a 95% interval.
    struct Estimate: Sendable, Equatable {
        let median: Double
        /// The first level where the excess below reaches E/2 − 1.96 s, and the level after the
        /// last where it is still below E/2 + 1.96 s: s² = Σw²/4 is the variance of "excess
        /// below minus excess above" (each event's weight w: 1 restricted, −ratio the other
        /// chain, counted as Poisson), the same at every level. With no event of the other chain
        /// it is the distribution-free interval of a median, ranks n/2 ± 0.98√n.
        let low: Double
        let high: Double
    }

    /// ``median(values:chains:populations:population:)`` with its 95% interval (``Estimate``):
    /// wide where the normal cells' chain noise swamps the excess (an excess of 203 in a box of
    /// 7,599 events spans most of the box), narrow for a clone that stands apart.
    /// - Complexity: O(n log n) for n events.
    static func estimate(values: [Float], chains: [Int8], populations: [Population], population: (Int) -> Int) -> Estimate? {
        precondition(values.count == chains.count)
        guard !populations.isEmpty, populations.allSatisfy({ $0.ratio.isFinite && $0.ratio > 0 }) else { return nil }
        var events: [(Float, Double)] = []
        events.reserveCapacity(values.count)
        var restricted = [Int](repeating: 0, count: populations.count), other = restricted
        for (i, (v, chain)) in zip(values, chains).enumerated() where v.isFinite && chain != 0 {
            let p = population(i)
            if chain == populations[p].want {
                events.append((v, 1))
                restricted[p] += 1
            } else {
                events.append((v, -populations[p].ratio))
                other[p] += 1
            }
        }
        var excess = 0.0, squares = 0.0
        for (p, population) in populations.enumerated() {
            excess += Double(restricted[p]) - population.ratio * Double(other[p])
            squares += Double(restricted[p]) + population.ratio * population.ratio * Double(other[p])
        }
        guard excess > 0 else { return nil }
        events.sort { $0.0 < $1.0 }
        let half = 1.96 * squares.squareRoot() / 2
        var below = 0.0
        var median: Float?, low: Float?, lastUnderHigh = -1
        for (i, (v, weight)) in events.enumerated() {
            below += weight
            if median == nil && below >= excess / 2 { median = v }
            if low == nil && below >= excess / 2 - half { low = v }
            if below < excess / 2 + half { lastUnderHigh = i }
        }
        let last = events.last!.0
        let high = lastUnderHigh + 1 < events.count ? events[lastUnderHigh + 1].0 : last
        return Estimate(median: Double(median ?? last), low: Double(low ?? last), high: Double(high))
    }
}
