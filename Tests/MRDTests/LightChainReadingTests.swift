import Testing
@testable import MRD

@Suite("Light-chain reading")
struct LightChainReadingTests {
    /// Rows of (κ, λ, CD38): `kappa` κ plasma cells (κ 0.75…0.85, λ 0.20…0.35), `lambda` λ
    /// plasma cells (the mirror), and `negative` cells without immunoglobulin whose κ reads
    /// 0.15 above their λ by spillover (κ 0.30, λ 0.15).
    static func table(kappa: Int = 600, lambda: Int = 400, negative: Int = 100) -> [Float] {
        var rows: [Float] = []
        for i in 0..<kappa { rows += [0.75 + 0.1 * Float(i) / Float(kappa), 0.20 + 0.15 * Float(i) / Float(kappa), 0.9] }
        for i in 0..<lambda { rows += [0.20 + 0.15 * Float(i) / Float(lambda), 0.75 + 0.1 * Float(i) / Float(lambda), 0.9] }
        for _ in 0..<negative { rows += [0.30, 0.15, 0.85] }
        return rows
    }

    @Test("cells without immunoglobulin read no chain below the valley between the chains' two modes; plasma cells keep theirs")
    func islandWithoutImmunoglobulin() throws {
        let rows = Self.table()
        let reading = LightChainReading(rows: rows, stored: 3, kappa: 0, lambda: 1, margin: 0.1)
        // The same valley placed directly: the pooled chains, searched between the lower chains'
        // median and the higher chains' median; an empty gap 0.35…0.75, whose middle it takes.
        let lower = stride(from: 0, to: rows.count, by: 3).map { Double(min(rows[$0], rows[$0 + 1])) }
        let higher = stride(from: 0, to: rows.count, by: 3).map { Double(max(rows[$0], rows[$0 + 1])) }
        let from = try #require(ThresholdFinder.quantile(lower, 0.5)), to = try #require(ThresholdFinder.quantile(higher, 0.5))
        guard case .found(let valley) = ThresholdFinder.valley(lower + higher, search: from...to, smoothing: 0.02, minEvents: 200) else {
            Issue.record("no valley")
            return
        }
        #expect(reading.level == Float(valley) && reading.level > 0.45 && reading.level < 0.65, "\(reading.level)")
        #expect(reading.unplaced == nil && reading.note == nil && reading.reported == round6(Double(reading.level)))
        let chains = reading.chains(rows: rows, stored: 3, kappa: 0, lambda: 1)
        #expect(chains[0..<600].allSatisfy { $0 == 1 } && chains[600..<1_000].allSatisfy { $0 == -1 })
        #expect(chains[1_000...].allSatisfy { $0 == 0 })
        // The margin alone reads the island as κ: 700 κ events, the island 100 of them.
        let marginOnly = LightChainReading(margin: 0.1, level: -.infinity).chains(rows: rows, stored: 3, kappa: 0, lambda: 1)
        #expect(marginOnly.filter { $0 == 1 }.count == 700 && !marginOnly.contains(0))
    }

    @Test("with fewer than 100 plasma cells the level is switched off and said so: chains are read by the margin alone")
    func tooFewPlasmaCells() {
        let rows = Self.table(kappa: 50, lambda: 30, negative: 10)
        let reading = LightChainReading(rows: rows, stored: 3, kappa: 0, lambda: 1, margin: 0.1)
        #expect(reading.level == -.infinity && reading.reported == nil)
        #expect(reading.unplaced == "only 180 events (at least 200 needed)", "\(String(describing: reading.unplaced))")
        #expect(reading.note?.contains("read by light_chains.margin alone") == true)
        let chains = reading.chains(rows: rows, stored: 3, kappa: 0, lambda: 1)
        #expect(chains.filter { $0 == 1 }.count == 60 && chains.filter { $0 == -1 }.count == 30)
    }

    @Test("above the level the chains must still stand the margin apart; no rows, no level and no note")
    func marginStillApplies() {
        let reading = LightChainReading(margin: 0.1, level: 0.4)
        #expect(reading.chain(kappa: 0.8, lambda: 0.75) == 0)
        #expect(reading.chain(kappa: 0.8, lambda: 0.69) == 1)
        #expect(reading.chain(kappa: 0.55, lambda: 0.9) == -1)
        #expect(reading.chain(kappa: 0.39, lambda: 0.0) == 0)
        let empty = LightChainReading(rows: [], stored: 3, kappa: 0, lambda: 1, margin: 0.1)
        #expect(empty.level == -.infinity && empty.unplaced == nil && empty.note == nil)
        #expect(empty.chains(rows: [], stored: 3, kappa: 0, lambda: 1).isEmpty)
    }

    @Test("beyond 200,000 plasma cells the level is placed on every k-th row: here every 2nd, so the odd rows' cells at 0.50, which would pull it below them, do not")
    func placedOnASubsample() throws {
        // 260,000 rows: even rows κ plasma cells, odd rows cells at κ 0.50, λ 0.20.
        var rows: [Float] = []
        for i in 0..<130_000 {
            rows += [0.75 + 0.1 * Float(i) / 130_000, 0.20 + 0.15 * Float(i) / 130_000, 0.9]
            rows += [0.50, 0.20, 0.9]
        }
        let reading = LightChainReading(rows: rows, stored: 3, kappa: 0, lambda: 1, margin: 0.1)
        let even = stride(from: 0, to: rows.count, by: 6).flatMap { rows[$0..<($0 + 3)] }
        let subsample = LightChainReading(rows: Array(even), stored: 3, kappa: 0, lambda: 1, margin: 0.1)
        #expect(reading.level == subsample.level && reading.level > 0.50, "\(reading.level), \(subsample.level)")
        // Placed on every row, the level would fall below the odd rows, which would then read κ.
        let all = stride(from: 0, to: rows.count, by: 3).flatMap { [Double](arrayLiteral: Double(min(rows[$0], rows[$0 + 1])), Double(max(rows[$0], rows[$0 + 1]))) }
        let lower = stride(from: 0, to: all.count, by: 2).map { all[$0] }, higher = stride(from: 1, to: all.count, by: 2).map { all[$0] }
        let from = try #require(ThresholdFinder.quantile(lower, 0.5)), to = try #require(ThresholdFinder.quantile(higher, 0.5))
        if case .found(let full) = ThresholdFinder.valley(lower + higher, search: from...to, smoothing: 0.02, minEvents: 200) {
            #expect(full < 0.50, "\(full)")
        }
        let chains = reading.chains(rows: rows, stored: 3, kappa: 0, lambda: 1)
        #expect(chains.count == 260_000 && chains.filter { $0 == 1 }.count == 130_000 && chains.filter { $0 == 0 }.count == 130_000)
    }
}
