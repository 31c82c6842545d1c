import Foundation

/// One dimension's events inside a search box, in order on it: member indices, values, chains,
/// and the prefix counts of the chain searched for (`wanted[j]`: among the first j events).
private struct BoxColumn {
    var order: [UInt32]
    var values: [Float]
    var chains: [Int8]
    var wanted: [Int32]

    /// - Complexity: O(events).
    init(order: [UInt32], values: [Float], chains: [Int8], want: Int8) {
        (self.order, self.values, self.chains) = (order, values, chains)
        var wanted = [Int32](repeating: 0, count: chains.count + 1)
        wanted.withUnsafeMutableBufferPointer { w in
            for j in chains.indices { w[j + 1] = w[j] &+ (chains[j] == want ? 1 : 0) }
        }
        self.wanted = wanted
    }

    /// Keeps the events still `inside`, in order, and counts the prefixes again.
    /// - Complexity: O(events), no allocation.
    mutating func keep(inside: UnsafeBufferPointer<Bool>, want: Int8) {
        let m = order.count
        var kept = 0
        order.withUnsafeMutableBufferPointer { o in
            values.withUnsafeMutableBufferPointer { v in
                chains.withUnsafeMutableBufferPointer { c in
                    wanted.withUnsafeMutableBufferPointer { w in
                        for j in 0..<m where inside[Int(o[j])] {
                            (o[kept], v[kept], c[kept]) = (o[j], v[j], c[j])
                            w[kept + 1] = w[kept] &+ (c[kept] == want ? 1 : 0)
                            kept += 1
                        }
                    }
                }
            }
        }
        order.removeLast(m - kept)
        values.removeLast(m - kept)
        chains.removeLast(m - kept)
        wanted.removeLast(m - kept)
    }
}

/// A light-chain-guided search for a restricted subset inside a cluster of plasma cells that,
/// as a whole, is polyclonal enough to pass for normal: what a reviewer does by gating the
/// CD19− (or CD38-dim …) part of a cluster and looking at its κ:λ.
///
/// A clone that shares its phenotype with a normal subset (a CD19−-only clone beside the
/// polyclonal CD19− normal plasma cells) lands in the same density cluster, and the cluster's
/// κ:λ is diluted by the normal cells. But the normal cells of either chain have the same
/// phenotype, while the clone's cells have one chain: cutting away the parts of the cluster
/// whose cells are as likely κ as λ concentrates the clone.
///
/// The search is a split-sample procedure, so that its result is a valid test:
/// 1. The cluster's events are split by row parity. The *search half* chooses a box (a range
///    on each phenotype marker) greedily: each step applies the one cut (the low or high end
///    of one marker, at one of 32 quantiles) that most increases the likelihood-ratio
///    statistic G of the chosen chain against the polyclonal share p₀, and the search stops
///    when no cut increases G by more than 2 (Akaike's penalty for the one parameter a cut
///    adds). The stopping rule shapes the box, never the validity of the test below.
/// 2. The *test half*, whose light chains played no part in choosing the box, is tested in
///    the box with ``ClonalityTest`` (exact binomial, `alpha` as given by the caller, odds ≥
///    the restriction ratio). Under polyclonality its κ and λ are independent of the box, so
///    the false-positive rate of a search is at most `alpha`.
///
/// Both chains are searched (the caller counts two tests per cluster). A search half larger
/// than `searchLimit` events is thinned to every k-th event for the search; the test uses the
/// whole test half.
///
/// - Complexity: O(steps · markers · n log n) for n events of the search half (at most
///   `searchLimit`), steps ≤ 2 · markers; O(n · markers) for the test.
struct RestrictedSubsetSearch {
    let restrictionRatio: Double
    /// The smallest number of test-half events with a determined chain worth testing.
    let minimumTestEvents: Int
    var searchLimit = 20_000
    /// Per dimension, the level below which a cell is negative for the marker (the rule's
    /// threshold as placed for the sample), or nil: a tail inside the negative mode is mirrored
    /// within that mode (``mirroredSpread(_:low:high:kappa:testWanted:testEvents:p0:alpha:)``); empty: none.
    var negativeBelow: [Float?] = []

