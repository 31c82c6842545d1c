import CKernels
import EventCore

/// A gating tree resolved against one data set's channels: column indices, compensation
/// inputs, de-duplicated dimensions and gates in dependency order. Built once per file.
struct EvaluationPlan: Sendable {
    enum ValueRef: Sendable, Equatable {
        /// A channel column of the block.
        case raw(Int)
        /// Output `index` of the flat list of compensated outputs.
        case compensated(Int)
    }

    enum Source: Sendable {
        case value(ValueRef)
        case ratio(ValueRef, ValueRef, A: Double, B: Double, C: Double)
    }

    struct DimensionPlan: Sendable {
        let source: Source
        let transform: BoundedTransformation?
        /// The transform's table kernel when it is tabulated, and its bounds, as plain values read
        /// per chunk without copying the transform (``transformValues(_:from:to:count:avx2:)``).
        let table: TableKernel?
        let boundMin: Double?
        let boundMax: Double?
        /// Whether there is a transform, read per chunk without copying it (a copy retains the
        /// logicle's arrays, which every worker's plan shares).
        let transformed: Bool

        init(source: Source, transform: BoundedTransformation?) {
            self.source = source
            self.transform = transform
            transformed = transform != nil
            table = transform?.tableKernel
            boundMin = transform?.boundMin
            boundMax = transform?.boundMax
        }
    }

    struct CompensationPlan: Sendable {
        let matrix: CompensationMatrix
        let firstOutput: Int
        /// Per output: the block columns and coefficients of its sum, in detector order — the
        /// first detector's always, then every other with a non-zero coefficient.
        let terms: [[(column: Int, coefficient: Double)]]

        init(matrix: CompensationMatrix, inputColumns: [Int], firstOutput: Int) {
            self.matrix = matrix
            self.firstOutput = firstOutput
            let no = matrix.outputs.count
            var terms: [[(column: Int, coefficient: Double)]] = []
            for i in 0..<no {
                var sum: [(column: Int, coefficient: Double)] = [(inputColumns[0], matrix.unmixing[i])]
                for j in 1..<max(1, inputColumns.count) where matrix.unmixing[j * no + i] != 0 {
                    sum.append((inputColumns[j], matrix.unmixing[j * no + i]))
                }
                terms.append(sum)
            }
            self.terms = terms
        }
    }

    enum GatePlan: Sendable {
        case rectangle(dimensions: [Int], minimums: [Double], maximums: [Double])
        case polygon(x: Int, y: Int, xs: [Double], ys: [Double])
        case ellipsoid(dimensions: [Int], mean: [Double], inverseCovariance: [Double], distanceSquare: Double)
        case boolean(BooleanOperator, operands: [(index: Int, complement: Bool)])
    }

    /// Compensated outputs, over every matrix used (``outputTerms``).
    var compensatedOutputCount: Int { outputTerms.count }
    let dimensions: [DimensionPlan]
    let gates: [GatePlan]
    let parents: [Int?]
    /// Per gate: whether its mask is the shape's complement (before the parent is applied).
    let complements: [Bool]
    let order: [Int]

    /// Dimension indices of the caller's extra dimensions, in the order given.
    let extraDimensions: [Int]
    /// Which dimensions are computed only inside a population (``DimensionDomains``).
    let domains: DimensionDomains
    /// Per dimension: the block column it is, when it is a channel as read (no compensation, no
    /// transform) that only rectangle gates read for every event — those gates then read the
    /// block's column, and the dimension is never copied into the scratch (the time channel).
    let rawColumnOf: [Int?]
    /// Per compensated output (flat index): the block columns and coefficients of its sum.
    let outputTerms: [[(column: Int, coefficient: Double)]]

