import CKernels
import Synchronization

/// A fast evaluation of a monotone transform y(v) that is defined implicitly (logicle,
/// hyperlog), by piecewise cubic Hermite interpolation on a log₂-spaced grid of |v|.
///
/// The grid has 256 segments per octave of |v| from 2⁻¹⁰ to 2²², indexed straight from the
/// bits of the Double (no search); each segment stores y and dy/dv at both ends, computed with
/// the exact solver. The interpolation error is below 1e-12 in y (tests compare against the
/// exact solver over a dense sweep), far below float32 data precision. Values outside the grid
/// (|v| < 2⁻¹⁰, |v| ≥ 2²², NaN) use the exact solver. Negative values mirror: y(−v) = 2·y(0) − y(v).
///
/// Cost: one bit extraction, one table read and a cubic per value (about 2 ns), against a
/// Halley iteration with several `exp` calls for the exact solver. Memory: 262 KB per transform.
struct TabulatedInverse: Sendable {
    static let segmentsPerOctaveLog2 = 8
    static let lowestOctave = -10
    static let highestOctave = 22

    /// Per segment, the cubic coefficients c0…c3 in t ∈ [0, 1), 32 bytes a segment from a
    /// cache-line boundary: a segment's row is one aligned load, never split across cache lines
    /// (262 KB in all). A segment's start and 1/width are not stored: both are exact functions of
    /// the value's bits (``segment(_:)``), as the AVX2 kernel computes them too.
    private let rows: CoefficientRows
    private let firstIndex: Int
    private let segmentCount: Int
    let zeroValue: Double

    enum Kind: Hashable { case logicle, hyperlog }
    struct Key: Hashable {
        let kind: Kind
        let parameters: [UInt64]
    }
    /// One table per transform kind and parameters for the whole process: a panel's markers
    /// mostly share one logicle, and each gate's dimension builds its transform again. Sharing
    /// costs nothing in results (the same parameters build the same table) and keeps one 262 KB
    /// table in a core's cache instead of one per marker, which the evaluator's lookups missed.
    static let tables = Mutex<[Key: TabulatedInverse]>([:])

    /// The table for these parameters, built by `build` the first time.
    /// - Complexity: O(1) after the first build for the parameters; the build is O(segments) exact solves.
    static func shared(_ kind: Kind, _ T: Double, _ W: Double, _ M: Double, _ A: Double, build: () -> TabulatedInverse) -> TabulatedInverse {
        let key = Key(kind: kind, parameters: [T, W, M, A].map(\.bitPattern))
        if let table = tables.withLock({ $0[key] }) { return table }
        let table = build()
        return tables.withLock { cache in
            if let existing = cache[key] { return existing }
            cache[key] = table
            return table
        }
    }

    /// Builds the table from the exact transform and its derivative dy/dv (v > 0).
    init(exact: (Double) -> Double, derivative: (Double) -> Double) {
        let perOctave = 1 << Self.segmentsPerOctaveLog2
        let count = (Self.highestOctave - Self.lowestOctave) * perOctave
        let rows = CoefficientRows(segments: count)
        var previous: (v: Double, y: Double, dy: Double)?
        for k in 0...count {
            let octave = Self.lowestOctave + k / perOctave
            let step = k % perOctave
            let v = (1 + Double(step) / Double(perOctave)) * pow2(octave)
            let y = exact(v), dy = derivative(v)
            if let p = previous {
                let width = v - p.v
                let s = k - 1
                // Hermite in t: y0, y1, m0 = dy0·width, m1 = dy1·width.
                let m0 = p.dy * width, m1 = dy * width
                rows.set(s, p.y, m0, 3 * (y - p.y) - 2 * m0 - m1, 2 * (p.y - y) + m0 + m1)
            }
            previous = (v, y, dy)
        }
        self.rows = rows
        self.segmentCount = count
        // Index of 2^lowestOctave in the (exponent, top mantissa bits) numbering.
        self.firstIndex = (1023 + Self.lowestOctave) << Self.segmentsPerOctaveLog2
        self.zeroValue = exact(0)
    }

    /// The table's coefficients and grid as plain values for ``TableKernel`` (valid while this
    /// table lives).
    var kernel: TableKernel {
        TableKernel(rows: UnsafePointer(rows.base), firstIndex: firstIndex, segments: segmentCount, zero: zeroValue)
    }

    /// Transforms `count` values in place; values outside the grid go through `exact`.
    /// The table is bound once for the whole run, so the loop does no reference counting.
    func apply(to values: UnsafeMutablePointer<Double>, count: Int, exact: (Double) -> Double, avx2: Bool = ColumnKernels.useAVX2) {
        apply(from: values, to: values, count: count, exact: exact, avx2: avx2)
    }

