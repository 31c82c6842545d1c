#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@inline(__always)
func arcsinh(_ x: Double) -> Double { asinh(x) }

/// A one-dimensional scale transform with the exact Gating-ML 2.0 definitions, plus the
/// plain asinh(x / cofactor) many labs use.
///
/// Cost per value: one multiply-add (flin), one `log10` (flog), one `asinh` (fasinh, asinh),
/// or a short Halley iteration (logicle, hyperlog).
public enum Transformation: Sendable, Equatable, Hashable {
    /// flin: (x + A) / (T + A).
    case linear(T: Double, A: Double)
    /// flog: (1/M)·log10(x/T) + 1; NaN for x ≤ 0.
    case log(T: Double, M: Double)
    /// fasinh: (asinh(x·sinh(M·ln10)/T) + A·ln10) / ((M + A)·ln10).
    case asinh(T: Double, M: Double, A: Double)
    case logicle(LogicleTransform)
    case hyperlog(HyperlogTransform)
    /// asinh(x / cofactor), the common cytometry shorthand (cofactor 5 for mass, ~150 for fluorescence).
    case asinhCofactor(Double)
    /// FlowJo 10's log scale: log10(max(x, offset) / offset) / decades (0 at and below the offset).
    case flowJoLog(offset: Double, decades: Double)
    /// FlowJo 10's biexponential scale, by its table (display channels 0…4096).
    case flowJoBiex(FlowJoBiex)

    /// Checks parameter domains for the closed-form transforms.
    public static func validated(_ t: Transformation) throws(CytometryError) -> Transformation {
        switch t {
        case .linear(let T, let A):
            guard T > 0, A >= 0, A <= T, T.isFinite else { throw .invalidTransform("flin needs T > 0 and 0 ≤ A ≤ T; got T=\(T), A=\(A)") }
        case .log(let T, let M):
            guard T > 0, M > 0, T.isFinite, M.isFinite else { throw .invalidTransform("flog needs T > 0 and M > 0; got T=\(T), M=\(M)") }
        case .asinh(let T, let M, let A):
            guard T > 0, M > 0, A >= 0, A <= M, T.isFinite else { throw .invalidTransform("fasinh needs T > 0, M > 0, 0 ≤ A ≤ M; got T=\(T), M=\(M), A=\(A)") }
        case .asinhCofactor(let cofactor):
            guard cofactor > 0, cofactor.isFinite else { throw .invalidTransform("asinh cofactor must be positive; got \(cofactor)") }
        case .flowJoLog(let offset, let decades):
            guard offset > 0, decades > 0, offset.isFinite, decades.isFinite else {
                throw .invalidTransform("FlowJo log needs offset > 0 and decades > 0; got offset=\(offset), decades=\(decades)")
            }
        case .logicle, .hyperlog, .flowJoBiex:
            break
        }
        return t
    }

    /// The transformed value of `x`.
    @inline(__always)
    public func apply(_ x: Double) -> Double {
        switch self {
        case .linear(let T, let A):
            return (x + A) / (T + A)
        case .log(let T, let M):
            return x > 0 ? (1 / M) * log10(x / T) + 1 : .nan
        case .asinh(let T, let M, let A):
            return (arcsinh(x * sinh(M * M_LN10) / T) + A * M_LN10) / ((M + A) * M_LN10)
        case .logicle(let transform):
            return transform.apply(x)
        case .hyperlog(let transform):
            return transform.apply(x)
        case .asinhCofactor(let cofactor):
            return arcsinh(x / cofactor)
        case .flowJoLog(let offset, let decades):
            return x.isNaN ? x : (log10(max(x, offset)) - log10(offset)) / decades
        case .flowJoBiex(let biex):
            return biex.apply(x)
        }
    }

    /// The value by the exact solver for logicle and hyperlog (what a tabulated one gives off its
    /// grid), otherwise ``apply(_:)``.
    func exactValue(_ x: Double) -> Double {
        switch self {
        case .logicle(let transform): return transform.solve(x)
        case .hyperlog(let transform): return transform.solve(x)
        default: return apply(x)
        }
    }

    /// The data value whose transform is `y`.
    public func inverse(_ y: Double) -> Double {
        switch self {
        case .linear(let T, let A): return y * (T + A) - A
        case .log(let T, let M): return T * pow(10, (y - 1) * M)
        case .asinh(let T, let M, let A): return T * sinh(y * (M + A) * M_LN10 - A * M_LN10) / sinh(M * M_LN10)
        case .logicle(let transform): return transform.inverse(y)
        case .hyperlog(let transform): return transform.inverse(y)
        case .asinhCofactor(let cofactor): return sinh(y) * cofactor
        case .flowJoLog(let offset, let decades): return offset * pow(10, y * decades)
        case .flowJoBiex(let biex): return biex.inverse(y)
        }
    }

