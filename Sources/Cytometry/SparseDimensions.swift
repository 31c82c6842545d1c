/// Computing a dimension with a domain (``DimensionDomains``) inside one chunk: for the
/// domain gate's events only, or for the whole chunk when most of its events are in the gate.
///
/// Either way every value is computed by the same functions as the dense path (``compensate``
/// on the same terms in the same order, the same ratio expression, the same transform kernel),
/// on a gathered copy of the inputs, so each event's value has the same bits as when it is
/// computed for every event; only which events get one changes.
extension EvaluationPlan {
    /// Above this share of the chunk's events in the domain, the dimension is computed for the
    /// whole chunk (gathering then costs more than it saves). A speed setting: values are the same.
    static let sparseShare = 0.25

    /// Computes dimension `d` for this chunk unless already done.
    /// - Complexity: O(events in the domain × (terms + transform)), or O(chunk) when dense.
    func ensure(_ d: Int, base: UnsafePointer<Double>, capacity: Int, offset o: Int, count n: Int, scratch: EvaluationScratch, avx2: Bool) {
        let sparse = scratch.sparse
        guard sparse.dimensionReady[d] != sparse.chunkSerial else { return }
        sparse.dimensionReady[d] = sparse.chunkSerial
        let domain = domains.domains[d]!
        // The domain gate was evaluated earlier in this chunk: its size decides, and its events'
        // indices are gathered only when the dimension is computed for them alone.
        if Double(scratch.chunkCounts[domain]) > Self.sparseShare * Double(n) {
            for output in domains.outputsOfDimension[d] where !domains.denseOutputs[output] && sparse.outputReady[output] != sparse.chunkSerial {
                sparse.outputReady[output] = sparse.chunkSerial
                compensate(terms: outputTerms[output], base: base, capacity: capacity, offset: o, count: n,
                           into: scratch.compensated + output * scratch.capacity + o, avx2: avx2)
            }
            computeDimension(d, base: base, capacity: capacity, offset: o, count: n, scratch: scratch, avx2: avx2)
            return
        }
        let k = sparse.gather(domain: domain, mask: scratch.masks + domain * scratch.capacity + o, count: n)
        guard k > 0 else { return }
        let events = sparse.indices
        // The source's values for the domain's events, gathered.
        func gathered(_ ref: ValueRef, into target: UnsafeMutablePointer<Double>) {
            switch ref {
            case .raw(let c):
                let column = base + c * capacity + o
                for i in 0..<k { target[i] = column[events[i]] }
            case .compensated(let output) where domains.denseOutputs[output] || sparse.outputReady[output] == sparse.chunkSerial:
                let column = scratch.compensated + output * scratch.capacity + o
                for i in 0..<k { target[i] = column[events[i]] }
            case .compensated(let output):
                // The output's input columns for the domain's events, each gathered once per domain
                // and chunk (the plasma cells' sparse outputs share their inputs), laid out as the
                // block's columns (capacity: the chunk); then the same sum.
                let terms = outputTerms[output]
                let chunk = Self.chunkSize
                for term in terms where !sparse.inputGathered(term.column, domain: domain) {
                    let column = base + term.column * capacity + o, into = sparse.inputs + term.column * chunk
                    for i in 0..<k { into[i] = column[events[i]] }
                }
                compensate(terms: terms, base: UnsafePointer(sparse.inputs), capacity: chunk, offset: 0, count: k, into: target, avx2: avx2)
            }
        }
        let values = sparse.xs
        switch dimensions[d].source {
        case .value(let ref):
            gathered(ref, into: values)
        case .ratio(let xr, let yr, let A, let B, let C):
            gathered(xr, into: values)
            gathered(yr, into: sparse.ys)
            let y = sparse.ys
            for i in 0..<k { values[i] = fratio(values[i], y[i], A: A, B: B, C: C) }
        }
        transformValues(d, from: values, to: values, count: k, avx2: avx2)
        let out = scratch.dimensions + d * scratch.capacity + o
        for i in 0..<k { out[events[i]] = values[i] }
    }

    /// Dimension `d` for every event of the chunk (its compensated outputs already computed).
    /// - Complexity: O(count × transform cost).
    func computeDimension(_ d: Int, base: UnsafePointer<Double>, capacity: Int, offset o: Int, count n: Int, scratch: EvaluationScratch, avx2: Bool) {
        let cap = scratch.capacity
        func pointer(_ ref: ValueRef) -> UnsafePointer<Double> {
            switch ref {
            case .raw(let c): return base + c * capacity + o
            case .compensated(let k): return UnsafePointer(scratch.compensated + k * cap + o)
            }
        }
        let out = scratch.dimensions + d * cap + o
        switch dimensions[d].source {
        case .value(let ref):
            // Transformed straight from the source column (no copy first), or copied when not transformed.
            if dimensions[d].transformed { transformValues(d, from: pointer(ref), to: out, count: n, avx2: avx2) }
            else { out.update(from: pointer(ref), count: n) }
        case .ratio(let xr, let yr, let A, let B, let C):
            let x = pointer(xr), y = pointer(yr)
            for e in 0..<n { out[e] = fratio(x[e], y[e], A: A, B: B, C: C) }
            transformValues(d, from: out, to: out, count: n, avx2: avx2)
        }
    }

