/// A range a generator parameter is drawn from, with where the range comes from.
///
/// Published ranges are drawn triangular (low, typical, high); ranges without a published
/// central value are drawn uniform; positive scales over more than a decade log-uniform.
public struct ParameterRange: Sendable, Equatable {
    public enum Shape: String, Sendable { case uniform, triangular, logUniform = "log-uniform" }

    public let low: Double
    public let typical: Double
    public let high: Double
    public let shape: Shape
    public let source: String

    public init(_ low: Double, _ typical: Double, _ high: Double, _ shape: Shape, _ source: String) {
        self.low = low
        self.typical = typical
        self.high = high
        self.shape = shape
        self.source = source
    }

    /// One draw.
    /// - Complexity: O(1), one or two uniform deviates.
    public func draw(_ rng: inout RandomSource) -> Double {
        let u = rng.uniform()
        switch shape {
        case .uniform:
            return low + (high - low) * u
        case .logUniform:
            return exp(log(low) + (log(high) - log(low)) * u)
        case .triangular:
            guard high > low else { return low }
            let c = (typical - low) / (high - low)
            return u < c ? low + ((high - low) * (typical - low) * u).squareRoot()
                         : high - ((high - low) * (high - typical) * (1 - u)).squareRoot()
        }
    }

    /// The upper half of the range (uniform), for conditions that stress a parameter.
    public var upperHalf: ParameterRange {
        ParameterRange((low + high) / 2, (low + high) / 2, high, .uniform, source)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Every range the marrow generator draws from. docs/synthetic.md lists them with the same sources.
public enum MarrowRanges {
    // MARK: Normal plasma cells (domain primer §1a).

    /// Share of normal plasma cells carrying each subset trait.
    public static let traitShares: [NormalPlasmaCellTrait: ParameterRange] = [
        .cd19Negative: ParameterRange(0.03, 0.20, 0.48, .triangular, "Liu et al., J Clin Pathol 2012: normal PCs CD19+ in 80% (52–97%)"),
        .cd45Low: ParameterRange(0, 0.22, 0.59, .triangular, "Liu et al. 2012: normal PCs CD45+ in 78% (41–100%)"),
        .cd56Positive: ParameterRange(0, 0.06, 0.37, .triangular, "Liu et al. 2012: normal PCs CD56+ in 6% (0–37%)"),
        .cd27Dim: ParameterRange(0, 0.05, 0.20, .triangular, "model choice: normal PCs are CD27 bright with a small dim subset (primer; no published share found)"),
        .cd81Dim: ParameterRange(0, 0.05, 0.20, .triangular, "model choice: normal PCs are CD81+ with a small dim subset (primer; no published share found)"),
    ]
    /// A normal plasma cell carries at most this many traits (Liu 2012: 0–2 aberrancies on normal PCs).
    public static let maximumTraitsPerCell = 2
    public static let normalPlasmaCellPercent = ParameterRange(0.1, 0.7, 5, .logUniform, "issue 14: 0 (after BCMA CAR-T) to 5% of nucleated cells; 0 only by condition")
    public static let kappaLambdaRatio = ParameterRange(1.2, 1.7, 2.2, .uniform, "issue 14 and primer: polyclonal κ:λ ≈ 1–2:1, drawn 1.2–2.2")
    public static let normalPlasmaCellSpread = ParameterRange(0.12, 0.18, 0.25, .uniform, "model choice: SD of a marker on normal PCs, decades")
    /// How far below the majority level the dim subsets lie (decades).
    public static let cd45LowShift = ParameterRange(0.7, 1.1, 1.5, .uniform, "model choice: CD45 dim to negative")
    public static let cd27DimShift = ParameterRange(0.6, 0.9, 1.2, .uniform, "model choice")
    public static let cd81DimShift = ParameterRange(0.6, 0.9, 1.2, .uniform, "model choice")
    /// CD56 level of the CD56+ normal subset (linear units).
    public static let cd56PositiveLevel = ParameterRange(3_000, 8_000, 20_000, .logUniform, "model choice")

    // MARK: The clone.

    public static let cloneShift = ParameterRange(0.5, 0.9, 1.3, .uniform, "model choice: distance of a dim or bright aberrancy from the normal level, decades")
    public static let cloneSpread = ParameterRange(0.12, 0.2, 0.35, .uniform, "issue 14: clones up to 0.35 decades wide")
    public static let cloneDimLevel = ParameterRange(800, 1_200, 2_000, .logUniform, "model choice: dim expression of a marker normal PCs lack")
    public static let clonePositiveLevel = ParameterRange(4_000, 8_000, 15_000, .logUniform, "model choice")
    public static let cloneBrightLevel = ParameterRange(20_000, 40_000, 60_000, .logUniform, "model choice")

    // MARK: The rest of the marrow (% of nucleated cells before hemodilution).

    public static let nucleatedShares: [(CellPopulation, ParameterRange)] = [
        (.granulocyte, ParameterRange(35, 45, 60, .uniform, "adult marrow differential, approximate")),
        (.myeloidPrecursor, ParameterRange(1, 3, 8, .uniform, "CD117+ CD45 dim myeloid precursors, approximate")),
        (.monocyte, ParameterRange(2, 5, 8, .uniform, "approximate")),
        (.tCell, ParameterRange(6, 12, 20, .uniform, "approximate")),
        (.bCell, ParameterRange(1, 3, 5, .uniform, "approximate")),
        (.nkCell, ParameterRange(1, 3, 5, .uniform, "approximate")),
        (.bCellPrecursor, ParameterRange(0.3, 1.5, 3, .uniform, "adult marrow hematogones, approximate (primer S9)")),
        (.mastCell, ParameterRange(0.005, 0.02, 0.05, .logUniform, "approximate (primer S9)")),
        (.erythroblast, ParameterRange(5, 12, 20, .uniform, "nucleated red cells after lysis, approximate (primer S9)")),
    ]
    /// B-cell precursors in regenerating marrow (after chemotherapy or transplant).
    public static let regeneratingBCellPrecursors = ParameterRange(8, 15, 25, .uniform, "model choice: hematogone-rich regenerating marrow")
    public static let erythrocyteFraction = ParameterRange(0.02, 0.04, 0.08, .uniform, "model choice: residual red cells after lysis, of all events")
    public static let debrisFraction = ParameterRange(0.02, 0.04, 0.08, .uniform, "model choice")
    public static let doubletFraction = ParameterRange(0.01, 0.025, 0.04, .uniform, "model choice")

    // MARK: Instrument and therapy.

    /// Per-detector gain (voltage) difference from the model's central levels, decades.
    public static let channelGain = ParameterRange(-0.15, 0, 0.15, .uniform, "model choice: instrument set-up between labs")
    /// Anti-CD38 masking: CD38 of every cell scaled down by this many decades.
    public static let antiCD38Masking = ParameterRange(1, 1.5, 2, .uniform, "model choice: daratumumab masks most CD38 epitopes (primer §1b)")
}