    /// - Parameter extraDomains: per extra dimension, the gate (index in the tree) outside whose
    ///   events the caller never reads it, or nil when it reads every event (also when omitted).
    init(tree: GatingTree, dataSet: EventDataSet, extraDimensions extras: [GateDimension] = [], extraDomains: [Int?] = []) throws(CytometryError) {
        let channelNames = dataSet.channels.map(\.name)
        func column(_ name: String) throws(CytometryError) -> Int {
            guard let index = dataSet.channelIndex(named: name) else {
                throw .missingChannel(name: name, available: channelNames)
            }
            return index
        }
        // Compensations: the file's (if used and present) and each named matrix used.
        var compensations: [CompensationPlan] = []
        var compensationIndex: [CompensationReference: Int] = [:]
        var outputs = 0
        func addCompensation(_ reference: CompensationReference, _ matrix: CompensationMatrix) throws(CytometryError) {
            var inputs: [Int] = []
            for name in matrix.detectors { inputs.append(try column(name)) }
            compensationIndex[reference] = compensations.count
            compensations.append(CompensationPlan(matrix: matrix, inputColumns: inputs, firstOutput: outputs))
            outputs += matrix.outputs.count
        }
        let used = Set(tree.gates.flatMap { $0.dimensions.map(\.compensation) } + extras.map(\.compensation))
        if used.contains(.file) {
            let spillover: SpilloverMatrix?
            do { spillover = try dataSet.spillover.get() } catch {
                throw .invalidMatrix("the file's spillover cannot be used: \(error.reasonWithoutFileName)")
            }
            if let spillover { try addCompensation(.file, try CompensationMatrix(spillover: spillover)) }
        }
        for reference in used.sorted(by: { "\($0)" < "\($1)" }) {
            if case .matrix(let id) = reference, let matrix = tree.matrices[id] { try addCompensation(reference, matrix) }
        }
        func reference(_ name: String, through compensation: CompensationReference) throws(CytometryError) -> ValueRef {
            if compensation != .uncompensated, let c = compensationIndex[compensation],
               let output = compensations[c].matrix.outputs.firstIndex(of: name) {
                return .compensated(compensations[c].firstOutput + output)
            }
            return .raw(try column(name))
        }
        // Dimensions, de-duplicated.
        var dimensionIndex: [GateDimension: Int] = [:]
        var dimensions: [DimensionPlan] = []
        func dimension(_ d: GateDimension) throws(CytometryError) -> Int {
            if let index = dimensionIndex[d] { return index }
            let source: Source
            switch d.source {
            case .channel(let name):
                source = .value(try reference(name, through: d.compensation))
            case .ratio(_, let x, let y, let A, let B, let C):
                source = .ratio(try reference(x, through: d.compensation), try reference(y, through: d.compensation), A: A, B: B, C: C)
            }
            dimensionIndex[d] = dimensions.count
            dimensions.append(DimensionPlan(source: source, transform: d.transform?.transform))
            return dimensions.count - 1
        }
        var gates: [GatePlan] = []
        for gate in tree.gates {
            switch gate.shape {
            case .rectangle(let ds, let minimums, let maximums):
                var indices: [Int] = []
                for d in ds { indices.append(try dimension(d)) }
                gates.append(.rectangle(dimensions: indices, minimums: minimums.map { $0 ?? -.infinity }, maximums: maximums.map { $0 ?? .infinity }))
            case .polygon(let x, let y, let vertices):
                let xd = try dimension(x), yd = try dimension(y)
                let xs = vertices.map(\.x), ys = vertices.map(\.y)
                if let box = AxisAlignedPolygon(xs: xs, ys: ys) {
                    // The same events inside, by two ranges instead of four edges (``AxisAlignedPolygon``).
                    gates.append(.rectangle(dimensions: [xd, yd], minimums: [box.x.lowerBound, box.y.lowerBound], maximums: [box.x.upperBound, box.y.upperBound]))
                } else {
                    gates.append(.polygon(x: xd, y: yd, xs: xs, ys: ys))
                }
            case .ellipsoid(let ds, let mean, let covariance, let distanceSquare):
                var indices: [Int] = []
                for d in ds { indices.append(try dimension(d)) }
                let inverse: [Double]
                do { inverse = try invert(covariance, size: ds.count, context: "covariance of ellipsoid \(gate.id)") } catch {
                    throw .invalidGate(id: gate.id, detail: "covariance matrix is singular")
                }
                gates.append(.ellipsoid(dimensions: indices, mean: mean, inverseCovariance: inverse, distanceSquare: distanceSquare))
            case .boolean(let op, let operands):
                gates.append(.boolean(op, operands: operands.map { (tree.indexByID[$0.gateID]!, $0.complement) }))
            }
        }
        var extraIndices: [Int] = []
        for d in extras { extraIndices.append(try dimension(d)) }
        self.extraDimensions = extraIndices
        let parents = tree.gates.map { $0.parentID.flatMap { tree.indexByID[$0] } }
        let readers: [[Int]] = gates.map { gate in
            switch gate {
            case .rectangle(let ds, _, _), .ellipsoid(let ds, _, _, _): return ds
            case .polygon(let x, let y, _, _): return [x, y]
            case .boolean: return []
            }
        }
        let outputsOfDimension: [[Int]] = dimensions.map { plan in
            func outputs(_ ref: ValueRef) -> [Int] { if case .compensated(let k) = ref { [k] } else { [] } }
            switch plan.source {
            case .value(let ref): return outputs(ref)
            case .ratio(let x, let y, _, _, _): return outputs(x) + outputs(y)
            }
        }
        self.domains = DimensionDomains(readers: readers, parents: parents,
                                        extras: extraIndices.enumerated().map { ($1, $0 < extraDomains.count ? extraDomains[$0] : nil) },
                                        outputsOfDimension: outputsOfDimension, outputCount: outputs)
        self.outputTerms = compensations.flatMap(\.terms)
        self.dimensions = dimensions
        // Dimensions read by anything but a rectangle gate (polygons, ellipsoids, the caller).
        var readElsewhere = Set(extraIndices)
        for gate in gates {
            switch gate {
            case .polygon(let x, let y, _, _): readElsewhere.formUnion([x, y])
            case .ellipsoid(let ds, _, _, _): readElsewhere.formUnion(ds)
            case .rectangle, .boolean: break
            }
        }
        let dimensionDomains = self.domains.domains
        self.rawColumnOf = dimensions.indices.map { d in
            guard case .value(.raw(let c)) = dimensions[d].source, !dimensions[d].transformed, dimensionDomains[d] == nil,
                  !readElsewhere.contains(d) else { return nil }
            return c
        }
        self.gates = gates
        self.parents = parents
        self.complements = tree.gates.map(\.complement)
        self.order = tree.evaluationOrder
    }

