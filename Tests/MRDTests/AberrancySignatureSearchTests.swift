import Foundation
import Testing
import TestSupport
@testable import MRD

/// The rule breakers tested as a population when nothing else was restricted
/// (``AberrancySignatureSearch``): exact counts and levels on tables the test lays out.
@Suite("The aberrancy-signature search")
struct AberrancySignatureSearchTests {
    /// Three markers; rules: A below 0.3, B above 0.6, C above 0.6.
    static let rules = [AberrancySlice.Rule(dimension: 0, above: false, threshold: 0.3),
                        AberrancySlice.Rule(dimension: 1, above: true, threshold: 0.6),
                        AberrancySlice.Rule(dimension: 2, above: true, threshold: 0.6)]
    static let test = ClonalityTest(alpha: 0.001, restrictionRatio: 4)
    static let mirror = RestrictedSubsetSearch(restrictionRatio: 4, minimumTestEvents: 15)

    /// 4,000 κ / 2,000 λ normal cells of the usual phenotype and 600 κ / 300 λ normal cells below
    /// A's rule (a polyclonal "CD19−" subset), their B and C levels spread over 0.2–0.55 with the
    /// chains interleaved κ κ λ (r₀ 2 in every stretch); then `clone` κ cells at (0.1, 0.8, 0.5).
    static func table(clone: Int, lambdaSpreadOnC: Int = 0) -> (values: MarkerRows, chains: [Int8]) {
        var values: [Float] = [], chains: [Int8] = []
        func normal(_ count: Int, a: Float) {
            for i in 0..<count {
                let level = 0.2 + 0.35 * Float(i) / Float(count)
                values += [a, level, level]
                chains.append(i % 3 == 2 ? -1 : 1)
            }
        }
        normal(6_000, a: 0.5)
        normal(900, a: 0.1)
        for _ in 0..<clone { values += [0.1, 0.8, 0.5]; chains.append(1) }
        // λ cells whose C is spread to both ends (λ-PE spilling into C's detector): half above
        // C's rule, half as far below the normal cells.
        for i in 0..<lambdaSpreadOnC { values += [0.5, 0.4, i % 2 == 0 ? 0.7 : 0.05]; chains.append(-1) }
        return (MarkerRows(values: values, dimensions: 3), chains)
    }

    static func search(_ t: (values: MarkerRows, chains: [Int8]), spread: Set<Int> = []) -> AberrancySignatureSearch.Found? {
        AberrancySignatureSearch.search(rules: rules, values: t.values, chains: t.chains,
                                        spread: spread, test: test, referenceRatio: 2, alpha: 0.001, mirror: mirror)
    }

    @Test("30 κ cells above B's rule among polyclonal normal cells: taken, with exactly their rows; the level is α over twice the six signatures")
    func restrictedGroupTaken() throws {
        let found = try #require(Self.search(Self.table(clone: 30)))
        // {B} and {A, B} hold the same 30 κ : 0 λ (p = (2/3)³⁰ = 5.2·10⁻⁶); the single rule comes first.
        #expect(found.signature == [Self.rules[1]])
        #expect(found.rows == Array(6_900..<6_930))
        #expect(found.outcome.kappa == 30 && found.outcome.lambda == 0 && found.outcome.direction == "kappa" && found.outcome.restricted)
        #expect(abs(found.outcome.pValue - pow(2.0 / 3.0, 30)) < 1e-12)
        #expect(found.signatures == 6 && abs(found.alpha - 0.001 / 12) < 1e-15)
        #expect(found.outcome.excess == 30)
        let note = AberrancySignatureSearch.note(found, names: ["A", "B", "C"])
        #expect(note.contains("the 30 plasma cells that break the B+ rules") && note.contains("κ 30, λ 0") && note.contains("over 6 signatures"), "\(note)")
    }

    @Test("no restriction among polyclonal rule breakers; a group below the divided level is not taken (20 κ: p = 3.0·10⁻⁴, below α but above α/12)")
    func nothingTaken() {
        #expect(Self.search(Self.table(clone: 0)) == nil)
        #expect(Self.search(Self.table(clone: 20)) == nil)
    }

    @Test("a marker a chain's spillover spreads takes no part: the clone's only rule off, nothing is taken")
    func spreadDimensionLeftOut() {
        #expect(Self.search(Self.table(clone: 30), spread: [1]) == nil)
        // Another dimension spread leaves the clone's rule in (three signatures: A, B, A and B).
        #expect(Self.search(Self.table(clone: 30), spread: [2])?.signatures == 3)
    }

    @Test("a λ tail that spreading explains (its mirror at the marker's other end is as λ-rich) is not taken; a clone beside it still is")
    func spreadTailRejectedByItsMirror() throws {
        // 200 spread λ cells: 100 above C's rule (100 λ : 0 κ there, p = (1/3)¹⁰⁰), 100 at the low end.
        #expect(Self.search(Self.table(clone: 0, lambdaSpreadOnC: 200)) == nil)
        let found = try #require(Self.search(Self.table(clone: 30, lambdaSpreadOnC: 200)))
        #expect(found.signature == [Self.rules[1]] && found.outcome.kappa == 30)
    }
}