    /// A box found and tested.
    struct Found {
        /// Indices into the searched members that lie in the box (both halves).
        var members: [Int]
        /// The test half's outcome (the test that decides).
        var test: ClonalityTest.Outcome
        /// The box: low and high bound per dimension (−∞/∞ when uncut).
        var low: [Float]
        var high: [Float]
    }

    /// One cluster's search half, thinned, and its events ordered on every dimension: what the
    /// searches of both chains and every round of r₀ share.
    struct Prepared {
        /// Every member's values (a view of the plasma-cell rows, not a copy).
        let values: MarkerRows
        var dimensions: Int { values.dimensions }
        let chains: [Int8]
        let searchHalf: [Bool]
        /// The search half's events with a determined chain (thinned to `searchLimit`).
        let search: [Int]
        /// Per dimension, `search` ordered by value (ties by index), as 32-bit member indices
        /// (a cluster's members are plasma-cell rows, far fewer than 2³²).
        let order: [[UInt32]]
        /// Per dimension, the values and chains of `order`'s events, in that order: what the
        /// greedy search reads on every step, laid out side by side.
        let orderedValues: [[Float]]
        let orderedChains: [[Int8]]
        /// Per dimension, whether the box may not be cut there (a chain's spillover spreads it, ``ChainSpread``); empty: none.
        var uncut: [Bool] = []
    }

    /// - Parameters:
    ///   - values: `dimensions` values per member, row-major.
    ///   - chains: per member, 1 κ, −1 λ, 0 undetermined.
    ///   - searchHalf: per member, whether it belongs to the search half.
    /// - Complexity: O(markers · n log n) for n events of the search half (at most `searchLimit`).
    func prepare(values: [Float], dimensions d: Int, chains: [Int8], searchHalf: [Bool]) -> Prepared {
        prepare(values: MarkerRows(values: values, dimensions: d), chains: chains, searchHalf: searchHalf)
    }

    /// The same, on members read in place.
    func prepare(values: MarkerRows, chains: [Int8], searchHalf: [Bool]) -> Prepared {
        prepare([(values, chains, searchHalf)], workers: 1)[0]
    }

    /// Several clusters prepared at once, each (cluster, marker) order on its own core: one large
    /// cluster, the usual case, keeps every core busy with its markers.
    /// - Complexity: O(markers · n log n) per cluster, over `workers` threads.
    func prepare(_ clusters: [(values: MarkerRows, chains: [Int8], searchHalf: [Bool])], workers: Int) -> [Prepared] {
        let searches = clusters.map { searchRows(chains: $0.chains, searchHalf: $0.searchHalf, count: $0.values.count) }
        // Task j → (cluster, marker), clusters one after the other.
        var tasks: [(cluster: Int, k: Int)] = []
        for (c, cluster) in clusters.enumerated() { for k in 0..<cluster.values.dimensions { tasks.append((c, k)) } }
        let taskList = tasks
        let columns = parallelMap(taskList.count, workers: workers) { j in
            let (c, k) = taskList[j]
            let cluster = clusters[c]
            let order = Self.ordered(searches[c], on: k, of: cluster.values).map { UInt32(truncatingIfNeeded: $0) }
            return (order: order, values: order.map { cluster.values[Int($0), k] }, chains: order.map { cluster.chains[Int($0)] })
        }
        var first = 0
        return clusters.enumerated().map { c, cluster in
            let mine = columns[first..<(first + cluster.values.dimensions)]
            first += cluster.values.dimensions
            return Prepared(values: cluster.values, chains: cluster.chains, searchHalf: cluster.searchHalf, search: searches[c],
                            order: mine.map(\.order), orderedValues: mine.map(\.values), orderedChains: mine.map(\.chains))
        }
    }

    /// The search half's events with a chain, every `step`-th of them when more than the limit:
    /// counted first, so that only the kept ones are ever listed.
    private func searchRows(chains: [Int8], searchHalf: [Bool], count n: Int) -> [Int] {
        precondition(chains.count == n && searchHalf.count == n && n <= Int(UInt32.max))
        return ThinnedRows.every(count: n, limit: searchLimit) { searchHalf[$0] && chains[$0] != 0 }
    }