    /// Events evaluated together: each stage runs over a chunk's columns before the next stage.
    /// 4,096 (the evaluator's whole block: 32 KB a column, in the second-level cache) was
    /// measured faster than chunks sized for the first-level cache: per chunk, every gate and
    /// dimension pays its dispatch, and the kernels their set-up (10M events, 2 cores, medians
    /// of 9: 512 events 0.69 s, 1,024 0.65 s, 2,048 0.60 s, 4,096 0.60 s; docs/benchmarks.md).
    static let chunkSize = 4_096

    /// Events whose dense compensated outputs are computed together: every output of a tile of
    /// 256 events before the next tile, so the tile's inputs (10 columns × 256 × 8 bytes = 20 KB)
    /// are read from the second-level cache once and then from the first for the other outputs,
    /// instead of once per output over the whole chunk. Each value is the same sum in the same
    /// order. Measured (10M events; docs/analysis-speed.md): the compensation's share of the
    /// analysis's samples 3,120 → 2,095, CPU 0.58 → 0.54 s; 128 events gave the same.
    static let compensationTile = 256

    /// Evaluates one block into the scratch masks and adds to its counts, a chunk of events at
    /// a time. Every value is computed by the same operations in the same order as event by
    /// event, so chunking changes no result.
    /// `avx2` picks the column kernels (``ColumnKernels``); both give the same masks and counts.
    func run(block: borrowing EventBlock<Double>, scratch: EvaluationScratch, avx2: Bool = ColumnKernels.useAVX2) {
        let n = block.count
        let capacity = block.capacity
        block.withUnsafeStorage { base in
            var offset = 0
            while offset < n {
                let m = min(Self.chunkSize, n - offset)
                runChunk(base: base, capacity: capacity, offset: offset, count: m, scratch: scratch, avx2: avx2)
                offset += m
            }
        }
    }

