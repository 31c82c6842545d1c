import FCS
import Foundation

/// How the flow rate behaves during the synthetic acquisition.
public enum FlowProfile: String, Sendable, Codable, CaseIterable {
    /// Constant rate.
    case stable
    /// The rate falls to a tenth between 40% and 55% of the run (a partial clog).
    case clog
    /// The rate rises fivefold between 40% and 45% of the run (a burst).
    case burst
}

/// What to generate: size, disease level, seed and acquisition conditions.
public struct MarrowSpecification: Sendable, Codable, Equatable {
    public var events: Int
    /// Aberrant plasma cells as a fraction of nucleated cells (10⁻¹ … 10⁻⁷, or 0).
    public var aberrantFraction: Double
    /// An exact number of aberrant plasma cells, overriding `aberrantFraction`.
    public var aberrantCount: Int?
    public var seed: UInt64
    /// 0 (none) to 0.95: the share of marrow-only populations replaced by blood.
    public var hemodilution: Double
    public var lightChain: LightChain
    public var flow: FlowProfile
    public var eventsPerSecond: Double

    public init(events: Int, aberrantFraction: Double = 0, aberrantCount: Int? = nil, seed: UInt64 = 1,
                hemodilution: Double = 0, lightChain: LightChain = .kappa, flow: FlowProfile = .stable, eventsPerSecond: Double = 10_000) {
        self.events = events
        self.aberrantFraction = aberrantFraction
        self.aberrantCount = aberrantCount
        self.seed = seed
        self.hemodilution = hemodilution
        self.lightChain = lightChain
        self.flow = flow
        self.eventsPerSecond = eventsPerSecond
    }
}

/// The truth of a generated file: exact event counts per population and the expected MRD.
public struct MarrowTruth: Sendable, Codable, Equatable {
    public let specification: MarrowSpecification
    /// Events per population, by ``CellPopulation/name``.
    public let counts: [String: Int]
    public let nucleatedCells: Int
    public let aberrantPlasmaCells: Int
    /// 100 × aberrant / nucleated.
    public let mrdPercent: Double
    /// The population code of each event is in the labels file: one byte per event, in file order.
    public let labelCodes: [String: UInt8]
}

/// Writes synthetic lysed-marrow FCS 3.1 files in the LEGEND-2 panel, with per-event truth.
///
/// Population counts are exact (chosen up front, then dealt out in random order by sequential
/// sampling, so any count — 30 aberrant cells, say — is hit exactly). Each event's true marker
/// levels are drawn from its population's phenotype, spread by the panel's spillover matrix,
/// and given detector noise, so analysis must compensate and sees negative values. Same
/// specification and seed give a byte-identical file.
///
/// Cost: about 14 normal deviates per event; memory one block, whatever the event count.
public struct MarrowGenerator: Sendable {
    public let specification: MarrowSpecification
    public let model: MarrowModel

    public init(_ specification: MarrowSpecification, model: MarrowModel? = nil) {
        self.specification = specification
        self.model = model ?? MarrowModel.standard(aberrant: MarrowModel.defaultAberrant(specification.lightChain),
                                                   hemodilution: specification.hemodilution)
    }

    /// The exact number of events of each population.
    public func plannedCounts() -> [CellPopulation: Int] {
        let total = max(0, specification.events)
        var counts: [CellPopulation: Int] = [:]
        counts[.erythrocyte] = Int((Double(total) * model.erythrocyteFraction).rounded())
        counts[.debris] = Int((Double(total) * model.debrisFraction).rounded())
        counts[.doublet] = Int((Double(total) * model.doubletFraction).rounded())
        let nucleated = total - counts.values.reduce(0, +)
        let aberrant = min(nucleated, specification.aberrantCount ?? Int((Double(nucleated) * specification.aberrantFraction).rounded()))
        counts[.aberrantPlasmaCell] = aberrant
        // Largest remainder over the other nucleated populations.
        let rest = nucleated - aberrant
        let populations = model.nucleatedShares.keys.sorted { $0.rawValue < $1.rawValue }
        let totalShare = populations.reduce(0.0) { $0 + model.nucleatedShares[$1]! }
        var assigned = 0
        var remainders: [(CellPopulation, Double)] = []
        for population in populations {
            let exact = Double(rest) * model.nucleatedShares[population]! / totalShare
            let whole = Int(exact.rounded(.down))
            counts[population] = whole
            assigned += whole
            remainders.append((population, exact - Double(whole)))
        }
        for (population, _) in remainders.sorted(by: { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0.rawValue < $1.0.rawValue }).prefix(rest - assigned) {
            counts[population]! += 1
        }
        return counts
    }

