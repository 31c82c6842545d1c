import Foundation

/// A second look for a clone when no density cluster and no box was restricted: the plasma cells
/// that break one, or two together, of the sample's aberrancy rules, tested for light-chain
/// restriction as a population of their own — a reviewer's "gate the CD56+ CD38-dim plasma cells
/// and look at κ:λ".
///
/// Why it is needed: the density clustering links a small clone to the normal plasma cells beside
/// it through their tails (single linkage), and the box search's first cut keeps at least 1/32
/// of a cluster's search half, where twenty clone events do not stand out. In an independent
/// marrow of 5 million events (seed 1118) a clone of 45 CD38-dim CD56+ CD19− CD45− κ events lay
/// inside a cluster of 12,624; the plasma cells breaking the CD38 and CD56 rules were κ 34 : λ 1,
/// 33 of them the clone's.
///
/// Why the test holds without a split: the rules' thresholds are placed from lymphocytes and the
/// CD19+ CD56− plasma cells (valleys and quantiles), never from the light chains, so a signature
/// chooses its cells without looking at their chains, and under polyclonality their κ and λ are
/// binomial at p₀. Each signature is tested in the direction of its excess, and `alpha` is
/// divided by twice the number of signatures (Bonferroni, as the box search counts two tests per
/// cluster). The search runs only when nothing else was restricted, so a normal sample's chance
/// of a false restriction is at most the clusters' and boxes' α plus the signatures' α.
///
/// Spillover spreading makes a rule's tail one chain's for no clonal reason (λ-PE widening
/// CD117): a dimension ``ChainSpread`` found spread in any searched cluster takes no part, and a
/// signature whose tail on one of its markers the other end of that marker explains
/// (``RestrictedSubsetSearch/mirroredSpread(values:chains:rows:low:high:kappa:testWanted:testEvents:p0:alpha:)``)
/// is not taken.
///
/// - Complexity: O(rows · rules) for the rules each row breaks, O(signatures · distinct
///   patterns) for the counts, O(rows · dimensions) per mirror of a signature that passes.
struct AberrancySignatureSearch {
    /// The signature group taken: its rows (cells without a determined chain included, counting
    /// for neither), its rules and the test that decided.
    struct Found {
        let rows: [Int]
        let signature: [AberrancySlice.Rule]
        let outcome: ClonalityTest.Outcome
        /// The signatures tested, each in the direction of its excess, and the level each was held to.
        let signatures: Int
        let alpha: Double
    }