    private func runChunk(base: UnsafePointer<Double>, capacity: Int, offset o: Int, count n: Int, scratch: EvaluationScratch, avx2: Bool) {
        let cap = scratch.capacity
        // 1. Compensation: output i = Σ_j input_j · unmixing[j][i], j in order, zero terms
        // skipped; one term at a time over a tile of ``compensationTile`` events (vectorised),
        // every output of a tile before the next, so the inputs they share stay in the
        // first-level cache. Outputs read only by dimensions with a domain wait for it (``ensure(_:…)``).
        var t = 0
        while t < n {
            let m = min(Self.compensationTile, n - t)
            for (output, terms) in outputTerms.enumerated() where domains.denseOutputs[output] {
                compensate(terms: terms, base: base, capacity: capacity, offset: o + t, count: m, into: scratch.compensated + output * cap + o + t, avx2: avx2)
            }
            t += m
        }
        // 2. Dimensions read for every event; the others just before the first gate that reads them.
        scratch.sparse.chunkSerial &+= 1
        for d in dimensions.indices where domains.domains[d] == nil && rawColumnOf[d] == nil {
            computeDimension(d, base: base, capacity: capacity, offset: o, count: n, scratch: scratch, avx2: avx2)
        }
        // 3. Gates in dependency order, read from the scratch's gate table (no array copied per gate).
        let table = scratch.gateTable
        for i in 0..<table.orderCount {
            let g = table.order[i]
            for s in table.sparseStart[g]..<table.sparseStart[g + 1] {
                ensure(table.sparse[s], base: base, capacity: capacity, offset: o, count: n, scratch: scratch, avx2: avx2)
            }
            let mask = scratch.masks + g * cap + o
            let parent = table.parents[g] >= 0 ? UnsafePointer(scratch.masks + table.parents[g] * cap + o) : nil
            let items = table.itemStart[g]..<table.itemStart[g + 1]
            switch table.kinds[g] {
            case .rectangle where avx2:
                // Every dimension's range, the complement, the parent and the count in one pass.
                let columns = scratch.rectangleColumns
                for k in items {
                    let raw = table.rawColumns[k]
                    columns[k - items.lowerBound] = raw >= 0 ? base + raw * capacity + o : UnsafePointer(scratch.dimensions + table.dimensions[k] * cap + o)
                }
                let inside = ckernels_rectangle_mask_avx2(columns, table.lows + items.lowerBound, table.highs + items.lowerBound, items.count,
                                                          parent, table.complements[g] ? 1 : 0, mask, n)
                scratch.record(gate: g, inside: inside)
                continue
            case .rectangle:
                // The portable path: one range per dimension, then finished below.
                if items.isEmpty { for e in 0..<n { mask[e] = 1 } }
                for k in items {
                    let raw = table.rawColumns[k]
                    let values = raw >= 0 ? base + raw * capacity + o : UnsafePointer(scratch.dimensions + table.dimensions[k] * cap + o)
                    let lo = table.lows[k], hi = table.highs[k]
                    if k == items.lowerBound {
                        for e in 0..<n { let v = values[e]; mask[e] = (v >= lo && v < hi) ? 1 : 0 }
                    } else {
                        for e in 0..<n { let v = values[e]; mask[e] &= (v >= lo && v < hi) ? 1 : 0 }
                    }
                }
            case .and:
                for e in 0..<n { mask[e] = 1 }
                for k in items {
                    let other = scratch.masks + table.operands[k] * cap + o
                    let flip: UInt8 = table.operandComplements[k] ? 1 : 0
                    for e in 0..<n { mask[e] &= other[e] ^ flip }
                }
            case .or:
                for e in 0..<n { mask[e] = 0 }
                for k in items {
                    let other = scratch.masks + table.operands[k] * cap + o
                    let flip: UInt8 = table.operandComplements[k] ? 1 : 0
                    for e in 0..<n { mask[e] |= other[e] ^ flip }
                }
            case .not:
                let first = items.lowerBound
                let other = scratch.masks + table.operands[first] * cap + o
                let flip: UInt8 = table.operandComplements[first] ? 0 : 1
                for e in 0..<n { mask[e] = other[e] ^ flip }
            case .other:
                switch gates[g] {
                case .polygon(let xd, let yd, let xs, let ys):
                    polygonMask(x: scratch.dimensions + xd * cap + o, y: scratch.dimensions + yd * cap + o, xs: xs, ys: ys, into: mask, count: n, avx2: avx2)
                case .ellipsoid(let ds, let mean, let inverse, let distanceSquare):
                    let k = ds.count
                    for e in 0..<n {
                        var sum = 0.0
                        for i in 0..<k {
                            let di = scratch.dimensions[ds[i] * cap + o + e] - mean[i]
                            for j in 0..<k {
                                sum += di * inverse[i * k + j] * (scratch.dimensions[ds[j] * cap + o + e] - mean[j])
                            }
                        }
                        mask[e] = sum <= distanceSquare ? 1 : 0
                    }
                case .rectangle, .boolean:
                    preconditionFailure("rectangle and boolean gates are read from the gate table")
                }
            }
            let inside = avx2 ? ckernels_finish_mask_avx2(mask, parent, table.complements[g] ? 1 : 0, n)
                              : finishMask(mask, complement: table.complements[g], parent: parent, count: n)
            scratch.record(gate: g, inside: inside)
        }
        for d in domains.sparseExtras { ensure(d, base: base, capacity: capacity, offset: o, count: n, scratch: scratch, avx2: avx2) }
    }
}