    /// Applies the transform to `count` values in place, choosing the kind once for the whole run.
    /// `avx2` picks the table kernel (``ColumnKernels``); both give the same values.
    public func apply(to values: UnsafeMutablePointer<Double>, count: Int, avx2: Bool = ColumnKernels.useAVX2) {
        apply(from: values, to: values, count: count, avx2: avx2)
    }

    /// Transforms `count` values of `source` into `values` (the same pointer: in place), with the
    /// same operations as in place: a dimension is transformed straight from its column, no copy first.
    public func apply(from source: UnsafePointer<Double>, to values: UnsafeMutablePointer<Double>, count: Int, avx2: Bool = ColumnKernels.useAVX2) {
        switch self {
        case .logicle(let transform):
            if let fast = transform.fast { fast.apply(from: source, to: values, count: count, exact: transform.solve, avx2: avx2) }
            else { for i in 0..<count { values[i] = transform.solve(source[i]) } }
        case .hyperlog(let transform):
            if let fast = transform.fast { fast.apply(from: source, to: values, count: count, exact: transform.solve, avx2: avx2) }
            else { for i in 0..<count { values[i] = transform.solve(source[i]) } }
        case .linear(let T, let A):
            let divisor = T + A
            if divisor.isNormal && divisor.significandBitPattern == 0 && (1 / divisor).isNormal {
                // A power of two (T = 262,144 and A = 0, as scatter usually is): multiplying by its
                // exact reciprocal rounds the same real number, so gives the division's bits.
                let reciprocal = 1 / divisor
                for i in 0..<count { values[i] = (source[i] + A) * reciprocal }
            } else {
                for i in 0..<count { values[i] = (source[i] + A) / divisor }
            }
        case .log(let T, let M):
            for i in 0..<count { let x = source[i]; values[i] = x > 0 ? (1 / M) * log10(x / T) + 1 : .nan }
        case .asinh(let T, let M, let A):
            let s = sinh(M * M_LN10)
            for i in 0..<count { values[i] = (arcsinh(source[i] * s / T) + A * M_LN10) / ((M + A) * M_LN10) }
        case .asinhCofactor(let cofactor):
            for i in 0..<count { values[i] = arcsinh(source[i] / cofactor) }
        case .flowJoLog(let offset, let decades):
            let base = log10(offset)
            for i in 0..<count { let x = source[i]; values[i] = x.isNaN ? x : (log10(max(x, offset)) - base) / decades }
        case .flowJoBiex(let biex):
            if UnsafePointer(values) != source { values.update(from: source, count: count) }
            biex.apply(to: values, count: count)
        }
    }
}

/// A transform with optional bounds, as a Gating-ML `transformation` element: results below
/// `boundMin` become `boundMin`, above `boundMax` become `boundMax`.
public struct BoundedTransformation: Sendable, Equatable, Hashable {
    public let transformation: Transformation
    public let boundMin: Double?
    public let boundMax: Double?

    public init(_ transformation: Transformation, boundMin: Double? = nil, boundMax: Double? = nil) {
        self.transformation = transformation
        self.boundMin = boundMin
        self.boundMax = boundMax
    }

    @inline(__always)
    public func apply(_ x: Double) -> Double {
        var y = transformation.apply(x)
        if let boundMin, y < boundMin { y = boundMin }
        if let boundMax, y > boundMax { y = boundMax }
        return y
    }

    /// The table kernel of a tabulated logicle or hyperlog (nil for other transforms).
    var tableKernel: TableKernel? {
        switch transformation {
        case .logicle(let transform): return transform.fast?.kernel
        case .hyperlog(let transform): return transform.fast?.kernel
        default: return nil
        }
    }

    /// Applies the transform and bounds to `count` values in place.
    public func apply(to values: UnsafeMutablePointer<Double>, count: Int, avx2: Bool = ColumnKernels.useAVX2) {
        apply(from: values, to: values, count: count, avx2: avx2)
    }

    /// Transforms `count` values of `source` into `values` (the same pointer: in place), then bounds them.
    public func apply(from source: UnsafePointer<Double>, to values: UnsafeMutablePointer<Double>, count: Int, avx2: Bool = ColumnKernels.useAVX2) {
        transformation.apply(from: source, to: values, count: count, avx2: avx2)
        Self.clamp(values, count: count, boundMin: boundMin, boundMax: boundMax)
    }

    /// Values below `boundMin` become `boundMin`, above `boundMax` become `boundMax`.
    /// - Complexity: O(count) per bound given, nothing without bounds.
    static func clamp(_ values: UnsafeMutablePointer<Double>, count: Int, boundMin: Double?, boundMax: Double?) {
        if let boundMin { for i in 0..<count where values[i] < boundMin { values[i] = boundMin } }
        if let boundMax { for i in 0..<count where values[i] > boundMax { values[i] = boundMax } }
    }
}