    /// Writes the FCS file and, when `labelsPath` is given, one population code byte per event.
    @discardableResult
    public func write(fcsPath: String, labelsPath: String? = nil) throws -> MarrowTruth {
        let planned = plannedCounts()
        let populations = CellPopulation.allCases
        let nucleated = planned.filter { $0.key.isNucleated }.values.reduce(0, +)
        let aberrant = planned[.aberrantPlasmaCell] ?? 0
        let truth = MarrowTruth(
            specification: specification,
            counts: Dictionary(uniqueKeysWithValues: populations.map { ($0.name, planned[$0] ?? 0) }),
            nucleatedCells: nucleated, aberrantPlasmaCells: aberrant,
            mrdPercent: nucleated > 0 ? 100 * Double(aberrant) / Double(nucleated) : 0,
            labelCodes: Dictionary(uniqueKeysWithValues: populations.map { ($0.name, $0.rawValue) }))

        var keywords = FCSKeywords()
        keywords["$CYT"] = "FlowMRD synthetic marrow"
        keywords["$TIMESTEP"] = "0.01"
        keywords["$SRC"] = "synthetic lysed bone marrow, LEGEND-2 ten-colour panel"
        keywords["FLOWMRD_SEED"] = String(specification.seed)
        keywords["FLOWMRD_ABERRANT_FRACTION"] = String(specification.aberrantFraction)
        keywords["FLOWMRD_HEMODILUTION"] = String(specification.hemodilution)
        keywords["FLOWMRD_LIGHT_CHAIN"] = specification.lightChain.rawValue
        keywords["FLOWMRD_FLOW"] = specification.flow.rawValue
        keywords["FLOWMRD_NUCLEATED"] = String(nucleated)
        keywords["FLOWMRD_ABERRANT_PC"] = String(aberrant)
        keywords["FLOWMRD_MRD_PERCENT"] = String(truth.mrdPercent)
        for population in populations { keywords["FLOWMRD_TRUTH_\(population.name.uppercased())"] = String(planned[population] ?? 0) }

        let writer = try FCSWriter(path: fcsPath, channels: LegendPanel.channels, eventCount: specification.events,
                                   keywords: keywords, spillover: LegendPanel.spillover)
        let labels = try labelsPath.map { try LabelFile(path: $0) }
        var remaining = populations.map { planned[$0] ?? 0 }
        var remainingTotal = remaining.reduce(0, +)
        var dealer = RandomSource(seed: specification.seed, stream: 0)
        let spill = LegendPanel.spillover
        let blockSize = 16_384
        var block = EventBlock<Float>(channelCount: LegendPanel.channels.count, capacity: blockSize)
        var codes = [UInt8](repeating: 0, count: blockSize)
        var time = 0.0
        var written = 0
        var blockIndex: UInt64 = 0
        while written < specification.events {
            let n = min(blockSize, specification.events - written)
            block.setCount(n)
            blockIndex += 1
            var rng = RandomSource(seed: specification.seed, stream: blockIndex)
            for e in 0..<n {
                // Deal the next population in proportion to what remains.
                var pick = Int(dealer.next() % UInt64(remainingTotal))
                var k = 0
                while pick >= remaining[k] {
                    pick -= remaining[k]
                    k += 1
                }
                remaining[k] -= 1
                remainingTotal -= 1
                let population = populations[k]
                codes[e] = population.rawValue
                var values = population == .doublet ? doubletValues(&rng) : singletValues(model.phenotypes[population]!, population, &rng)
                // Spillover and detector noise on the fluorescence channels.
                var observed = [Double](repeating: 0, count: 10)
                for j in 0..<10 {
                    var sum = 0.0
                    for i in 0..<10 { sum += values[4 + i] * spill[i, j] }
                    observed[j] = sum + 20 * rng.normal()
                }
                for j in 0..<10 { values[4 + j] = observed[j] }
                // Time: exponential gaps at the profile's rate, in ticks of $TIMESTEP.
                let progress = Double(written + e) / Double(max(1, specification.events))
                var rate = specification.eventsPerSecond
                switch specification.flow {
                case .stable: break
                case .clog: if progress >= 0.40 && progress < 0.55 { rate *= 0.1 }
                case .burst: if progress >= 0.40 && progress < 0.45 { rate *= 5 }
                }
                var u = rng.uniform()
                while u <= 0 { u = rng.uniform() }
                time += -log(u) / rate
                values[3] = (time / 0.01).rounded(.down)
                for c in 0..<values.count { block[c, e] = Float(min(values[c], 262_143)) }
            }
            try writer.append(block)
            try labels?.append(codes, count: n)
            written += n
        }
        try writer.finish()
        try labels?.finish()
        return truth
    }