/// One compensated output for `count` events from `offset` of the block's columns: the first
/// term's product, then each further term's product added in order — the same operations, in
/// the same order, as one event at a time.
/// - Complexity: O(count × terms), no allocation.
func compensate(terms: [(column: Int, coefficient: Double)], base: UnsafePointer<Double>, capacity: Int, offset o: Int, count n: Int,
                into target: UnsafeMutablePointer<Double>, avx2: Bool) {
    if avx2 {
        withUnsafeTemporaryAllocation(of: UnsafePointer<Double>?.self, capacity: terms.count) { sources in
            withUnsafeTemporaryAllocation(of: Double.self, capacity: terms.count) { coefficients in
                for (k, term) in terms.enumerated() {
                    sources[k] = base + term.column * capacity + o
                    coefficients[k] = term.coefficient
                }
                ckernels_compensate_avx2(target, sources.baseAddress!, coefficients.baseAddress!, terms.count, n)
            }
        }
        return
    }
    terms.withUnsafeBufferPointer { t in
        let first = t[0], source0 = base + first.column * capacity + o
        for e in 0..<n { target[e] = source0[e] * first.coefficient }
        for k in 1..<t.count {
            let source = base + t[k].column * capacity + o, coefficient = t[k].coefficient
            for e in 0..<n { target[e] += source[e] * coefficient }
        }
    }
}

