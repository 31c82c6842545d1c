import Foundation
import Testing
import TestSupport
@testable import MRD
@testable import Synthetic

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

    /// The valley placed directly: the pooled chains of `rows` (κ, λ, …; 3 values a row),
    /// searched between the lower chains' median and the higher chains' median.
    static func directValley(_ rows: [Float]) -> Double? {
        let lower = stride(from: 0, to: rows.count, by: 3).map { Double(min(rows[$0], rows[$0 + 1])) }
        let higher = stride(from: 0, to: rows.count, by: 3).map { Double(max(rows[$0], rows[$0 + 1])) }
        guard let from = ThresholdFinder.quantile(lower, 0.5), let to = ThresholdFinder.quantile(higher, 0.5),
              case .found(let valley) = ThresholdFinder.valley(lower + higher, search: from...to, smoothing: 0.02, minEvents: 200) else { return nil }
        return valley
    }

    /// 600 κ and 400 λ plasma cells (unexpressed chain 0…0.30); 20 cells bridging 0.30…0.38 and 200
    /// cells at κ 0.38…0.50, nothing between 0.50 and 0.75. Their λ: 0.05 and 0.10 (a dim κ
    /// population), or with `bothChains` just below their κ (0.27…0.35 and 0.35…0.47).
    static func dimTable(bothChains: Bool) -> [Float] {
        func ramp(_ i: Int, _ n: Int) -> Float { Float(i) / Float(n) }
        var rows: [Float] = []
        for i in 0..<600 { rows += [0.75 + 0.1 * ramp(i, 600), 0.30 * ramp(i, 600), 0.9] }
        for i in 0..<400 { rows += [0.30 * ramp(i, 400), 0.75 + 0.1 * ramp(i, 400), 0.9] }
        for i in 0..<20 { rows += [0.30 + 0.08 * ramp(i, 20), bothChains ? 0.27 + 0.08 * ramp(i, 20) : 0.05, 0.9] }
        for i in 0..<200 { rows += [0.38 + 0.12 * ramp(i, 200), bothChains ? 0.35 + 0.12 * ramp(i, 200) : 0.10, 0.9] }
        return rows
    }

    @Test("cells without immunoglobulin read no chain below the valley between the chains' two modes; plasma cells keep theirs")
    func islandWithoutImmunoglobulin() throws {
        let rows = Self.table()
        let reading = LightChainReading(rows: rows, stored: 3, kappa: 0, lambda: 1, margin: 0.1)
        // The same valley placed directly: an empty gap 0.35…0.75, whose middle it takes.
        let valley = try #require(Self.directValley(rows))
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
        if let full = Self.directValley(rows) { #expect(full < 0.50, "\(full)") }
        let chains = reading.chains(rows: rows, stored: 3, kappa: 0, lambda: 1)
        #expect(chains.count == 260_000 && chains.filter { $0 == 1 }.count == 130_000 && chains.filter { $0 == 0 }.count == 130_000)
    }

    @Test("a population whose chain is dimmer than the normal plasma cells' keeps it: the level moves down to the valley between it and the negative mode")
    func dimChainPopulation() throws {
        let rows = Self.dimTable(bothChains: false)
        // The lowest density between the two medians is the empty stretch above the dim cells:
        // read there, all 200 would read no chain.
        let first = try #require(Self.directValley(rows))
        #expect(first > 0.5, "\(first)")
        let reading = LightChainReading(rows: rows, stored: 3, kappa: 0, lambda: 1, margin: 0.1)
        #expect(reading.level > 0.30 && reading.level < 0.38, "\(reading.level)")
        let chains = reading.chains(rows: rows, stored: 3, kappa: 0, lambda: 1)
        #expect(chains[1_020...].allSatisfy { $0 == 1 }, "the dim cells read κ")
        #expect(chains[0..<600].allSatisfy { $0 == 1 } && chains[600..<1_000].allSatisfy { $0 == -1 })
    }

    @Test("cells with both chains dim (B cells' surface immunoglobulin in a gate a dead CD19 let them into) do not move the level: they are not a one-chain population")
    func bothChainsDim() {
        let rows = Self.dimTable(bothChains: true)
        let reading = LightChainReading(rows: rows, stored: 3, kappa: 0, lambda: 1, margin: 0.1)
        #expect(reading.level > 0.5, "\(reading.level)")
        let chains = reading.chains(rows: rows, stored: 3, kappa: 0, lambda: 1)
        #expect(chains[1_000...].allSatisfy { $0 == 0 })
        #expect(reading.unread == 220 && reading.unreadNote(minimum: 220)?.hasPrefix("220 plasma cells read no light chain") == true)
        #expect(reading.unreadNote(minimum: 221) == nil)
    }

    /// A CD19− CD56+ κ clone of 400 among 400,000 events whose κ is 2 decades dimmer than the
    /// normal plasma cells', `spread` decades wide on every marker, analysed with the small-sample template.
    static func dimClone(spread: Double) throws -> (MRDResult, MarrowTruth) {
        let directory = TemporaryDirectory()
        let spec = MarrowSpecification(events: 400_000, aberrantCount: 400, seed: 41, aberrantPhenotype: try AberrantPhenotype("CD19-,CD56+"),
                                       cloneSpread: spread, cloneLightChainShift: -2)
        return try ClonalityTests.analyze(spec, at: directory.path("dim-kappa.fcs"))
    }

    @Test("a clone of 400 whose κ is 2 decades dimmer than the normal plasma cells' is read, found and counted (the valley alone read it as no chain and called the sample negative)")
    func dimChainClone() throws {
        let (r, truth) = try Self.dimClone(spread: 0.2)
        #expect(r.call == .positive, "\(r.callText)")
        #expect(ClonalityTests.inPoissonBand(r.aberrantPC.count, of: truth), "\(r.aberrantPC.count) of \(truth.aberrantPlasmaCells)")
        #expect(r.lightChains.aberrant == "kappa")
        let level = try #require(r.clonality?.lightChainReadLevel)
        #expect(level < 0.3, "\(level)")
        #expect(!r.warnings.contains { $0.contains("read no light chain") }, "\(r.warnings)")
    }

    @Test("the limit: a dim clone as wide as the negative mode's flank leaves no valley of its own; it reads no chain, and the warning names its cells")
    func dimChainCloneTooWide() throws {
        let (r, _) = try Self.dimClone(spread: 0.32)
        let level = try #require(r.clonality?.lightChainReadLevel)
        #expect(level > 0.5, "\(level)")
        let note = try #require(r.warnings.first { $0.contains("plasma cells read no light chain: their higher chain lies at or below the read level") }, "\(r.warnings)")
        let unread = try #require(Int(note.prefix { $0.isNumber }))
        #expect(unread >= 400, "\(note)")
    }
}