    /// The most significant restricted signature group among the plasma cells (the rows of
    /// `values`) that spreading does not explain, or nil.
    /// - Parameters:
    ///   - rules: the aberrancy rules as placed for the sample, on `values`' dimensions.
    ///   - spread: dimensions that take no part (a chain's spillover spreads them).
    ///   - alpha: the family's level, divided here among the signatures.
    static func search(rules placed: [AberrancySlice.Rule], values: MarkerRows, chains: [Int8], spread: Set<Int>,
                       test: ClonalityTest, referenceRatio r0: Double, alpha: Double, mirror: RestrictedSubsetSearch) -> Found? {
        let rules = Array(placed.filter { !spread.contains($0.dimension) }.prefix(64))
        guard !rules.isEmpty, r0 > 0, r0.isFinite else { return nil }
        var signatures: [UInt64] = rules.indices.map { UInt64(1) << UInt64($0) }
        for a in rules.indices { for b in (a + 1)..<rules.count { signatures.append(UInt64(1) << UInt64(a) | UInt64(1) << UInt64(b)) } }
        let level = alpha / Double(2 * signatures.count)
        // Each row's broken rules, and the chains' counts per pattern of broken rules.
        let candidates = Array(0..<values.count)
        var patterns = [UInt64](repeating: 0, count: candidates.count)
        var counts: [UInt64: (kappa: Int, lambda: Int)] = [:]
        for row in candidates {
            var mask: UInt64 = 0
            for (r, rule) in rules.enumerated() where rule.isBroken(by: values[row, rule.dimension]) { mask |= UInt64(1) << UInt64(r) }
            patterns[row] = mask
            guard mask != 0, chains[row] != 0 else { continue }
            counts[mask, default: (0, 0)].kappa += chains[row] == 1 ? 1 : 0
            counts[mask, default: (0, 0)].lambda += chains[row] == -1 ? 1 : 0
        }
        // Every restricted signature, most significant first (ties in signature order).
        var restricted: [(signature: Int, outcome: ClonalityTest.Outcome)] = []
        for (i, signature) in signatures.enumerated() {
            var k = 0, l = 0
            for (mask, c) in counts where mask & signature == signature { k += c.kappa; l += c.lambda }
            let outcome = test.test(kappa: k, lambda: l, referenceRatio: r0, alpha: level)
            if outcome.restricted { restricted.append((i, outcome)) }
        }
        restricted.sort { $0.outcome.pValue != $1.outcome.pValue ? $0.outcome.pValue < $1.outcome.pValue : $0.signature < $1.signature }
        let d = values.dimensions
        for (i, outcome) in restricted {
            let signature = signatures[i]
            let chosen = rules.indices.filter { signature & (UInt64(1) << UInt64($0)) != 0 }.map { rules[$0] }
            var low = [Float](repeating: -.infinity, count: d), high = [Float](repeating: .infinity, count: d)
            for rule in chosen { if rule.above { low[rule.dimension] = rule.threshold } else { high[rule.dimension] = rule.threshold } }
            let kappa = outcome.direction == "kappa"
            if mirror.mirroredSpread(values: values, chains: chains, rows: candidates, low: low, high: high, kappa: kappa,
                                     testWanted: kappa ? outcome.kappa : outcome.lambda, testEvents: outcome.kappa + outcome.lambda,
                                     p0: kappa ? r0 / (1 + r0) : 1 / (1 + r0), alpha: level) != nil { continue }
            let rows = candidates.filter { patterns[$0] & signature == signature }
            return Found(rows: rows, signature: chosen, outcome: outcome, signatures: signatures.count, alpha: level)
        }
        return nil
    }

    /// The warning that describes a group taken.
    /// - Complexity: O(signature).
    static func note(_ found: Found, names: [String]) -> String {
        let phenotype = found.signature.map { names[$0.dimension] + ($0.above ? "+" : "−") }.joined(separator: " ")
        let chain = found.outcome.direction == "kappa" ? "κ" : "λ"
        return "no plasma-cell cluster or subset was light-chain restricted; the \(found.rows.count) plasma cells that break the "
            + "\(phenotype) rules (as placed for this sample) were: κ \(found.outcome.kappa), λ \(found.outcome.lambda), restricted to \(chain) "
            + String(format: "(exact binomial p = %.2g against α = %.2g, over %d signatures of one or two rules, each in both directions)",
                     found.outcome.pValue, found.alpha, found.signatures)
            + ", so they are judged as a cluster of their own; its count is their excess, and a clone's cells that break none of these rules are not in it"
    }
}

extension PlasmaCellClustering {
    /// The aberrancy rules as placed for the sample, on the search dimensions (`names`): a rule
    /// switched off, or on a marker left out of the phenotype, takes no part.
    /// - Complexity: O(rules · markers).
    var placedRules: (names: [String], rules: [AberrancySlice.Rule]) {
        let names = rules.phenotypeMarkers.filter { !ignoredMarkers.contains($0) }
        let placed = rules.rules.compactMap { rule -> AberrancySlice.Rule? in
            guard let k = names.firstIndex(of: rule.marker), let t = negativeModes[rule.marker] else { return nil }
            return AberrancySlice.Rule(dimension: k, above: rule.aberrant == .above, threshold: t)
        }
        return (names, placed)
    }
}
