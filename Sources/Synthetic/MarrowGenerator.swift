import Dispatch
import EventCore
import FCS
import Foundation

/// The truth of a generated file: exact event counts per population and per normal
/// plasma-cell subset, the expected MRD, and every parameter that was drawn.
public struct MarrowTruth: Sendable, Codable, Equatable {
    public let specification: MarrowSpecification
    /// Events per population, by ``CellPopulation/name`` (normal plasma cells of every subset together).
    public let counts: [String: Int]
    public let nucleatedCells: Int
    public let aberrantPlasmaCells: Int
    /// 100 × aberrant / nucleated.
    public let mrdPercent: Double
    /// Events per label (``EventLabel/description``), normal plasma cells by subset and light chain.
    public let labelCounts: [String: Int]
    /// Normal plasma cells carrying each trait (a cell with two traits counts in both).
    public let normalPlasmaCellTraits: [String: Int]
    public let normalKappa: Int
    public let normalLambda: Int
    /// The population code of each event is in the labels file: one byte per event, in file
    /// order (``EventLabel``: normal plasma cells are 0x80 | λ·0x40 | trait bits).
    public let labelCodes: [String: UInt8]
    public let parameters: MarrowParameters
}

/// Writes synthetic lysed-marrow FCS 3.1 files in the LEGEND-2 panel, with per-event truth.
///
/// The marrow's parameters are drawn from the seed (``MarrowParameters``) unless the
/// specification fixes them. Counts per label are exact (chosen up front by largest remainder,
/// then dealt out in random order by sequential sampling, so 30 aberrant cells means 30). Each
/// event's true marker levels are drawn from its label's phenotype, spread by the panel's
/// spillover matrix, and given detector noise, so analysis must compensate and sees negative
/// values. Technical faults are applied to the written detector values. Same specification
/// and seed give a byte-identical file.
///
/// Cost: about 14 normal deviates per event; memory a few blocks, whatever the event count.
public struct MarrowGenerator: Sendable {
    public let specification: MarrowSpecification
    public let model: MarrowModel

    public init(_ specification: MarrowSpecification) {
        self.specification = specification
        self.model = MarrowModel(MarrowParameters.draw(for: specification))
    }

    /// The exact number of events of each label, ordered by code.
    public func plannedLabels() -> [(label: EventLabel, count: Int)] {
        let total = max(0, specification.events)
        let p = model.parameters
        var fixed: [(EventLabel, Int)] = [
            (EventLabel(.erythrocyte), Int((Double(total) * p.erythrocyteFraction).rounded())),
            (EventLabel(.debris), Int((Double(total) * p.debrisFraction).rounded())),
            (EventLabel(.doublet), Int((Double(total) * p.doubletFraction).rounded())),
        ]
        let nucleated = total - fixed.reduce(0) { $0 + $1.1 }
        let aberrant = min(nucleated, specification.aberrantCount ?? Int((Double(nucleated) * specification.aberrantFraction).rounded()))
        fixed.append((EventLabel(.aberrantPlasmaCell), aberrant))
        // Hemodilution replaces marrow-only populations by blood: their weight falls by 1 − H.
        let marrowOnly: Set<CellPopulation> = [.myeloidPrecursor, .bCellPrecursor, .mastCell, .erythroblast, .normalPlasmaCell]
        let dilution = min(max(specification.hemodilution, 0), 0.95)
        var weights: [(EventLabel, Double)] = []
        for population in CellPopulation.allCases where population.isNucleated && population != .aberrantPlasmaCell {
            let percent = (p.nucleatedPercent[population.name] ?? 0) * (marrowOnly.contains(population) ? 1 - dilution : 1)
            if population == .normalPlasmaCell {
                weights += model.normalPlasmaCellLabelShares.map { ($0.label, percent * $0.share) }
            } else {
                weights.append((EventLabel(population), percent))
            }
        }
        let apportioned = Self.largestRemainder(nucleated - aberrant, weights)
        return (fixed + drawLightChains(apportioned)).sorted { $0.0.code < $1.0.code }
    }