    /// Dimension `d`'s transform and bounds over `count` values (`values` may be `source`):
    /// through its table kernel when tabulated and AVX2 is on, with the same operations as
    /// ``BoundedTransformation/apply(from:to:count:avx2:)`` (off-grid values by the exact solver,
    /// then the bounds), so the same bits, without copying the transform (whose shared table's
    /// reference counts the workers' cores would otherwise contend for, chunk after chunk).
    /// - Complexity: O(count).
    func transformValues(_ d: Int, from source: UnsafePointer<Double>, to values: UnsafeMutablePointer<Double>, count n: Int, avx2: Bool) {
        guard avx2, let table = dimensions[d].table else {
            dimensions[d].transform?.apply(from: source, to: values, count: n, avx2: avx2)
            return
        }
        withUnsafeTemporaryAllocation(of: Int.self, capacity: max(1, n)) { outside in
            let off = table.apply(from: source, to: values, count: n, outside: outside.baseAddress!)
            // Off the grid (rare): the exact solver, through the transform itself.
            if off > 0, let transform = dimensions[d].transform {
                for k in 0..<off { values[outside[k]] = transform.transformation.exactValue(source[outside[k]]) }
            }
        }
        BoundedTransformation.clamp(values, count: n, boundMin: dimensions[d].boundMin, boundMax: dimensions[d].boundMax)
    }
}

/// Gating-ML's fratio A·(x − B)/(y − C): one definition for both paths, so both give the same bits.
@inline(__always)
func fratio(_ x: Double, _ y: Double, A: Double, B: Double, C: Double) -> Double { A * (x - B) / (y - C) }

/// One worker's buffers for dimensions with a domain: the domain's event indices in the chunk
/// (gathered once per domain and chunk), gathered inputs, and which dimensions and compensated
/// outputs are done in the current chunk.
final class SparseScratch: @unchecked Sendable {
    /// Incremented per chunk; a dimension or output is done when its entry equals it.
    var chunkSerial = 0
    let dimensionReady: UnsafeMutablePointer<Int>
    let outputReady: UnsafeMutablePointer<Int>
    let indices: UnsafeMutablePointer<Int>
    /// Compensation inputs gathered for a domain's events: block column c at c × chunk.
    let inputs: UnsafeMutablePointer<Double>
    /// Per block column: the chunk and domain its gathered inputs are for.
    private let inputSerial: UnsafeMutablePointer<Int>
    private let inputDomain: UnsafeMutablePointer<Int>
    let xs: UnsafeMutablePointer<Double>
    let ys: UnsafeMutablePointer<Double>
    private var gatheredDomain = -1
    private var gatheredSerial = -1
    private var gatheredCount = 0

    init(plan: EvaluationPlan) {
        let chunk = EvaluationPlan.chunkSize
        let dimensionCount = max(1, plan.dimensions.count), outputCount = max(1, plan.compensatedOutputCount)
        dimensionReady = .allocate(capacity: dimensionCount)
        dimensionReady.initialize(repeating: -1, count: dimensionCount)
        outputReady = .allocate(capacity: outputCount)
        outputReady.initialize(repeating: -1, count: outputCount)
        indices = .allocate(capacity: chunk)
        indices.initialize(repeating: 0, count: chunk)
        let columns = 1 + (plan.outputTerms.flatMap { $0.map(\.column) }.max() ?? 0)
        // Not initialized: a column's part is always gathered (written) before the sum reads it
        // (``inputGathered(_:domain:)``), so only the pages a domain's few events reach are ever
        // touched (14 columns × 32 KB, zeroed, cost every worker of every pass its page faults).
        inputs = .allocate(capacity: columns * chunk)
        inputSerial = .allocate(capacity: columns)
        inputSerial.initialize(repeating: -1, count: columns)
        inputDomain = .allocate(capacity: columns)
        inputDomain.initialize(repeating: -1, count: columns)
        xs = .allocate(capacity: chunk)
        xs.initialize(repeating: 0, count: chunk)
        ys = .allocate(capacity: chunk)
        ys.initialize(repeating: 0, count: chunk)
    }

    /// The chunk's events in gate `domain` into ``indices``, once per domain and chunk; their number.
    /// - Complexity: O(count / 8 + events in the domain).
    func gather(domain: Int, mask: UnsafePointer<UInt8>, count n: Int) -> Int {
        if gatheredDomain == domain && gatheredSerial == chunkSerial { return gatheredCount }
        let k = ColumnKernels.listNonzero(mask, count: n, into: indices)
        gatheredDomain = domain
        gatheredSerial = chunkSerial
        gatheredCount = k
        return k
    }

    /// Whether block column `column`'s inputs for `domain`'s events in this chunk were gathered;
    /// if not, marks them as gathered now (the caller gathers them).
    @inline(__always)
    func inputGathered(_ column: Int, domain: Int) -> Bool {
        if inputSerial[column] == chunkSerial && inputDomain[column] == domain { return true }
        inputSerial[column] = chunkSerial
        inputDomain[column] = domain
        return false
    }

    deinit {
        inputSerial.deallocate()
        inputDomain.deallocate()
        dimensionReady.deallocate()
        outputReady.deallocate()
        indices.deallocate()
        inputs.deallocate()
        xs.deallocate()
        ys.deallocate()
    }
}
