import EventCore

/// Turns observed detector values into compensated (unmixed) values:
/// `compensated = observed · S⁻¹` on the matrix's own channels only.
///
/// Built from an FCS spillover matrix (square: outputs are named like the detectors)
/// or a Gating-ML spectrum matrix (fluorochromes × detectors; non-square matrices are
/// unmixed by least squares, `Sᵀ(S·Sᵀ)⁻¹`). Cost per event: n_detectors × n_outputs
/// multiply-adds; no allocation after construction.
public struct CompensationMatrix: Sendable, Equatable {
    /// Input channels ($PnN), in matrix column order.
    public let detectors: [String]
    /// Output names: the detectors' names for a spillover matrix, fluorochrome names for a spectrum matrix.
    public let outputs: [String]
    /// detectors × outputs, row-major: output i = Σ_j observed_j · unmixing[j][i].
    public let unmixing: [Double]
    /// The spectra it was built from (fluorochromes × detectors), kept for export.
    public let spectra: [[Double]]
    /// Whether `spectra` was given already inverted.
    public let invertedAlready: Bool

    /// From a square spillover matrix S (rows: fluorochromes by primary detector, columns: detectors).
    public init(spillover: SpilloverMatrix) throws(CytometryError) {
        let inverse = try invert(spillover.values, size: spillover.size, context: "spillover from \(spillover.source.rawValue)")
        detectors = spillover.channels
        outputs = spillover.channels
        unmixing = inverse
        spectra = (0..<spillover.size).map { r in (0..<spillover.size).map { spillover[r, $0] } }
        invertedAlready = false
    }

    /// From a spectrum matrix: `spectra[f]` is fluorochrome f's signal in each detector.
    /// With `invertedAlready`, `spectra` is taken as the (square) compensation matrix itself.
    public init(fluorochromes: [String], detectors: [String], spectra: [[Double]], invertedAlready: Bool = false) throws(CytometryError) {
        let nf = fluorochromes.count, nd = detectors.count
        guard nf > 0, nd > 0, spectra.count == nf, spectra.allSatisfy({ $0.count == nd }) else {
            throw .invalidMatrix("spectrum matrix must have \(nf) rows of \(nd) coefficients")
        }
        guard nd >= nf else { throw .invalidMatrix("\(nf) fluorochromes cannot be unmixed from \(nd) detectors") }
        let s = spectra.flatMap { $0 }
        guard s.allSatisfy(\.isFinite) else { throw .invalidMatrix("spectrum matrix has a non-finite coefficient") }
        if invertedAlready {
            guard nf == nd else { throw .invalidMatrix("an already-inverted matrix must be square") }
            // Stored as the matrix to multiply by: rows detectors, columns outputs.
            unmixing = s
        } else if nf == nd {
            unmixing = try invert(s, size: nd, context: "spectrum matrix")
        } else {
            // P = Sᵀ (S Sᵀ)⁻¹, detectors × fluorochromes.
            var sst = [Double](repeating: 0, count: nf * nf)
            for i in 0..<nf { for k in 0..<nf { var sum = 0.0; for j in 0..<nd { sum += s[i * nd + j] * s[k * nd + j] }; sst[i * nf + k] = sum } }
            let inv = try invert(sst, size: nf, context: "spectrum matrix (S·Sᵀ)")
            var p = [Double](repeating: 0, count: nd * nf)
            for j in 0..<nd { for i in 0..<nf { var sum = 0.0; for k in 0..<nf { sum += s[k * nd + j] * inv[k * nf + i] }; p[j * nf + i] = sum } }
            unmixing = p
        }
        self.detectors = detectors
        self.outputs = fluorochromes
        self.spectra = spectra
        self.invertedAlready = invertedAlready
    }

    /// Compensates `count` events: `inputs[j]` points at detector j's values, `outputs[i]` receives output i.
    public func apply(inputs: [UnsafePointer<Double>], outputs out: [UnsafeMutablePointer<Double>], count: Int) {
        let nd = detectors.count, no = outputs.count
        unmixing.withUnsafeBufferPointer { p in
            for i in 0..<no {
                let target = out[i]
                let first = p[i]
                let source0 = inputs[0]
                for e in 0..<count { target[e] = source0[e] * first }
                for j in 1..<max(1, nd) {
                    let coefficient = p[j * no + i]
                    if coefficient == 0 { continue }
                    let source = inputs[j]
                    for e in 0..<count { target[e] += source[e] * coefficient }
                }
            }
        }
    }
}

/// Gauss–Jordan inversion with partial pivoting; a (near-)singular matrix is an error.
func invert(_ matrix: [Double], size n: Int, context: String) throws(CytometryError) -> [Double] {
    guard matrix.count == n * n, n > 0 else { throw .invalidMatrix("\(context): \(matrix.count) values for a \(n) × \(n) matrix") }
    var a = matrix
    var inv = [Double](repeating: 0, count: n * n)
    for i in 0..<n { inv[i * n + i] = 1 }
    let scale = matrix.map(abs).max() ?? 0
    for column in 0..<n {
        var pivot = column
        for row in (column + 1)..<max(column + 1, n) where abs(a[row * n + column]) > abs(a[pivot * n + column]) { pivot = row }
        if abs(a[pivot * n + column]) <= 1e-12 * max(scale, 1e-300) {
            throw .invalidMatrix("\(context) is singular (no pivot in column \(column + 1)); it cannot be inverted")
        }
        if pivot != column {
            for k in 0..<n {
                a.swapAt(pivot * n + k, column * n + k)
                inv.swapAt(pivot * n + k, column * n + k)
            }
        }
        let p = a[column * n + column]
        for k in 0..<n {
            a[column * n + k] /= p
            inv[column * n + k] /= p
        }
        for row in 0..<n where row != column {
            let factor = a[row * n + column]
            if factor == 0 { continue }
            for k in 0..<n {
                a[row * n + k] -= factor * a[column * n + k]
                inv[row * n + k] -= factor * inv[column * n + k]
            }
        }
    }
    return inv
}