    /// `rows` ordered by their value on dimension `k`, ties (−0 and +0 too) by row: each row's
    /// value and index packed into one integer key whose order is theirs, so the sort compares
    /// integers. With a NaN among the values the order of the comparison sort is kept as it was.
    /// - Complexity: O(n log n) for n rows.
    static func ordered(_ rows: [Int], on k: Int, of values: MarkerRows) -> [Int] {
        func comparisonSort() -> [Int] {
            rows.sorted { values[$0, k] != values[$1, k] ? values[$0, k] < values[$1, k] : $0 < $1 }
        }
        guard let largest = rows.max(), largest <= Int(UInt32.max) else { return comparisonSort() }
        var keys: [UInt64] = []
        keys.reserveCapacity(rows.count)
        for i in rows {
            let v = values[i, k]
            guard !v.isNaN else { return comparisonSort() }
            let bits = (v == 0 ? Float(0) : v).bitPattern
            // Negative values' bits count down as the value rises; flipped, every value's key orders as the value.
            let key = bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
            keys.append(UInt64(key) << 32 | UInt64(i))
        }
        // Rows in increasing order (the search rows are) already order the keys' low halves: a
        // stable radix sort on the high halves then gives the sorted keys.
        if keys.count >= 256 && zip(rows, rows.dropFirst()).allSatisfy({ $0 < $1 }) { sortOnHighHalves(&keys) } else { keys.sort() }
        return keys.map { Int($0 & 0xFFFF_FFFF) }
    }

    /// Keys whose low 32 bits already increase, sorted: a stable least-significant-digit radix
    /// sort of their high 32 bits (digits of 11, 11 and 10 bits; a digit all keys share is skipped).
    /// - Complexity: O(n), one buffer of n keys.
    static func sortOnHighHalves(_ keys: inout [UInt64]) {
        let n = keys.count
        var buffer = [UInt64](repeating: 0, count: n)
        var counts = [Int](repeating: 0, count: 2048)
        for shift: UInt64 in [32, 43, 54] {
            let scattered = keys.withUnsafeBufferPointer { from in
                buffer.withUnsafeMutableBufferPointer { to in
                    counts.withUnsafeMutableBufferPointer { c -> Bool in
                        for b in 0..<2048 { c[b] = 0 }
                        for key in from { c[Int(truncatingIfNeeded: (key >> shift) & 0x7FF)] += 1 }
                        guard c[Int(truncatingIfNeeded: (from[0] >> shift) & 0x7FF)] < n else { return false }
                        var position = 0
                        for b in 0..<2048 { (c[b], position) = (position, position + c[b]) }
                        for key in from {
                            let b = Int(truncatingIfNeeded: (key >> shift) & 0x7FF)
                            to[c[b]] = key
                            c[b] += 1
                        }
                        return true
                    }
                }
            }
            if scattered { swap(&keys, &buffer) }
        }
    }

    /// Searches one cluster.
    /// - Parameters: `kappa`: the chain searched for (true κ, false λ).
    func search(values: [Float], dimensions d: Int, chains: [Int8], searchHalf: [Bool], kappa: Bool,
                referenceRatio r0: Double, alpha: Double) -> Found? {
        search(prepare(values: values, dimensions: d, chains: chains, searchHalf: searchHalf), kappa: kappa, referenceRatio: r0, alpha: alpha)
    }

