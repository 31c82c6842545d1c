import Cytometry
import Foundation

/// One dot plot of the reviewer's report, binned: a density of the shown events on a square
/// grid, the gates drawn on it, the aberrancy thresholds, and (plasma-cell plots) the aberrant
/// plasma cells as individual points over the normal ones, so a 30-event cluster stays visible.
///
/// Built during the analysis's full pass (one histogram increment per shown event; ``bins``² 
/// counters per plot and worker), so its size does not grow with the file.
public struct PlotDensity: Sendable, Equatable {
    /// One axis: its marker, the channel it was read from, the range shown (transformed units)
    /// and ticks at readable data values.
    public struct Axis: Sendable, Equatable {
        public let marker: String
        public let channel: String
        public let range: ClosedRange<Double>
        public let ticks: [Tick]
    }

    public struct Tick: Sendable, Equatable {
        public let position: Double
        public let label: String
    }

    /// A gate boundary in plot coordinates (nil limits are open).
    public enum Outline: Sendable, Equatable {
        case rectangle(xMin: Double?, xMax: Double?, yMin: Double?, yMax: Double?)
        case polygon([Vertex])
    }

    public struct DrawnGate: Sendable, Equatable {
        public let id: String
        public let outline: Outline
        /// The gate's count and % of its parent in the result.
        public let count: Int
        public let percentOfParent: Double
    }

    /// An aberrancy threshold on one axis.
    public struct RuleLine: Sendable, Equatable {
        /// "x" or "y".
        public let axis: String
        public let value: Double
        /// e.g. "CD19 below 0.41 is aberrant".
        public let label: String
    }

    /// A normal subset of the reference, in this plot's two markers: its mean and 2×2 covariance
    /// (drawn as its 1 and 2 SD ellipses behind the events).
    public struct ReferenceContour: Sendable, Equatable {
        public let subset: Int
        public let centre: [Double]
        /// xx, xy, yy.
        public let covariance: [Double]
    }

    public let title: String
    /// The gate whose events are shown (nil: every event of the file).
    public let population: String?
    /// The population's count in the result.
    public let populationCount: Int
    public let x: Axis
    public let y: Axis
    public let bins: Int
    /// Events per cell, row-major from the bottom row (`counts[yBin * bins + xBin]`); for an
    /// overlay plot, the normal plasma cells only. Values outside the range sit in the edge cells.
    public internal(set) var counts: [UInt32]
    /// Events shown that had a non-finite value in x or y (not drawn).
    public internal(set) var undrawn: Int
    /// Whether normal and aberrant plasma cells are told apart.
    public let overlay: Bool
    /// Aberrant plasma cells (overlay plots): x, y pairs in event order.
    public internal(set) var aberrant: [Float]
    public internal(set) var gates: [DrawnGate]
    public internal(set) var rules: [RuleLine]
    /// Time stretches the flow-rate gate excluded (x axis), on the time plot.
    public internal(set) var excludedStretches: [ClosedRange<Double>]
    /// The normal reference's subsets, on plasma-cell plots whose markers it describes (empty without a reference).
    public internal(set) var referenceContours: [ReferenceContour] = []

    /// Events in the density.
    public var densityEvents: Int { counts.reduce(0) { $0 + Int($1) } }
    /// Aberrant points.
    public var aberrantEvents: Int { aberrant.count / 2 }
}

/// Where each plot's events come from during the full pass, and how values map to cells.
///
/// Cost per event shown: two multiplies, two clamps and one increment.
struct PlotPlan {
    let spec: PlotSpec
    /// Column of x and y among the evaluator's extra dimensions.
    let xColumn: Int
    let yColumn: Int
    /// Gate index of the population in the tree (nil: all events).
    let mask: Int?
    let xRange: ClosedRange<Double>
    let yRange: ClosedRange<Double>
    let bins: Int

    static let defaultBins = 128

