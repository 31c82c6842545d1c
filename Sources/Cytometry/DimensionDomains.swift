/// Where each dimension of an ``EvaluationPlan`` is ever read, so that a dimension read only
/// inside a small population is computed only for that population's events.
///
/// A gate's mask is its shape ANDed with its parent's mask, so the shape's values matter only
/// for events in the parent. A dimension's *domain* is therefore the lowest common ancestor of
/// the parents of every gate that reads it, and of the domains the caller gives for its extra
/// dimensions (an observer that reads a column only for one gate's events). A dimension read
/// by a root gate, or by the caller for every event, has no domain and is computed for every
/// event as before. In the bundled MRD template, CD56, CD27, CD81 and both light chains are
/// read only inside the plasma cells (about 1% of the events): their compensation and logicle
/// transform then run on about 1% of the events.
///
/// A dimension's values outside its domain are not computed (stale from an earlier chunk).
/// Nothing reads them: gates AND them away with the parent, and observers declared the domain.
struct DimensionDomains: Sendable {
    /// Per dimension: the gate whose events are the only ones its values are read for; nil: every event.
    let domains: [Int?]
    /// Per gate: the dimensions with a domain that its shape reads (computed just before it).
    let sparseOfGate: [[Int]]
    /// The extra dimensions with a domain (computed after the last gate of the chunk).
    let sparseExtras: [Int]
    /// Per compensated output: whether a dimension without a domain reads it (so it is computed
    /// for every event in stage 1); otherwise only dimensions with a domain read it.
    let denseOutputs: [Bool]
    /// Per dimension: the compensated outputs its source reads.
    let outputsOfDimension: [[Int]]

    /// - Parameters:
    ///   - readers: per gate, the dimensions its shape reads.
    ///   - parents: per gate, its parent's index.
    ///   - extras: the caller's extra dimensions, and for each the gate outside which it is not read (nil: every event).
    ///   - outputsOfDimension: per dimension, the compensated outputs its source reads.
    /// - Complexity: O(gates × depth + dimensions).
    init(readers: [[Int]], parents: [Int?], extras: [(dimension: Int, domain: Int?)], outputsOfDimension: [[Int]], outputCount: Int) {
        func ancestors(_ g: Int) -> [Int] {
            var chain = [g]
            var seen: Set<Int> = [g]
            while let p = parents[chain.last!], !seen.contains(p) { chain.append(p); seen.insert(p) }
            return chain
        }
        func common(_ a: Int, _ b: Int) -> Int? {
            let above = Set(ancestors(b))
            return ancestors(a).first { above.contains($0) }
        }
        let dimensionCount = outputsOfDimension.count
        // nil while unseen; .some(nil) once some reader needs every event.
        var domain = [Int??](repeating: nil, count: dimensionCount)
        func add(_ d: Int, _ reader: Int?) {
            switch domain[d] {
            case .none: domain[d] = .some(reader)
            case .some(.none): break
            case .some(.some(let current)): domain[d] = .some(reader.flatMap { common(current, $0) })
            }
        }
        for (g, dimensions) in readers.enumerated() { for d in dimensions { add(d, parents[g]) } }
        for extra in extras { add(extra.dimension, extra.domain) }
        domains = domain.map { $0 ?? nil }
        sparseOfGate = readers.map { Array(Set($0.filter { domain[$0]! != nil })).sorted() }
        sparseExtras = Array(Set(extras.map(\.dimension).filter { domain[$0]! != nil })).sorted()
        var dense = [Bool](repeating: false, count: outputCount)
        for d in 0..<dimensionCount where domains[d] == nil { for k in outputsOfDimension[d] { dense[k] = true } }
        denseOutputs = dense
        self.outputsOfDimension = outputsOfDimension
    }
}