    /// Searches one prepared cluster.
    /// - Complexity: O(steps · markers · n) for n events of the search half, steps ≤ 2 · markers;
    ///   O(N · markers) for the test over all N members.
    func search(_ prepared: Prepared, kappa: Bool, referenceRatio r0: Double, alpha: Double) -> Found? {
        let values = prepared.values, d = prepared.dimensions, chains = prepared.chains, searchHalf = prepared.searchHalf
        let n = chains.count
        var prepared = prepared
        // A box whose tail on some dimension its mirror explains as spreading (``mirroredSpread(_:low:high:kappa:testWanted:testEvents:p0:alpha:)``)
        // is searched again with that dimension uncut.
        for _ in 0...d {
            guard let (low, high) = box(prepared, kappa: kappa, referenceRatio: r0) else { return nil }
            func inside(_ i: Int) -> Bool { values.row(i, isInside: low, high) }
            // The test half inside the box decides (only its events with a chain are looked at); the
            // members are listed only for a box that is kept (most boxes are not, and a large
            // cluster's list would be megabytes for nothing).
            var testKappa = 0, testLambda = 0
            for i in 0..<n where !searchHalf[i] && chains[i] != 0 && inside(i) {
                if chains[i] == 1 { testKappa += 1 } else { testLambda += 1 }
            }
            guard testKappa + testLambda >= minimumTestEvents else { return nil }
            let outcome = ClonalityTest(alpha: alpha, restrictionRatio: restrictionRatio)
                .test(kappa: testKappa, lambda: testLambda, referenceRatio: r0, alpha: alpha)
            guard outcome.restricted, (outcome.direction == "kappa") == kappa else { return nil }
            if let spread = mirroredSpread(prepared, low: low, high: high, kappa: kappa, testWanted: kappa ? testKappa : testLambda,
                                           testEvents: testKappa + testLambda, p0: kappa ? r0 / (1 + r0) : 1 / (1 + r0), alpha: alpha) {
                if prepared.uncut.isEmpty { prepared.uncut = [Bool](repeating: false, count: d) }
                prepared.uncut[spread] = true
                continue
            }
            var members: [Int] = []
            for i in 0..<n where inside(i) { members.append(i) }
            return Found(members: members, test: outcome, low: low, high: high)
        }
        return nil
    }

    /// The greedy box of the prepared search half (step 1 above), untested; nil when no cut pays.
    /// - Complexity: O(steps · markers · n) for n events of the search half, steps ≤ 2 · markers.
    func box(_ prepared: Prepared, kappa: Bool, referenceRatio r0: Double) -> (low: [Float], high: [Float])? {
        let d = prepared.dimensions, chains = prepared.chains
        let n = chains.count
        guard n > 0, d > 0, r0 > 0, r0.isFinite else { return nil }
        let p0 = kappa ? r0 / (1 + r0) : 1 / (1 + r0)
        let want: Int8 = kappa ? 1 : -1
        var low = [Float](repeating: -.infinity, count: d), high = [Float](repeating: .infinity, count: d)
        var inside = [Bool](repeating: false, count: n)
        for i in prepared.search { inside[i] = true }
        var s = 0, f = 0
        for i in prepared.search { if chains[i] == want { s += 1 } else { f += 1 } }
        var g = Self.statistic(s, f, p0)
        let minimumKept = max(1, minimumTestEvents / 2)
        let minimumGain = 2.0
        // Per dimension, the box's events in order on it (``BoxColumn``): the prepared orders,
        // then after each cut only the events still inside — the same sequences as filtering the
        // whole order on every step, read without a test per event.
        var columns = (0..<d).map { BoxColumn(order: prepared.order[$0], values: prepared.orderedValues[$0], chains: prepared.orderedChains[$0], want: want) }
        for _ in 0..<(2 * d) {
            var best: (gain: Double, dim: Int, bound: Float, upper: Bool)? = nil
            for k in 0..<d where prepared.uncut.isEmpty || !prepared.uncut[k] {
                let m = columns[k].values.count
                guard m > 1 else { continue }
                columns[k].values.withUnsafeBufferPointer { sorted in
                    columns[k].wanted.withUnsafeBufferPointer { wanted in
                        for q in 1..<32 {
                            let j = m * q / 32
                            guard j > 0, j < m, sorted[j - 1] < sorted[j] else { continue }
                            // Keep the upper part (cut the low end at sorted[j]) or the lower part;
                            // wanted[j]: events of the wanted chain below j (all m of them: s).
                            let upperS = s - Int(wanted[j]), upperF = (m - j) - upperS
                            let lowerS = Int(wanted[j]), lowerF = j - lowerS
                            if upperS >= minimumKept {
                                let gain = Self.statistic(upperS, upperF, p0) - g
                                if gain > (best?.gain ?? minimumGain) { best = (gain, k, sorted[j], false) }
                            }
                            if lowerS >= minimumKept {
                                let gain = Self.statistic(lowerS, lowerF, p0) - g
                                if gain > (best?.gain ?? minimumGain) { best = (gain, k, sorted[j - 1], true) }
                            }
                        }
                    }
                }
            }
            guard let cut = best else { break }
            if cut.upper { high[cut.dim] = min(high[cut.dim], cut.bound) } else { low[cut.dim] = max(low[cut.dim], cut.bound) }
            // The events the cut leaves out, found in the cut dimension's order (its values are
            // the rows' own); then every dimension's order keeps the events still inside.
            s = 0
            f = 0
            let (lo, hi) = (low[cut.dim], high[cut.dim]), column = columns[cut.dim]
            for j in column.values.indices {
                let v = column.values[j]
                if v >= lo && v <= hi {
                    if column.chains[j] == want { s += 1 } else { f += 1 }
                } else {
                    inside[Int(column.order[j])] = false
                }
            }
            g = Self.statistic(s, f, p0)
            inside.withUnsafeBufferPointer { inside in
                for k in 0..<d { columns[k].keep(inside: inside, want: want) }
            }
        }
        guard low.contains(where: { $0 > -.infinity }) || high.contains(where: { $0 < .infinity }) else { return nil }
        return (low, high)
    }

