/// A set of gates with parent links and boolean references, plus the compensation
/// matrices they name: the unit a gate file describes and the evaluator runs.
///
/// Construction checks every reference (parents, boolean operands, matrices), rejects
/// cycles, and fixes an evaluation order in which every gate follows what it needs.
public struct GatingTree: Sendable {
    /// Gates in file order.
    public let gates: [Gate]
    /// Named compensation matrices (Gating-ML spectrumMatrix).
    public let matrices: [String: CompensationMatrix]
    /// Indices into `gates` in an order where parents and operands come first.
    public let evaluationOrder: [Int]
    let indexByID: [String: Int]

    public init(gates: [Gate], matrices: [String: CompensationMatrix] = [:]) throws(CytometryError) {
        var index: [String: Int] = [:]
        for (i, gate) in gates.enumerated() {
            if index[gate.id] != nil { throw .invalidGate(id: gate.id, detail: "id is used by more than one gate") }
            index[gate.id] = i
        }
        for gate in gates {
            if let parent = gate.parentID, index[parent] == nil {
                throw .invalidGate(id: gate.id, detail: "parent \"\(parent)\" does not exist")
            }
            try Self.validate(gate, known: index, matrices: matrices)
        }
        // Topological order: parents and operands before the gate.
        var order: [Int] = []
        var state = [UInt8](repeating: 0, count: gates.count)  // 0 new, 1 visiting, 2 done
        func visit(_ i: Int) throws(CytometryError) {
            if state[i] == 2 { return }
            if state[i] == 1 { throw .invalidGate(id: gates[i].id, detail: "gate references form a cycle") }
            state[i] = 1
            var needs: [String] = []
            if let parent = gates[i].parentID { needs.append(parent) }
            if case .boolean(_, let operands) = gates[i].shape { needs += operands.map(\.gateID) }
            for id in needs { try visit(index[id]!) }
            state[i] = 2
            order.append(i)
        }
        for i in gates.indices { try visit(i) }
        self.gates = gates
        self.matrices = matrices
        self.indexByID = index
        self.evaluationOrder = order
    }

    static func validate(_ gate: Gate, known: [String: Int], matrices: [String: CompensationMatrix]) throws(CytometryError) {
        for dimension in gate.dimensions {
            if case .matrix(let id) = dimension.compensation, matrices[id] == nil {
                throw .invalidGate(id: gate.id, detail: "compensation-ref \"\(id)\" names no matrix")
            }
        }
        switch gate.shape {
        case .rectangle(let dimensions, let minimums, let maximums):
            guard !dimensions.isEmpty, minimums.count == dimensions.count, maximums.count == dimensions.count else {
                throw .invalidGate(id: gate.id, detail: "a rectangle needs a min and max (either may be open) per dimension")
            }
            for (lo, hi) in zip(minimums, maximums) {
                if lo == nil && hi == nil { throw .invalidGate(id: gate.id, detail: "a rectangle dimension needs a min or a max") }
                if let lo, let hi, !(lo <= hi) { throw .invalidGate(id: gate.id, detail: "min \(lo) is above max \(hi)") }
            }
        case .polygon(_, _, let vertices):
            guard vertices.count >= 3 else { throw .invalidGate(id: gate.id, detail: "a polygon needs at least 3 vertices, has \(vertices.count)") }
            guard vertices.allSatisfy({ $0.x.isFinite && $0.y.isFinite }) else { throw .invalidGate(id: gate.id, detail: "a vertex is not finite") }
        case .ellipsoid(let dimensions, let mean, let covariance, let distanceSquare):
            let n = dimensions.count
            guard n >= 1, mean.count == n, covariance.count == n * n else {
                throw .invalidGate(id: gate.id, detail: "an ellipsoid in \(n) dimensions needs \(n) means and \(n * n) covariances")
            }
            guard distanceSquare > 0 else { throw .invalidGate(id: gate.id, detail: "distanceSquare must be positive") }
        case .boolean(let op, let operands):
            if gate.complement { throw .invalidGate(id: gate.id, detail: "a boolean gate cannot be complemented; use not") }
            switch op {
            case .not where operands.count != 1: throw .invalidGate(id: gate.id, detail: "not takes exactly one operand")
            case .and where operands.count < 2, .or where operands.count < 2:
                throw .invalidGate(id: gate.id, detail: "\(op.rawValue) needs at least two operands")
            default: break
            }
            for operand in operands where known[operand.gateID] == nil {
                throw .invalidGate(id: gate.id, detail: "references gate \"\(operand.gateID)\", which does not exist")
            }
        }
    }

    /// The gate with `id`.
    public func gate(_ id: String) -> Gate? { indexByID[id].map { gates[$0] } }

    /// The path from the root, by name (the id where a gate has no name): "/Range1/ParAnd3".
    public func path(of id: String) -> String {
        var parts: [String] = []
        var current: String? = id
        var guardCount = 0
        while let c = current, guardCount <= gates.count {
            parts.append(gate(c)?.name ?? c)
            current = gate(c)?.parentID
            guardCount += 1
        }
        return "/" + parts.reversed().joined(separator: "/")
    }
}