    /// FSC-A, FSC-H, SSC-A, Time (filled later) and ten true marker levels of one cell.
    private func singletValues(_ phenotype: Phenotype, _ population: CellPopulation, _ rng: inout RandomSource) -> [Double] {
        var values = [Double](repeating: 0, count: 14)
        let fsc = draw(phenotype.forwardScatter, &rng)
        values[0] = fsc
        values[1] = fsc * (0.82 + 0.02 * rng.normal())
        values[2] = draw(phenotype.sideScatter, &rng)
        for marker in Marker.allCases { values[4 + marker.rawValue] = draw(phenotype[marker], &rng) }
        if population == .normalPlasmaCell {
            // Polyclonal: each normal plasma cell carries one light chain.
            let kappa = rng.uniform() < model.normalKappaFraction
            values[4 + (kappa ? Marker.kappa : Marker.lambda).rawValue] = draw(.bright(50_000), &rng)
        }
        return values
    }

    /// Two nucleated cells passing together: areas add, the height is about the larger one's.
    private func doubletValues(_ rng: inout RandomSource) -> [Double] {
        let first = singletValues(model.phenotypes[.granulocyte]!, .granulocyte, &rng)
        let partners: [CellPopulation] = [.granulocyte, .tCell, .monocyte, .erythroblast]
        let partner = partners[Int(rng.next() % UInt64(partners.count))]
        let second = singletValues(model.phenotypes[partner]!, partner, &rng)
        var values = zip(first, second).map { $0 + $1 }
        values[1] = max(first[1], second[1]) * (1.02 + 0.02 * rng.normal())
        return values
    }

    @inline(__always)
    private func draw(_ level: ExpressionLevel, _ rng: inout RandomSource) -> Double {
        if level.median == 0 { return 40 * rng.normal() }
        return level.median * pow(10, level.spread * rng.normal())
    }
}

/// Writes one population code per event, atomically (temporary file, then rename).
final class LabelFile {
    let path: String
    let temporary: String
    let handle: FileHandle

    init(path: String) throws {
        self.path = path
        self.temporary = path + ".partial"
        FileManager.default.createFile(atPath: temporary, contents: nil)
        guard let handle = FileHandle(forWritingAtPath: temporary) else {
            throw FCSError(file: path, .write("cannot create \(temporary)"))
        }
        self.handle = handle
    }

    func append(_ codes: [UInt8], count: Int) throws {
        try handle.write(contentsOf: Data(codes[0..<count]))
    }

    func finish() throws {
        try handle.close()
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        try FileManager.default.moveItem(atPath: temporary, toPath: path)
    }
}