/// The polygon's mask by the crossing rule, one edge at a time over all the events: an event is
/// inside when an odd number of edges cross the horizontal ray to its right. That is the parity
/// of ``windingNumber(x:y:xs:ys:)`` (an upward crossing adds one, a downward one subtracts one,
/// and both change the parity), with the same comparisons and the same `side` arithmetic, so
/// the same events are inside; without a branch per event, so the loop vectorises.
/// - Complexity: O(count × vertices), no allocation.
func polygonMask(x px: UnsafePointer<Double>, y py: UnsafePointer<Double>, xs: [Double], ys: [Double], into mask: UnsafeMutablePointer<UInt8>, count n: Int,
                 avx2: Bool = false) {
    if avx2 {
        xs.withUnsafeBufferPointer { xv in ys.withUnsafeBufferPointer { yv in
            ckernels_polygon_mask_avx2(px, py, xv.baseAddress, yv.baseAddress, xs.count, mask, n)
        } }
        return
    }
    for e in 0..<n { mask[e] = 0 }
    let vertices = xs.count
    var j = vertices - 1
    for i in 0..<vertices {
        let x0 = xs[j], y0 = ys[j], x1 = xs[i], y1 = ys[i]
        let dx = x1 - x0, dy = y1 - y0
        for e in 0..<n {
            let x = px[e], y = py[e]
            let side = dx * (y - y0) - (x - x0) * dy
            let up: UInt8 = (y0 <= y) && (y1 > y) && side > 0 ? 1 : 0
            let down: UInt8 = (y0 > y) && (y1 <= y) && side < 0 ? 1 : 0
            mask[e] ^= up | down
        }
        j = i
    }
}

/// Applies a gate's complement and its parent to its mask and counts the events left, eight
/// mask bytes (each 0 or 1) per step.
/// - Complexity: O(count), no allocation.
@inline(__always)
func finishMask(_ mask: UnsafeMutablePointer<UInt8>, complement: Bool, parent: UnsafePointer<UInt8>?, count n: Int) -> Int {
    let flip: UInt64 = complement ? 0x0101_0101_0101_0101 : 0
    let raw = UnsafeMutableRawPointer(mask)
    let parentRaw = parent.map(UnsafeRawPointer.init)
    let words = n / 8
    var total = 0
    var w = 0
    while w < words {
        // Byte lanes of the sum hold at most 255 ones.
        let end = min(words, w + 255)
        var sum: UInt64 = 0
        if let parentRaw {
            while w < end {
                let x = (raw.loadUnaligned(fromByteOffset: w * 8, as: UInt64.self) ^ flip) & parentRaw.loadUnaligned(fromByteOffset: w * 8, as: UInt64.self)
                raw.storeBytes(of: x, toByteOffset: w * 8, as: UInt64.self)
                sum &+= x
                w += 1
            }
        } else {
            while w < end {
                let x = raw.loadUnaligned(fromByteOffset: w * 8, as: UInt64.self) ^ flip
                raw.storeBytes(of: x, toByteOffset: w * 8, as: UInt64.self)
                sum &+= x
                w += 1
            }
        }
        let pairs = (sum & 0x00FF_00FF_00FF_00FF) &+ ((sum >> 8) & 0x00FF_00FF_00FF_00FF)
        total += Int(truncatingIfNeeded: (pairs &* 0x0001_0001_0001_0001) >> 48)
    }
    let byteFlip: UInt8 = complement ? 1 : 0
    for e in (words * 8)..<n {
        var x = mask[e] ^ byteFlip
        if let parent { x &= parent[e] }
        mask[e] = x
        total += Int(x)
    }
    return total
}

/// The winding number of the closed polygon (xs, ys) around (x, y) (Sunday's crossing rule).
///
/// An event is inside when the winding number is odd. For simple polygons this is the same as
/// non-zero; for self-intersecting ones it is what the ISAC compliance suite's truth requires:
/// in Polygon3NS the region the outline winds around twice is outside (Results_Polygon3NS.txt).
/// Cost: O(vertices), no allocation.
@inline(__always)
func windingNumber(x: Double, y: Double, xs: UnsafeBufferPointer<Double>, ys: UnsafeBufferPointer<Double>) -> Int {
    var winding = 0
    let count = xs.count
    var j = count - 1
    for i in 0..<count {
        let x0 = xs[j], y0 = ys[j], x1 = xs[i], y1 = ys[i]
        if y0 <= y {
            if y1 > y {
                let side = (x1 - x0) * (y - y0) - (x - x0) * (y1 - y0)
                if side > 0 { winding += 1 }
            }
        } else if y1 <= y {
            let side = (x1 - x0) * (y - y0) - (x - x0) * (y1 - y0)
            if side < 0 { winding -= 1 }
        }
        j = i
    }
    return winding
}