    /// Widens a found box so that the count takes in the clone's tails: the box that decides is
    /// drawn where the clone dominates, so it cuts off clone events where normal cells of both
    /// chains dilute them. Over the `eligible` events (both halves), each step moves the one
    /// bound (to one of 16 quantiles of the events just beyond it, to n/32, n/64, … of them (``steps(_:)``), or to ±∞) whose added slab
    /// has the largest clonal excess e = s − f·r beyond twice its SD √(s + r²f + (r·f)²·v)
    /// (r: the polyclonal ratio in the searched chain's direction; v: `ratioVariance`, the
    /// variance of log r₀, so that a slab of normal cells whose κ:λ differs a little from r₀ is
    /// not taken for the clone's tail); it stops when no slab has. With `groups` (each event's
    /// density cluster, −1 for noise) a slab must also stand out against the ratio of its own
    /// events' groups outside the box (e = s − Σ f·r_g beyond 2·√(s + Σ f·r_g²)): normal
    /// clusters do not share one κ:λ, and a slab of a cluster whose ratio sits off r₀ is that
    /// cluster, not the clone's tail. Widening changes the count only, never the decision.
    ///
    /// - Complexity: O(steps · n · markers) for n eligible events, steps ≤ 4 · markers.
    func widen(low: [Float], high: [Float], values: [Float], dimensions d: Int, chains: [Int8], eligible: [Bool],
               kappa: Bool, referenceRatio r0: Double, ratioVariance: Double = 0) -> (low: [Float], high: [Float]) {
        widen(low: low, high: high, values: MarkerRows(values: values, dimensions: d), chains: chains, eligible: eligible, kappa: kappa,
              referenceRatio: r0, ratioVariance: ratioVariance)
    }