    init(spec: PlotSpec, xColumn: Int, yColumn: Int, mask: Int?, xRange: ClosedRange<Double>, yRange: ClosedRange<Double>, bins: Int) {
        self.spec = spec
        self.xColumn = xColumn
        self.yColumn = yColumn
        self.mask = mask
        self.xRange = xRange
        self.yRange = yRange
        self.bins = bins
        xScale = Double(bins) / (xRange.upperBound - xRange.lowerBound)
        yScale = Double(bins) / (yRange.upperBound - yRange.lowerBound)
        last = Double(bins - 1)
    }

    private let xScale: Double
    private let yScale: Double
    private let last: Double

    /// Bins the events of one block (those whose `mask` byte is non-zero, or all) into `counts`;
    /// returns how many had a non-finite value and were not drawn.
    func accumulate(xs: UnsafePointer<Double>, ys: UnsafePointer<Double>, mask: UnsafePointer<UInt8>?, count: Int,
                    into counts: UnsafeMutableBufferPointer<UInt32>) -> Int {
        var undrawn = 0
        @inline(__always) func add(_ e: Int) {
            if let c = cell(xs[e], ys[e]) { counts[c] &+= 1 } else { undrawn += 1 }
        }
        if let mask {
            for e in 0..<count where mask[e] != 0 { add(e) }
        } else {
            for e in 0..<count { add(e) }
        }
        return undrawn
    }

    /// Adds one event's values to `counts`; false when a value is not finite.
    func add(_ x: Double, _ y: Double, to counts: inout [UInt32]) -> Bool {
        guard let c = cell(x, y) else { return false }
        counts[c] &+= 1
        return true
    }

    /// The density cell of (x, y), values outside the range in the edge cells; nil when a value
    /// is not finite. Clamped in floating point, so the conversion to Int never traps.
    @inline(__always)
    func cell(_ x: Double, _ y: Double) -> Int? {
        guard x.isFinite, y.isFinite else { return nil }
        let fx = min(max((x - xRange.lowerBound) * xScale, 0), last), fy = min(max((y - yRange.lowerBound) * yScale, 0), last)
        return Int(fy) * bins + Int(fx)
    }
}

/// Axis ticks at readable data values.
enum AxisTicks {
    /// Ticks for `transform` over `range` (transformed units): decades for logicle/log/asinh,
    /// multiples of 50K for linear scatter, nice steps for untransformed values such as time.
    static func ticks(transform: Transformation?, range: ClosedRange<Double>) -> [PlotDensity.Tick] {
        guard let transform else { return linearTicks(range: range, scale: 1) }
        switch transform {
        case .linear(let T, let A):
            return linearTicks(range: range, scale: T + A)
        default:
            var ticks: [PlotDensity.Tick] = []
            let values: [(Double, String)] = [(-1_000, "−10³"), (0, "0"), (100, "10²"), (1_000, "10³"), (10_000, "10⁴"), (100_000, "10⁵"), (1_000_000, "10⁶")]
            for (value, label) in values {
                let p = transform.apply(value)
                if p.isFinite && range.contains(p) && !ticks.contains(where: { abs($0.position - p) < 0.04 * (range.upperBound - range.lowerBound) }) {
                    ticks.append(.init(position: p, label: label))
                }
            }
            return ticks
        }
    }

    /// Ticks at 1, 2 or 5 × 10ⁿ data units, about five over the range.
    static func linearTicks(range: ClosedRange<Double>, scale: Double) -> [PlotDensity.Tick] {
        let lo = range.lowerBound * scale, hi = range.upperBound * scale
        guard hi > lo else { return [] }
        let raw = (hi - lo) / 5
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        var ticks: [PlotDensity.Tick] = []
        var v = ceil(lo / step) * step
        while v <= hi + step * 1e-9 {
            ticks.append(.init(position: v / scale, label: label(v)))
            v += step
        }
        return ticks
    }

    static func label(_ v: Double) -> String {
        if v == 0 { return "0" }
        if abs(v) >= 1_000 && v.truncatingRemainder(dividingBy: 1_000) == 0 { return "\(Int(v / 1_000))K" }
        if v == v.rounded() { return String(Int(v)) }
        return String(format: "%g", v)
    }
}
