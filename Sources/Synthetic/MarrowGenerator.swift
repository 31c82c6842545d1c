import Dispatch
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
    /// The clone's phenotype; nil for the default (``MarrowModel/defaultAberrant(_:)``).
    public var aberrantPhenotype: AberrantPhenotype?
    public var flow: FlowProfile
    public var eventsPerSecond: Double

    public init(events: Int, aberrantFraction: Double = 0, aberrantCount: Int? = nil, seed: UInt64 = 1,
                hemodilution: Double = 0, lightChain: LightChain = .kappa, aberrantPhenotype: AberrantPhenotype? = nil,
                flow: FlowProfile = .stable, eventsPerSecond: Double = 10_000) {
        self.aberrantPhenotype = aberrantPhenotype
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
        self.model = model ?? MarrowModel.standard(aberrant: specification.aberrantPhenotype.map {
            $0.phenotype(normal: MarrowModel.standard().phenotypes[.normalPlasmaCell]!, lightChain: specification.lightChain)
        } ?? MarrowModel.defaultAberrant(specification.lightChain), hemodilution: specification.hemodilution)
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
        keywords["FLOWMRD_ABERRANT_PHENOTYPE"] = specification.aberrantPhenotype?.description ?? "default" 
        keywords["FLOWMRD_FLOW"] = specification.flow.rawValue
        keywords["FLOWMRD_NUCLEATED"] = String(nucleated)
        keywords["FLOWMRD_ABERRANT_PC"] = String(aberrant)
        keywords["FLOWMRD_MRD_PERCENT"] = String(truth.mrdPercent)
        for population in populations { keywords["FLOWMRD_TRUTH_\(population.name.uppercased())"] = String(planned[population] ?? 0) }

        let writer = try FCSWriter(path: fcsPath, channels: LegendPanel.channels, eventCount: specification.events,
                                   keywords: keywords, spillover: LegendPanel.spillover, durable: false)
        let labels = try labelsPath.map { try LabelFile(path: $0) }
        var remaining = populations.map { planned[$0] ?? 0 }
        var remainingTotal = remaining.reduce(0, +)
        var dealer = RandomSource(seed: specification.seed, stream: 0)
        var clock = RandomSource(seed: specification.seed, stream: UInt64.max)
        let blockSize = 16_384
        let blocksPerBatch = 2 * max(1, ProcessInfoCores.active)
        var blocks = (0..<blocksPerBatch).map { _ in EventBlock<Float>(channelCount: LegendPanel.channels.count, capacity: blockSize) }
        var codes = [UInt8](repeating: 0, count: blockSize * blocksPerBatch)
        var times = [Double](repeating: 0, count: blockSize * blocksPerBatch)
        var time = 0.0
        var written = 0
        var nextBlockIndex: UInt64 = 1
        while written < specification.events {
            // Sequential part: who comes next, and when.
            let batchEvents = min(blockSize * blocksPerBatch, specification.events - written)
            for e in 0..<batchEvents {
                var pick = Int(dealer.next() % UInt64(remainingTotal))
                var k = 0
                while pick >= remaining[k] {
                    pick -= remaining[k]
                    k += 1
                }
                remaining[k] -= 1
                remainingTotal -= 1
                codes[e] = populations[k].rawValue
                let progress = Double(written + e) / Double(max(1, specification.events))
                var rate = specification.eventsPerSecond
                switch specification.flow {
                case .stable: break
                case .clog: if progress >= 0.40 && progress < 0.55 { rate *= 0.1 }
                case .burst: if progress >= 0.40 && progress < 0.45 { rate *= 5 }
                }
                var u = clock.uniform()
                while u <= 0 { u = clock.uniform() }
                time += -log(u) / rate
                times[e] = (time / 0.01).rounded(.down)
            }
            // Parallel part: each block's cells from its own random stream.
            let blockCount = (batchEvents + blockSize - 1) / blockSize
            let firstIndex = nextBlockIndex
            let sharedCodes = codes, sharedTimes = times
            let results = UnsafeMutableBufferPointer<EventBlock<Float>>.allocate(capacity: blockCount)
            for b in 0..<blockCount { (results.baseAddress! + b).initialize(to: blocks[b]) }
            let output = UnsafeSendableBuffer(results)
            DispatchQueue.concurrentPerform(iterations: blockCount) { b in
                let n = min(blockSize, batchEvents - b * blockSize)
                var rng = RandomSource(seed: specification.seed, stream: firstIndex + UInt64(b))
                fill(&output.buffer[b], count: n, codes: sharedCodes, times: sharedTimes, offset: b * blockSize, rng: &rng)
            }
            for b in 0..<blockCount {
                blocks[b] = results[b]
                try writer.append(blocks[b])
            }
            results.deinitialize()
            results.deallocate()
            try labels?.append(codes, count: batchEvents)
            nextBlockIndex += UInt64(blockCount)
            written += batchEvents
        }
        try writer.finish()
        try labels?.finish()
        return truth
    }

    /// Phenotype parameters as flat tables: per population code, 12 levels (FSC, SSC, ten markers).
    private struct LevelTable {
        var medians = [Double](repeating: 0, count: 16 * 12)
        var spreads = [Double](repeating: 0, count: 16 * 12)

        init(_ model: MarrowModel) {
            for (population, phenotype) in model.phenotypes {
                let base = Int(population.rawValue) * 12
                let levels = [phenotype.forwardScatter, phenotype.sideScatter] + phenotype.markers
                for (k, level) in levels.enumerated() {
                    medians[base + k] = level.median
                    spreads[base + k] = level.spread * 2.302585092994046
                }
            }
        }
    }

    /// Fills one block: scatter, time and fluorescence (true levels · spillover + detector noise).
    /// No allocation per event.
    private func fill(_ block: inout EventBlock<Float>, count n: Int, codes: [UInt8], times: [Double], offset: Int, rng: inout RandomSource) {
        block.setCount(n)
        let spill = LegendPanel.spillover
        let s = (0..<100).map { spill[$0 / 10, $0 % 10] }
        let table = LevelTable(model)
        let kappaFraction = model.normalKappaFraction
        let partners: [UInt8] = [CellPopulation.granulocyte, .tCell, .monocyte, .erythroblast].map(\.rawValue)
        var values = [Double](repeating: 0, count: 14)
        var second = [Double](repeating: 0, count: 14)
        func singlet(_ code: UInt8, into v: inout [Double]) {
            let base = Int(code) * 12
            for k in 0..<12 {
                let median = table.medians[base + k]
                let x = median == 0 ? 40 * rng.normal() : median * exp(table.spreads[base + k] * rng.normal())
                v[k < 2 ? (k == 0 ? 0 : 2) : k + 2] = x
            }
            v[1] = v[0] * (0.82 + 0.02 * rng.normal())
            if code == CellPopulation.normalPlasmaCell.rawValue {
                // Polyclonal: each normal plasma cell carries one light chain.
                let kappa = rng.uniform() < kappaFraction
                v[4 + (kappa ? Marker.kappa : Marker.lambda).rawValue] = 50_000 * exp(0.15 * 2.302585092994046 * rng.normal())
            }
        }
        for e in 0..<n {
            let code = codes[offset + e]
            if code == CellPopulation.doublet.rawValue {
                singlet(CellPopulation.granulocyte.rawValue, into: &values)
                singlet(partners[Int(rng.next() % 4)], into: &second)
                let height = max(values[1], second[1]) * (1.02 + 0.02 * rng.normal())
                for c in 0..<14 { values[c] += second[c] }
                values[1] = height
            } else {
                singlet(code, into: &values)
            }
            block[0, e] = Float(min(values[0], 262_143))
            block[1, e] = Float(min(values[1], 262_143))
            block[2, e] = Float(min(values[2], 262_143))
            block[3, e] = Float(times[offset + e])
            for j in 0..<10 {
                var sum = 0.0
                for i in 0..<10 { sum += values[4 + i] * s[i * 10 + j] }
                block[4 + j, e] = Float(min(sum + 20 * rng.normal(), 262_143))
            }
        }
    }
}

/// A buffer shared by concurrent workers that each touch only their own element.
struct UnsafeSendableBuffer<T>: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<T>
    init(_ buffer: UnsafeMutableBufferPointer<T>) { self.buffer = buffer }
}

/// Writes one population code per event, atomically (temporary file, then rename).
final class LabelFile {
    let path: String
    let temporary: String
    let handle: FileHandle

    init(path: String) throws {
        self.path = path
        self.temporary = path + ".partial"
        _ = FileManager.default.createFile(atPath: temporary, contents: nil)
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
