import Testing
@testable import MRD

@Suite("Light-chain reading")
struct LightChainReadingTests {
    /// Rows of (κ, λ, CD38): 600 κ plasma cells, 400 λ plasma cells and 100 cells without
    /// immunoglobulin whose κ reads 0.15 above their λ by spillover.
    static func table() -> [Float] {
        var rows: [Float] = []
        for i in 0..<600 { rows += [0.80, 0.25 + 0.1 * Float(i) / 600, 0.9] }   // lower chain 0.25…0.35
        for i in 0..<400 { rows += [0.25 + 0.1 * Float(i) / 400, 0.78, 0.9] }
        for _ in 0..<100 { rows += [0.30, 0.15, 0.85] }
        return rows
    }

    @Test("cells without a chain above the plasma cells' unexpressed level read undetermined; plasma cells keep theirs")
    func islandWithoutImmunoglobulin() {
        let rows = Self.table()
        let reading = LightChainReading(rows: rows, stored: 3, kappa: 0, lambda: 1, margin: 0.1, quantile: 0.99)
        // The level is the 0.99 quantile of the 1,100 lower chains (sorted, R type 7).
        let lower = stride(from: 0, to: rows.count, by: 3).map { Double(min(rows[$0], rows[$0 + 1])) }.sorted()
        let h = 0.99 * Double(lower.count - 1), i = Int(h)
        let expected = lower[i] + (h - Double(i)) * (lower[i + 1] - lower[i])
        #expect(abs(Double(reading.level) - expected) < 1e-6 && reading.level > 0.34 && reading.level < 0.35, "\(reading.level)")
        let chains = reading.chains(rows: rows, stored: 3, kappa: 0, lambda: 1)
        #expect(chains[0..<600].allSatisfy { $0 == 1 } && chains[600..<1_000].allSatisfy { $0 == -1 })
        #expect(chains[1_000...].allSatisfy { $0 == 0 })
        // The margin alone reads the island as κ: 700 κ events, the island 100 of them.
        let marginOnly = LightChainReading(margin: 0.1, level: -.infinity).chains(rows: rows, stored: 3, kappa: 0, lambda: 1)
        #expect(marginOnly.filter { $0 == 1 }.count == 700 && marginOnly.filter { $0 == 0 }.isEmpty)
    }

    @Test("above the level the chains must still stand the margin apart; no rows leave the level at −∞")
    func marginStillApplies() {
        let reading = LightChainReading(margin: 0.1, level: 0.4)
        #expect(reading.chain(kappa: 0.8, lambda: 0.75) == 0)
        #expect(reading.chain(kappa: 0.8, lambda: 0.69) == 1)
        #expect(reading.chain(kappa: 0.55, lambda: 0.9) == -1)
        #expect(reading.chain(kappa: 0.39, lambda: 0.0) == 0)
        let empty = LightChainReading(rows: [], stored: 3, kappa: 0, lambda: 1, margin: 0.1, quantile: 0.99)
        #expect(empty.level == -.infinity)
        #expect(empty.chains(rows: [], stored: 3, kappa: 0, lambda: 1).isEmpty)
    }
}