    /// The same, reading `source` and writing `values` (the same pointer: in place), so that a
    /// dimension is transformed straight from its compensated column, with no copy first.
    func apply(from source: UnsafePointer<Double>, to values: UnsafeMutablePointer<Double>, count: Int, exact: (Double) -> Double,
               avx2: Bool = ColumnKernels.useAVX2) {
        if avx2 {
            // Four values at a time, their rows loaded whole and transposed; the values off the grid come back by position.
            withUnsafeTemporaryAllocation(of: Int.self, capacity: max(1, count)) { outside in
                let off = kernel.apply(from: source, to: values, count: count, outside: outside.baseAddress!)
                for k in 0..<off { values[outside[k]] = exact(source[outside[k]]) }
            }
            return
        }
        for e in 0..<count { values[e] = lookup(source[e]) ?? exact(source[e]) }
    }

    /// The start and 1/width of the grid segment holding `magnitude` (≥ 0, on the grid): the
    /// magnitude with the mantissa below the segment bits cleared, and 2^(segment bits − octave)
    /// — both exact, so the same bits as v_k and 1/(v_{k+1} − v_k) computed when the table is built.
    @inline(__always)
    static func segment(_ magnitude: Double) -> (start: Double, inverseWidth: Double) {
        let bits = magnitude.bitPattern
        let start = Double(bitPattern: bits & ~((1 << UInt64(52 - segmentsPerOctaveLog2)) - 1))
        let inverse = Double(bitPattern: (UInt64(2 * 1023 + segmentsPerOctaveLog2) << 52) &- (bits & 0x7FF0_0000_0000_0000))
        return (start, inverse)
    }

    @inline(__always)
    func lookup(_ v: Double) -> Double? {
        let magnitude = abs(v)
        let bits = magnitude.bitPattern
        let index = Int(truncatingIfNeeded: bits >> UInt64(52 - Self.segmentsPerOctaveLog2)) - firstIndex
        guard index >= 0 && index < segmentCount else { return nil }
        let (start, inverseWidth) = Self.segment(magnitude)
        let x = (magnitude - start) * inverseWidth, row = UnsafePointer(rows.base) + index * 4
        let y = row[0] + x * (row[1] + x * (row[2] + x * row[3]))
        return v < 0 ? 2 * zeroValue - y : y
    }
}

/// A table's AVX2 kernel arguments as plain values: copying one retains nothing, so workers on
/// different cores reading the same shared table (``TabulatedInverse/shared(_:_:_:_:_:build:)``)
/// do not contend for its reference counts once per chunk. Valid while the table lives.
struct TableKernel: @unchecked Sendable {
    let rows: UnsafePointer<Double>
    let firstIndex: Int
    let segments: Int
    let zero: Double

    /// Transforms `count` values of `source` into `values`; returns how many were off the grid,
    /// their positions in `outside` (room for `count`), not written.
    /// - Complexity: O(count), no allocation.
    func apply(from source: UnsafePointer<Double>, to values: UnsafeMutablePointer<Double>, count: Int, outside: UnsafeMutablePointer<Int>) -> Int {
        ckernels_cubic_table_avx2(rows, firstIndex, segments, zero, source, values, count, outside)
    }
}

/// A table's cubic coefficients, four doubles per segment, in memory aligned to a cache line.
final class CoefficientRows: @unchecked Sendable {
    /// Segment s's c0…c3 are base[4s ..< 4s + 4]. Never written after `init`.
    let base: UnsafeMutablePointer<Double>

    /// Rows of zeros for `segments` segments, filled by ``set(_:_:_:_:_:)`` while the table is built.
    /// - Complexity: O(segments).
    init(segments: Int) {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(1, segments) * 32, alignment: 64)
        base = raw.bindMemory(to: Double.self, capacity: max(1, segments) * 4)
        base.initialize(repeating: 0, count: max(1, segments) * 4)
    }

    /// Segment s's coefficients (only while the table is built, before it is shared).
    func set(_ s: Int, _ c0: Double, _ c1: Double, _ c2: Double, _ c3: Double) {
        (base[s * 4], base[s * 4 + 1], base[s * 4 + 2], base[s * 4 + 3]) = (c0, c1, c2, c3)
    }

    deinit { UnsafeMutableRawPointer(base).deallocate() }
}

@inline(__always)
func pow2(_ exponent: Int) -> Double {
    Double(sign: .plus, exponent: exponent, significand: 1)
}
