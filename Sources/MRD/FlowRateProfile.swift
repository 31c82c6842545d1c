/// Events per time bin over one acquisition, as the time gate judged them: the basis of the
/// time-stability verdict (in the spirit of flowAI / PeacoQC: bins whose event count departs
/// from the median bin by more than the tolerance are bursts or clogs).
///
/// Cost: built from one pass over the time channel that the flow-rate gate makes anyway;
/// memory is one count per bin (at most 10,000).
public struct FlowRateProfile: Sendable, Equatable {
    /// Time of the first and last event (seconds when the file gives $TIMESTEP, else ticks).
    public let start: Double
    public let end: Double
    public let binWidth: Double
    /// Events per bin, first to last.
    public let counts: [Int]
    /// Events whose time lies outside start…end (time not monotonic).
    public let outOfOrder: Int
    /// Allowed relative departure from the median bin.
    public let tolerance: Double
    /// Stretches the time gate excluded.
    public let unstable: [Range<Double>]
    public let excludedEvents: Int
    /// Whether times are seconds ($TIMESTEP known) rather than instrument ticks.
    public let inSeconds: Bool

    /// Events in the median bin.
    public var medianCount: Double { ThresholdFinder.quantile(counts.map(Double.init), 0.5) ?? 0 }

    /// Bins with more events than the median allows (bursts).
    public var burstBins: Int {
        let limit = (1 + tolerance) * medianCount
        return counts.filter { Double($0) > limit }.count
    }

    /// Bins with fewer events than the median allows (clogs, gaps).
    public var clogBins: Int {
        let limit = (1 - tolerance) * medianCount
        return counts.filter { Double($0) < limit }.count
    }

    /// Length of the acquisition (end − start).
    public var duration: Double { end - start }
}
