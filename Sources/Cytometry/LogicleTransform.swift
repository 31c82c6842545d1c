#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The logicle transform (Parks, Roederer & Moore 2006; Moore & Parks 2012), as Gating-ML 2.0 defines it.
///
/// Maps a data value x to y in scale units where T maps to 1 and 0 maps to x1 = (A + W)/(M + A):
/// y solves B(y) = x with B(y) = a·e^{by} − c·e^{−dy} − f. Negative values mirror around x1
/// (`y(−x) = 2·x1 − y(x)`), as in the reference C code and FlowKit.
///
/// Cost: a Halley iteration (two `exp` per step, typically 2–4 steps) per value; near x1 a
/// 16-term Taylor series keeps it exact to float precision. Construction solves for d once.
public struct LogicleTransform: Sendable, Equatable, Hashable {
    public let T: Double, W: Double, M: Double, A: Double
    let a: Double, b: Double, c: Double, d: Double, f: Double
    let w: Double, x0: Double, x1: Double, x2: Double
    let xTaylor: Double
    let taylor: [Double]
    /// Interpolation table used by ``apply(_:)``; the exact solver is ``solve(_:)``.
    private(set) var fast: TabulatedInverse?

    static let taylorLength = 16

    public static func == (lhs: LogicleTransform, rhs: LogicleTransform) -> Bool {
        lhs.T == rhs.T && lhs.W == rhs.W && lhs.M == rhs.M && lhs.A == rhs.A
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(T); hasher.combine(W); hasher.combine(M); hasher.combine(A)
    }

    /// Creates the transform; parameters must satisfy T > 0, M > 0, 0 ≤ W ≤ M/2, −W ≤ A ≤ M − 2W.
    public init(T: Double, W: Double, M: Double, A: Double) throws(CytometryError) {
        guard T > 0, M > 0, W >= 0, 2 * W <= M, -W <= A, A <= M - 2 * W, [T, W, M, A].allSatisfy(\.isFinite) else {
            throw CytometryError.invalidTransform("logicle parameters T=\(T), W=\(W), M=\(M), A=\(A) violate T > 0, M > 0, 0 ≤ W ≤ M/2, −W ≤ A ≤ M − 2W")
        }
        self.T = T; self.W = W; self.M = M; self.A = A
        let w = W / (M + A)
        let x2 = A / (M + A)
        let x1 = x2 + w
        let x0 = x2 + 2 * w
        let b = (M + A) * M_LN10
        let d = Self.solveD(b: b, w: w)
        let cA = exp(x0 * (b + d))
        let mfA = exp(b * x1) - cA / exp(d * x1)
        let a = T / ((exp(b) - mfA) - cA / exp(d))
        let c = cA * a
        let f = -mfA * a
        self.w = w; self.x0 = x0; self.x1 = x1; self.x2 = x2
        self.a = a; self.b = b; self.c = c; self.d = d; self.f = f
        self.xTaylor = x1 + w / 4
        var posCoef = a * exp(b * x1)
        var negCoef = -c / exp(d * x1)
        var taylor = [Double](repeating: 0, count: Self.taylorLength)
        for i in 0..<Self.taylorLength {
            posCoef *= b / Double(i + 1)
            negCoef *= -d / Double(i + 1)
            taylor[i] = posCoef + negCoef
        }
        taylor[1] = 0  // exact by the logicle condition
        self.taylor = taylor
        self.fast = nil
        let exact = self
        self.fast = TabulatedInverse.shared(.logicle, T, W, M, A) {
            TabulatedInverse(exact: { exact.solve($0) }, derivative: { 1 / exact.slope(atScale: exact.solve($0)) })
        }
    }

    /// dB/dy at scale value y (y ≥ x1).
    func slope(atScale y: Double) -> Double {
        b * a * exp(b * y) + d * c / exp(d * y)
    }

    /// Solves 2(ln d − ln b) + w(b + d) = 0 for d in (0, b] by safeguarded Newton iteration.
    static func solveD(b: Double, w: Double) -> Double {
        if w == 0 { return b }
        let tolerance = 2 * b * Double.ulpOfOne
        var lo = 0.0, hi = b
        var d = (lo + hi) / 2
        let fB = -2 * log(b) + w * b
        var fx = 2 * log(d) + w * d + fB
        for _ in 0..<200 {
            if fx < 0 { lo = d } else { hi = d }
            let derivative = 2 / d + w
            var next = d - fx / derivative
            if !(next > lo && next < hi) { next = (lo + hi) / 2 }
            if abs(next - d) < tolerance { return next }
            d = next
            fx = 2 * log(d) + w * d + fB
            if fx == 0 { return d }
        }
        return d
    }

    @inline(__always)
    func series(_ scale: Double) -> Double {
        let x = scale - x1
        var sum = taylor[Self.taylorLength - 1] * x
        var i = Self.taylorLength - 2
        while i >= 2 {
            sum = (sum + taylor[i]) * x
            i -= 1
        }
        return (sum * x + taylor[0]) * x
    }

    /// The data value of scale value `scale` (the inverse transform).
    public func inverse(_ scale: Double) -> Double {
        let negative = scale < x1
        let s = negative ? 2 * x1 - scale : scale
        let value = s < xTaylor ? series(s) : (a * exp(b * s) + f) - c / exp(d * s)
        return negative ? -value : value
    }

    /// The scale value of data value `value`: interpolated to within 1e-12 of ``solve(_:)``
    /// on 2⁻¹⁰ ≤ |value| < 2²², exact elsewhere.
    @inline(__always)
    public func apply(_ value: Double) -> Double {
        if let y = fast?.lookup(value) { return y }
        return solve(value)
    }

