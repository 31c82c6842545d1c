/// An ``EvaluationPlan``'s gates as plain values in buffers of their own, for the chunk loop:
/// reading a gate there copies nothing, where binding a ``EvaluationPlan/GatePlan``'s payload
/// (its dimension, bound and operand arrays), a gate's parent or its list of sparse dimensions
/// retained and released arrays for every gate of every chunk. Rectangle and boolean gates are
/// held whole; a polygon or ellipsoid gate is marked `other`, and the loop reads the plan for it.
/// Owned by one worker's ``EvaluationScratch``, which frees it.
struct GateTable {
    enum Kind: UInt8 {
        case rectangle, and, or, not, other
    }

    let count: Int
    /// Gates in dependency order, `orderCount` of them.
    let order: UnsafeMutablePointer<Int>
    let orderCount: Int
    let kinds: UnsafeMutablePointer<Kind>
    /// Per gate: its parent's index, −1 for none.
    let parents: UnsafeMutablePointer<Int>
    let complements: UnsafeMutablePointer<Bool>
    /// Per gate g: its sparse dimensions (``DimensionDomains/sparseOfGate``) are
    /// `sparse[sparseStart[g]..<sparseStart[g + 1]]`.
    let sparseStart: UnsafeMutablePointer<Int>
    let sparse: UnsafeMutablePointer<Int>
    /// Per gate g: its items are `itemStart[g]..<itemStart[g + 1]` — a rectangle's dimensions
    /// (`dimensions`, `lows`, `highs`), a boolean gate's operands (`operands`, `operandComplements`).
    let itemStart: UnsafeMutablePointer<Int>
    let dimensions: UnsafeMutablePointer<Int>
    /// Per rectangle item: the block column its dimension reads in place (``EvaluationPlan/rawColumnOf``), −1 for none.
    let rawColumns: UnsafeMutablePointer<Int>
    let lows: UnsafeMutablePointer<Double>
    let highs: UnsafeMutablePointer<Double>
    let operands: UnsafeMutablePointer<Int>
    let operandComplements: UnsafeMutablePointer<Bool>

    /// - Complexity: O(gates + their dimensions and operands).
    init(plan: EvaluationPlan) {
        count = plan.gates.count
        var kinds: [Kind] = [], starts = [0], dimensions: [Int] = [], lows: [Double] = [], highs: [Double] = []
        var operands: [Int] = [], complements: [Bool] = []
        for gate in plan.gates {
            switch gate {
            case .rectangle(let ds, let minimums, let maximums):
                kinds.append(.rectangle)
                dimensions += ds
                lows += minimums
                highs += maximums
                operands += ds.map { _ in 0 }
                complements += ds.map { _ in false }
            case .boolean(let op, let list):
                // The tree checked the operands (``GatingTree``): the loop reads a `not`'s first one unguarded.
                precondition(op == .not ? list.count == 1 : list.count >= 2, "a boolean gate's operands were not checked")
                kinds.append(op == .and ? .and : op == .or ? .or : .not)
                operands += list.map(\.index)
                complements += list.map(\.complement)
                dimensions += list.map { _ in 0 }
                lows += list.map { _ in 0 }
                highs += list.map { _ in 0 }
            case .polygon, .ellipsoid:
                kinds.append(.other)
            }
            starts.append(dimensions.count)
        }
        var sparseStarts = [0], sparse: [Int] = []
        for list in plan.domains.sparseOfGate {
            sparse += list
            sparseStarts.append(sparse.count)
        }
        func copy<T>(_ values: [T]) -> UnsafeMutablePointer<T> {
            let p = UnsafeMutablePointer<T>.allocate(capacity: max(1, values.count))
            p.initialize(from: values, count: values.count)
            return p
        }
        order = copy(plan.order)
        orderCount = plan.order.count
        self.kinds = copy(kinds)
        parents = copy(plan.parents.map { $0 ?? -1 })
        self.complements = copy(plan.complements)
        sparseStart = copy(sparseStarts)
        self.sparse = copy(sparse)
        itemStart = copy(starts)
        self.dimensions = copy(dimensions)
        rawColumns = copy(zip(kinds.indices, kinds).flatMap { g, kind in
            (starts[g]..<starts[g + 1]).map { k in kind == .rectangle ? plan.rawColumnOf[dimensions[k]] ?? -1 : -1 }
        })
        self.lows = copy(lows)
        self.highs = copy(highs)
        self.operands = copy(operands)
        operandComplements = copy(complements)
    }

    /// Frees the buffers (the owning scratch's deinit).
    func deallocate() {
        for p in [order, parents, sparseStart, sparse, itemStart, dimensions, rawColumns, operands] { p.deallocate() }
        kinds.deallocate()
        complements.deallocate()
        lows.deallocate()
        highs.deallocate()
        operandComplements.deallocate()
    }
}