    /// Each normal plasma cell's light chain drawn on its own, κ with the file's κ share: the
    /// subset totals stay apportioned, and the κ:λ split of every subset is binomial, as in a
    /// polyclonal population, never the file's ratio to the cell (a too-perfect null would hide
    /// the chance skews the clonality test must tolerate).
    /// - Complexity: O(normal plasma cells) uniform draws, from a stream of their own.
    func drawLightChains(_ planned: [(EventLabel, Int)]) -> [(EventLabel, Int)] {
        let ratio = model.parameters.kappaLambdaRatio
        let kappaShare = ratio / (1 + ratio)
        var rng = RandomSource(seed: specification.seed, stream: UInt64.max - 2)
        var totals: [Set<NormalPlasmaCellTrait>: Int] = [:]
        var order: [Set<NormalPlasmaCellTrait>] = []
        var result: [(EventLabel, Int)] = []
        for (label, count) in planned {
            guard label.population == .normalPlasmaCell else { result.append((label, count)); continue }
            if totals[label.traits] == nil { order.append(label.traits) }
            totals[label.traits, default: 0] += count
        }
        for traits in order {
            let n = totals[traits]!
            var kappa = 0
            for _ in 0..<n where rng.uniform() < kappaShare { kappa += 1 }
            result.append((EventLabel.normalPlasmaCell(traits: traits, lightChain: .kappa), kappa))
            result.append((EventLabel.normalPlasmaCell(traits: traits, lightChain: .lambda), n - kappa))
        }
        return result
    }

    /// The exact number of events of each population.
    public func plannedCounts() -> [CellPopulation: Int] {
        var counts: [CellPopulation: Int] = [:]
        for (label, count) in plannedLabels() { counts[label.population!, default: 0] += count }
        return counts
    }

    /// Splits `total` over the weights: floors, then one more to the largest remainders (ties by code).
    static func largestRemainder(_ total: Int, _ weights: [(EventLabel, Double)]) -> [(EventLabel, Int)] {
        let sum = weights.reduce(0) { $0 + $1.1 }
        guard sum > 0, total > 0 else { return weights.map { ($0.0, 0) } }
        var result: [(EventLabel, Int)] = []
        var remainders: [(Int, Double)] = []
        for (k, (label, weight)) in weights.enumerated() {
            let exact = Double(total) * weight / sum
            let whole = Int(exact.rounded(.down))
            result.append((label, whole))
            remainders.append((k, exact - Double(whole)))
        }
        let left = total - result.reduce(0) { $0 + $1.1 }
        for (k, _) in remainders.sorted(by: { $0.1 != $1.1 ? $0.1 > $1.1 : result[$0.0].0.code < result[$1.0].0.code }).prefix(left) {
            result[k].1 += 1
        }
        return result
    }

    /// The truth of the file `write` produces, without writing it.
    public func truth() -> MarrowTruth {
        let planned = plannedLabels()
        var counts = Dictionary(uniqueKeysWithValues: CellPopulation.allCases.map { ($0.name, 0) })
        var traits = Dictionary(uniqueKeysWithValues: NormalPlasmaCellTrait.allCases.map { ($0.key, 0) })
        var kappa = 0, lambda = 0, nucleated = 0
        for (label, count) in planned {
            let population = label.population!
            counts[population.name, default: 0] += count
            if population.isNucleated { nucleated += count }
            for trait in label.traits { traits[trait.key, default: 0] += count }
            if label.lightChain == .kappa { kappa += count } else if label.lightChain == .lambda { lambda += count }
        }
        let aberrant = counts[CellPopulation.aberrantPlasmaCell.name] ?? 0
        var codes = Dictionary(uniqueKeysWithValues: CellPopulation.allCases.filter { $0 != .normalPlasmaCell }.map { ($0.name, $0.rawValue) })
        for (label, _) in planned where label.population == .normalPlasmaCell { codes[label.description] = label.code }
        return MarrowTruth(
            specification: specification, counts: counts, nucleatedCells: nucleated, aberrantPlasmaCells: aberrant,
            mrdPercent: nucleated > 0 ? 100 * Double(aberrant) / Double(nucleated) : 0,
            labelCounts: Dictionary(uniqueKeysWithValues: planned.filter { $0.count > 0 }.map { ($0.label.description, $0.count) }),
            normalPlasmaCellTraits: traits, normalKappa: kappa, normalLambda: lambda, labelCodes: codes, parameters: model.parameters)
    }