    /// The scale value of data value `value` by Halley iteration to machine precision.
    public func solve(_ value: Double) -> Double {
        solveBiexponential(value, x1: x1, initial: { v in v < f ? x1 + v / taylor[0] : log(v / a) / b }) { x, v in
            let ae2bx = a * exp(b * x)
            let ce2mdx = c / exp(d * x)
            let y = x < xTaylor ? series(x) - v : (ae2bx + f) - (ce2mdx + v)
            let abe2bx = b * ae2bx
            let cde2mdx = d * ce2mdx
            return (y, abe2bx + cde2mdx, b * abe2bx - d * cde2mdx)
        }
    }
}

/// The hyperlog transform (Bagwell 2005) with Gating-ML 2.0 parameters T, W, M, A:
/// y solves a·e^{by} + c·y − f = x; negative values mirror around x1 like logicle.
///
/// Cost: as ``LogicleTransform``.
public struct HyperlogTransform: Sendable, Equatable, Hashable {
    public let T: Double, W: Double, M: Double, A: Double
    let a: Double, b: Double, c: Double, f: Double
    let w: Double, x0: Double, x1: Double, x2: Double
    let xTaylor: Double
    let taylor: [Double]
    private(set) var fast: TabulatedInverse?

    public static func == (lhs: HyperlogTransform, rhs: HyperlogTransform) -> Bool {
        lhs.T == rhs.T && lhs.W == rhs.W && lhs.M == rhs.M && lhs.A == rhs.A
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(T); hasher.combine(W); hasher.combine(M); hasher.combine(A)
    }

    public init(T: Double, W: Double, M: Double, A: Double) throws(CytometryError) {
        guard T > 0, M > 0, W > 0, 2 * W <= M, -W <= A, A <= M - 2 * W, [T, W, M, A].allSatisfy(\.isFinite) else {
            throw CytometryError.invalidTransform("hyperlog parameters T=\(T), W=\(W), M=\(M), A=\(A) violate T > 0, M > 0, 0 < W ≤ M/2, −W ≤ A ≤ M − 2W")
        }
        self.T = T; self.W = W; self.M = M; self.A = A
        let w = W / (M + A)
        let x2 = A / (M + A)
        let x1 = x2 + w
        let x0 = x2 + 2 * w
        let b = (M + A) * M_LN10
        let e2bx0 = exp(b * x0)
        let cA = e2bx0 / w
        let fA = exp(b * x1) + cA * x1
        let a = T / ((exp(b) + cA) - fA)
        self.w = w; self.x0 = x0; self.x1 = x1; self.x2 = x2
        self.a = a; self.b = b; self.c = cA * a; self.f = fA * a
        self.xTaylor = x1 + w / 4
        var coef = a * exp(b * x1)
        var taylor = [Double](repeating: 0, count: LogicleTransform.taylorLength)
        for i in 0..<LogicleTransform.taylorLength {
            coef *= b / Double(i + 1)
            taylor[i] = coef
        }
        taylor[0] += cA * a
        self.taylor = taylor
        self.fast = nil
        let exact = self
        self.fast = TabulatedInverse.shared(.hyperlog, T, W, M, A) {
            TabulatedInverse(exact: { exact.solve($0) }, derivative: { 1 / (exact.b * exact.a * exp(exact.b * exact.solve($0)) + exact.c) })
        }
    }

    @inline(__always)
    func series(_ scale: Double) -> Double {
        let x = scale - x1
        var sum = taylor[LogicleTransform.taylorLength - 1] * x
        var i = LogicleTransform.taylorLength - 2
        while i >= 1 {
            sum = (sum + taylor[i]) * x
            i -= 1
        }
        return (sum + taylor[0]) * x
    }

    public func inverse(_ scale: Double) -> Double {
        let negative = scale < x1
        let s = negative ? 2 * x1 - scale : scale
        let value = s < xTaylor ? series(s) : (a * exp(b * s) + c * s) - f
        return negative ? -value : value
    }

    /// The scale value of `value`: interpolated to within 1e-12 of ``solve(_:)``, exact outside the table.
    @inline(__always)
    public func apply(_ value: Double) -> Double {
        if let y = fast?.lookup(value) { return y }
        return solve(value)
    }

    /// The scale value of `value` by Halley iteration to machine precision.
    public func solve(_ value: Double) -> Double {
        solveBiexponential(value, x1: x1, initial: { v in v < f ? x1 + v / taylor[0] : log(v / a) / b }) { x, v in
            let ae2bx = a * exp(b * x)
            let y = x < xTaylor ? series(x) - v : (ae2bx + c * x) - (f + v)
            let abe2bx = b * ae2bx
            return (y, abe2bx + c, b * abe2bx)
        }
    }
}

/// Solves B(y) = |value| for y ≥ x1 by Halley's method (as the Moore–Parks reference code does)
/// and mirrors negative values around x1: y(−v) = 2·x1 − y(v).
/// `step(x, v)` returns B(x) − v and the first two derivatives of B at x.
@inline(__always)
func solveBiexponential(_ value: Double, x1: Double, initial: (Double) -> Double,
                        step: (Double, Double) -> (residual: Double, slope: Double, curvature: Double)) -> Double {
    if value == 0 { return x1 }
    if value.isNaN { return .nan }
    let negative = value < 0
    let v = negative ? -value : value
    var x = initial(v)
    if !x.isFinite { x = x1 }
    let tolerance = 3 * Double.ulpOfOne
    for _ in 0..<40 {
        let (y, dy, ddy) = step(x, v)
        let delta = y / (dy * (1 - y * ddy / (2 * dy * dy)))
        x -= delta
        if abs(delta) < tolerance { break }
    }
    return negative ? 2 * x1 - x : x
}
