#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// FlowJo 10's "biex" (biexponential) scale: a table of 4,097 data values, one per display
/// channel 0…4096, and linear interpolation between them. Values below the table's first data
/// value map to channel 0, above its last to 4096, as FlowJo draws them.
///
/// The table is built as FlowJo's legacy Java code builds it (ported to R by cytolib and to
/// Python by FlowKit, whose `generate_biex_lut` this follows step by step, so that the same
/// workspace gives the same counts). Only `length` 256 is defined; FlowJo's other lengths are
/// not documented.
///
/// - Complexity: building O(4,097); applying O(log 4,097) per value (a binary search).
public struct FlowJoBiex: Sendable, Hashable {
    public let negative: Double, width: Double, positive: Double, maximum: Double
    /// Data value of display channel k, increasing in k.
    let dataValues: [Double]
    static let channelRange = 4096

    /// - Parameters: FlowJo's `neg`, `width` (the "width basis", negative), `pos` and `maxRange`.
    public init(negative: Double, width: Double, positive: Double, maximum: Double) throws(CytometryError) {
        guard width < 0, width.isFinite else { throw .invalidTransform("biex width must be negative (FlowJo's width basis); got \(width)") }
        guard positive > 0, positive.isFinite, maximum > 0, maximum.isFinite, negative.isFinite else {
            throw .invalidTransform("biex needs pos > 0 and maxRange > 0; got pos=\(positive), maxRange=\(maximum)")
        }
        self.negative = negative
        self.width = width
        self.positive = positive
        self.maximum = maximum
        let table = Self.table(negative: negative, widthBasis: width, positive: positive, maximum: maximum)
        guard table.allSatisfy(\.isFinite), zip(table, table.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw .invalidTransform("biex neg=\(negative) width=\(width) pos=\(positive) maxRange=\(maximum) gives no increasing scale")
        }
        dataValues = table
    }

    public static func == (lhs: FlowJoBiex, rhs: FlowJoBiex) -> Bool {
        lhs.negative == rhs.negative && lhs.width == rhs.width && lhs.positive == rhs.positive && lhs.maximum == rhs.maximum
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(negative); hasher.combine(width); hasher.combine(positive); hasher.combine(maximum)
    }

    /// The display channel (0…4096) of data value `x`; NaN stays NaN.
    @inline(__always)
    public func apply(_ x: Double) -> Double {
        dataValues.withUnsafeBufferPointer { Self.interpolate(x, $0) }
    }

    /// The data value of display channel `y`.
    public func inverse(_ y: Double) -> Double {
        let last = Double(Self.channelRange)
        if !(y > 0) { return y.isNaN ? y : dataValues[0] }
        if y >= last { return dataValues[Self.channelRange] }
        let k = Int(y)
        return dataValues[k] + (y - Double(k)) * (dataValues[k + 1] - dataValues[k])
    }

    /// Transforms `count` values in place.
    public func apply(to values: UnsafeMutablePointer<Double>, count: Int) {
        dataValues.withUnsafeBufferPointer { table in
            for i in 0..<count { values[i] = Self.interpolate(values[i], table) }
        }
    }

    @inline(__always)
    static func interpolate(_ x: Double, _ table: UnsafeBufferPointer<Double>) -> Double {
        if x.isNaN { return x }
        let last = table.count - 1
        if x <= table[0] { return 0 }
        if x >= table[last] { return Double(last) }
        // The segment k with table[k] ≤ x < table[k + 1].
        var lo = 0, hi = last
        while hi - lo > 1 {
            let mid = (lo + hi) >> 1
            if table[mid] <= x { lo = mid } else { hi = mid }
        }
        return Double(lo) + (x - table[lo]) / (table[lo + 1] - table[lo])
    }

    /// The data value of each display channel 0…4096 (FlowKit's `generate_biex_lut`).
    static func table(negative: Double, widthBasis: Double, positive: Double, maximum: Double) -> [Double] {
        let range = Double(channelRange)
        var decades = positive
        var width = log10(-widthBasis)
        decades -= width / 2
        var extra = max(negative, 0)
        extra += width / 2
        var zeroPoint = Int(extra * range / (extra + decades))
        zeroPoint = Int(min(Double(zeroPoint), range / 2))
        if zeroPoint > 0 { decades = extra * range / Double(zeroPoint) }
        width /= 2 * decades
        let positiveRange = M_LN10 * decades
        let minimum = maximum / exp(positiveRange)
        let negativeRange = logRoot(positiveRange, width)
        let points = channelRange + 1
        var pos = (0..<points).map { exp(Double($0) / Double(points) * positiveRange) }
        var neg = (0..<points).map { exp(Double($0) / Double(points) * -negativeRange) }
        let s = exp((positiveRange + negativeRange) * (width + extra / decades))
        for k in 0..<points { neg[k] *= s }
        let shift = pos[zeroPoint] - neg[zeroPoint]
        for k in zeroPoint..<points { pos[k] = minimum * ((pos[k] - neg[k]) - shift) }
        for k in 0..<zeroPoint { pos[k] = -pos[2 * zeroPoint - k] }
        return pos
    }

    /// The root FlowJo's code finds for the negative range (FlowKit's `_log_root`), step for step.
    static func logRoot(_ b: Double, _ w: Double) -> Double {
        var xLo = 0.0, xHi = b
        var d = (xLo + xHi) / 2
        var dx = Double(abs(Int(xLo - xHi)))
        var dxLast = dx
        let fb = -2 * log(b) + w * b
        var f = 2 * log(d) + w * b + fb
        var df = 2 / d + w
        if w == 0 { return b }
        for _ in 0..<100 {
            if ((d - xHi) * df - f) - ((d - xLo) * df - f) > 0 || abs(2 * f) > abs(dxLast * df) {
                dx = (xHi - xLo) / 2
                d = xLo + dx
                if d == xLo { return d }
            } else {
                dx = f / df
                let t = d
                d -= dx
                if d == t { return d }
            }
            if abs(dx) < 1.0e-12 { return d }
            dxLast = dx
            f = 2 * log(d) + w * d + fb
            df = 2 / d + w
            if f < 0 { xLo = d } else { xHi = d }
        }
        return d
    }
}