    /// The same, on events read in place.
    func widen(low: [Float], high: [Float], values: MarkerRows, chains: [Int8], eligible: [Bool],
               kappa: Bool, referenceRatio r0: Double, ratioVariance: Double = 0, groups: [Int32]? = nil) -> (low: [Float], high: [Float]) {
        var low = low, high = high
        let d = values.dimensions
        precondition(values.count == chains.count && (groups?.count ?? chains.count) == chains.count)
        let n = chains.count
        let r = kappa ? r0 : 1 / r0
        let want: Int8 = kappa ? 1 : -1
        let groupCount = Int(groups?.max() ?? -1) + 1
        for _ in 0..<(4 * d) {
            // Events outside the box on exactly one side of one dimension: the candidate slabs;
            // and each group's events outside the box, of either chain.
            var slabs = [[(Float, Int8, Int32)]](repeating: [], count: 2 * d)
            var wanted = [Int](repeating: 0, count: groupCount), other = [Int](repeating: 0, count: groupCount)
            for i in 0..<n where eligible[i] && chains[i] != 0 {
                var outside = -1, count = 0
                for k in 0..<d {
                    let v = values[i, k]
                    if v < low[k] { outside = 2 * k; count += 1 } else if v > high[k] { outside = 2 * k + 1; count += 1 } else if !v.isFinite { count = 2 }
                    if count > 1 { break }
                }
                let group = groups?[i] ?? -1
                if count >= 1 && group >= 0 { if chains[i] == want { wanted[Int(group)] += 1 } else { other[Int(group)] += 1 } }
                if count == 1 { slabs[outside].append((values[i, outside / 2], chains[i], group)) }
            }
            // Each group's own ratio outside the box, in the searched chain's direction (r₀'s for noise or a group without both chains).
            let local = (0..<groupCount).map { g in wanted[g] > 0 && other[g] > 0 ? Double(wanted[g]) / Double(other[g]) : r }
            var best: (score: Double, slab: Int, bound: Float)? = nil
            for slab in 0..<(2 * d) where !slabs[slab].isEmpty {
                let upward = slab % 2 == 1
                // Nearest the bound first.
                let events = slabs[slab].sorted { upward ? $0.0 < $1.0 : $0.0 > $1.0 }
                var s = 0, f = 0, position = 0
                var localShare = 0.0, localVariance = 0.0
                for end in Self.steps(events.count) {
                    guard end > position else { continue }
                    while position < end {
                        if events[position].1 == want {
                            s += 1
                        } else {
                            f += 1
                            let g = events[position].2, rl = g >= 0 ? local[Int(g)] : r
                            localShare += rl
                            localVariance += rl * rl
                        }
                        position += 1
                    }
                    // Do not split equal values.
                    if position < events.count, events[position].0 == events[position - 1].0 { continue }
                    // The slab's Poisson variance plus its subtracted share's, from r₀'s own uncertainty.
                    let share = Double(f) * r
                    let excess = Double(s) - share, sd = (Double(s) + r * share + share * share * ratioVariance).squareRoot()
                    let score = excess - 2 * sd
                    // With groups, the slab must also stand out against its own groups' ratios
                    // outside the box: a region whose normal κ:λ differs from r₀ is not a tail.
                    if groups != nil && Double(s) - localShare <= 2 * (Double(s) + localVariance).squareRoot() { continue }
                    // A slab short of the first sixteenth is there for a clone's thin tail, which is
                    // nearly pure: it must itself reach the restriction odds, lest one of its many
                    // looks pass 2 SD by chance among normal cells.
                    if position < events.count / 16 && Double(s) < restrictionRatio * share { continue }
                    if score > (best?.score ?? 0) {
                        best = (score, slab, position == events.count ? (upward ? .infinity : -.infinity) : events[position - 1].0)
                    }
                }
            }
            guard let move = best else { break }
            if move.slab % 2 == 1 { high[move.slab / 2] = move.bound } else { low[move.slab / 2] = move.bound }
        }
        return (low, high)
    }

    /// Where a slab of `n` events (sorted nearest the bound first) may end: at its 16 quantiles,
    /// and nearer the bound at n/32, n/64, … down to a few events, so that a clone's thin tail
    /// beside a large normal population is not swallowed by the first sixteenth. Such a nearer
    /// slab is taken only when its own odds against r reach `restrictionRatio`.
    /// - Complexity: O(log n).
    static func steps(_ n: Int) -> [Int] {
        var ends: [Int] = []
        var piece = n / 32
        while piece >= 8 { ends.append(piece); piece /= 2 }
        ends.reverse()
        for q in 1...16 { ends.append(n * q / 16) }
        return ends
    }

    /// The likelihood-ratio statistic of s successes and f failures against success share p₀,
    /// one-sided (0 unless the observed share exceeds p₀).
    static func statistic(_ s: Int, _ f: Int, _ p0: Double) -> Double {
        let n = Double(s + f)
        guard n > 0 else { return 0 }
        let p = Double(s) / n
        guard p > p0 else { return 0 }
        var g = Double(s) * log(p / p0)
        if f > 0 { g += Double(f) * log((1 - p) / (1 - p0)) }
        return 2 * g
    }
}