    /// The panel as written: channels, with any stain-label fault applied to $PnS.
    func channels() -> [FCSChannelDescription] {
        var channels = LegendPanel.channels
        for case .stainLabel(let marker, let label) in specification.faults {
            let k = LegendPanel.firstMarkerChannel + marker.rawValue
            channels[k] = FCSChannelDescription(name: channels[k].name, marker: label, range: channels[k].range)
        }
        return channels
    }

    /// The files written beside `OUT.fcs` (or `OUT`): `OUT.labels` and `OUT.truth.json`.
    /// - Complexity: O(path length).
    public static func companionPaths(of fcsPath: String) -> (labels: String, truth: String) {
        let base = fcsPath.hasSuffix(".fcs") ? String(fcsPath.dropLast(4)) : fcsPath
        return (base + ".labels", base + ".truth.json")
    }

    /// Writes the FCS file and, when `labelsPath` is given, one label code byte per event.
    @discardableResult
    public func write(fcsPath: String, labelsPath: String? = nil) throws -> MarrowTruth {
        try specification.validate()
        let truth = truth()
        let planned = plannedLabels()
        var keywords = DataSetKeywords()
        keywords["$CYT"] = "FlowMRD synthetic marrow"
        keywords["$TIMESTEP"] = "0.01"
        keywords["$SRC"] = "synthetic lysed bone marrow, LEGEND-2 ten-colour panel"
        keywords["FLOWMRD_SEED"] = String(specification.seed)
        keywords["FLOWMRD_ABERRANT_FRACTION"] = String(specification.aberrantFraction)
        keywords["FLOWMRD_HEMODILUTION"] = String(specification.hemodilution)
        keywords["FLOWMRD_LIGHT_CHAIN"] = specification.lightChain.rawValue
        keywords["FLOWMRD_ABERRANT_PHENOTYPE"] = model.parameters.clonePhenotype
        keywords["FLOWMRD_FLOW"] = specification.flow.rawValue
        keywords["FLOWMRD_CONDITIONS"] = conditionNames.isEmpty ? "none" : conditionNames.joined(separator: ",")
        keywords["FLOWMRD_NUCLEATED"] = String(truth.nucleatedCells)
        keywords["FLOWMRD_ABERRANT_PC"] = String(truth.aberrantPlasmaCells)
        keywords["FLOWMRD_MRD_PERCENT"] = String(truth.mrdPercent)
        for population in CellPopulation.allCases { keywords["FLOWMRD_TRUTH_\(population.name.uppercased())"] = String(truth.counts[population.name] ?? 0) }

        let channels = channels()
        let writer = try FCSWriter(path: fcsPath, channels: channels, eventCount: specification.events,
                                   keywords: keywords, spillover: LegendPanel.spillover, durable: false)
        let labels = try labelsPath.map { try LabelFile(path: $0) }
        let codes = planned.map(\.label.code)
        var remaining = planned.map(\.count)
        var remainingTotal = remaining.reduce(0, +)
        var dealer = RandomSource(seed: specification.seed, stream: 0)
        var clock = RandomSource(seed: specification.seed, stream: UInt64.max)
        let blockSize = 16_384
        let blocksPerBatch = 2 * max(1, ProcessInfoCores.active)
        var blocks = (0..<blocksPerBatch).map { _ in EventBlock<Float>(channelCount: channels.count, capacity: blockSize) }
        var batchCodes = [UInt8](repeating: 0, count: blockSize * blocksPerBatch)
        var times = [Double](repeating: 0, count: blockSize * blocksPerBatch)
        let table = LevelTable(model)
        let faults = FaultTable(specification.faults)
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
                batchCodes[e] = codes[k]
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
            let sharedCodes = batchCodes, sharedTimes = times
            let results = UnsafeMutableBufferPointer<EventBlock<Float>>.allocate(capacity: blockCount)
            for b in 0..<blockCount { (results.baseAddress! + b).initialize(to: blocks[b]) }
            let output = UnsafeSendableBuffer(results)
            DispatchQueue.concurrentPerform(iterations: blockCount) { b in
                let n = min(blockSize, batchEvents - b * blockSize)
                var rng = RandomSource(seed: specification.seed, stream: firstIndex + UInt64(b))
                Self.fill(&output.buffer[b], count: n, codes: sharedCodes, times: sharedTimes, offset: b * blockSize,
                          table: table, faults: faults, rng: &rng)
            }
            for b in 0..<blockCount {
                blocks[b] = results[b]
                try writer.append(blocks[b])
            }
            results.deinitialize()
            results.deallocate()
            try labels?.append(batchCodes, count: batchEvents)
            nextBlockIndex += UInt64(blockCount)
            written += batchEvents
        }
        try writer.finish()
        try labels?.finish()
        return truth
    }

    /// The conditions of the specification, by name (anti-cd38, post-car-t, regenerating, and each fault).
    public var conditionNames: [String] {
        (specification.antiCD38 ? ["anti-cd38"] : []) + (specification.postCART ? ["post-car-t"] : [])
            + (specification.regenerating ? ["regenerating"] : []) + specification.faults.map(\.description)
    }

    /// Phenotype parameters as flat tables: per label code, 12 levels (FSC, SSC, ten markers).
    struct LevelTable: Sendable {
        var medians = [Double](repeating: 0, count: 256 * 12)
        var spreads = [Double](repeating: 0, count: 256 * 12)

        init(_ model: MarrowModel) {
            for code in 0...255 {
                guard let phenotype = model.phenotype(for: EventLabel(code: UInt8(code))) else { continue }
                let levels = [phenotype.forwardScatter, phenotype.sideScatter] + phenotype.markers
                for (k, level) in levels.enumerated() {
                    medians[code * 12 + k] = level.median
                    spreads[code * 12 + k] = level.spread * 2.302585092994046
                }
            }
        }
    }

    /// Per detector: dead (0), the fraction of NaN events, or untouched.
    struct FaultTable: Sendable {
        var dead = [Bool](repeating: false, count: 10)
        var nanFraction = [Double](repeating: 0, count: 10)
        var any = false
        init(_ faults: [TechnicalFault]) {
            for fault in faults {
                switch fault {
                case .deadChannel(let m): dead[m.rawValue] = true; any = true
                case .nonFinite(let m, let f): nanFraction[m.rawValue] = f; any = true
                case .stainLabel: break
                }
            }
        }
    }

    /// Fills one block: scatter, time and fluorescence (true levels · spillover + detector noise).
    /// No allocation per event.
    static func fill(_ block: inout EventBlock<Float>, count n: Int, codes: [UInt8], times: [Double], offset: Int,
                     table: LevelTable, faults: FaultTable, rng: inout RandomSource) {
        block.setCount(n)
        let spill = LegendPanel.spillover
        let s = (0..<100).map { spill[$0 / 10, $0 % 10] }
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
            if faults.any {
                for j in 0..<10 {
                    if faults.dead[j] { block[4 + j, e] = 0 }
                    if faults.nanFraction[j] > 0, faults.nanFraction[j] >= 1 || rng.uniform() < faults.nanFraction[j] { block[4 + j, e] = .nan }
                }
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
