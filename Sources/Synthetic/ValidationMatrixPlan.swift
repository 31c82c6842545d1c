/// One condition of the validation matrix: what kind of marrow, clone, therapy or fault a file
/// carries, and whether a sample of that kind can support a negative call.
public struct MatrixCondition: Sendable, Codable, Equatable, Hashable {
    /// What a correct analysis may say about a file of this condition.
    public enum Expectation: String, Sendable, Codable {
        /// An ordinary sample: negative without a clone, positive with a detectable one.
        case evaluable
        /// No normal plasma cells (post-CAR-T): negative only with the context declared, else not evaluable.
        case noNormalPlasmaCells = "no-normal-plasma-cells"
        /// Mostly blood: never negative; a detectable clone may still be called positive.
        case hemodiluted
        /// A technical fault: not evaluable whatever the truth.
        case faulty
    }

    public let name: String
    public let summary: String
    public let expectation: Expectation

    public static let all: [MatrixCondition] = [
        .init(name: "plain", summary: "normal plasma-cell subsets drawn from published ranges; clone aberrancies drawn from their frequencies in myeloma", expectation: .evaluable),
        .init(name: "heterogeneous-normals", summary: "every normal subset share drawn from the upper half of its published range", expectation: .evaluable),
        .init(name: "single-CD19-", summary: "clone with CD19 loss only", expectation: .evaluable),
        .init(name: "single-CD56+", summary: "clone with CD56 gain only", expectation: .evaluable),
        .init(name: "single-CD117+", summary: "clone with CD117 gain only", expectation: .evaluable),
        .init(name: "single-CD27-", summary: "clone with CD27 loss only", expectation: .evaluable),
        .init(name: "single-CD81-", summary: "clone with CD81 loss only", expectation: .evaluable),
        .init(name: "single-CD45-", summary: "clone with CD45 loss only", expectation: .evaluable),
        .init(name: "single-CD38dim", summary: "clone with dimmer CD38 only", expectation: .evaluable),
        .init(name: "CD19+-clone", summary: "clone keeping normal CD19, other aberrancies drawn", expectation: .evaluable),
        .init(name: "small-margin", summary: "clone 0.3–0.5 decades from normal on one or two markers", expectation: .evaluable),
        .init(name: "wide-clone", summary: "clone spread 0.28–0.35 decades on every marker", expectation: .evaluable),
        .init(name: "anti-CD38", summary: "CD38 of every cell masked by 1–2 decades (daratumumab)", expectation: .evaluable),
        .init(name: "post-CAR-T", summary: "no normal plasma cells (BCMA CAR-T), with or without a residual clone", expectation: .noNormalPlasmaCells),
        .init(name: "regenerating", summary: "B-cell precursors 8–25% of nucleated cells", expectation: .evaluable),
        .init(name: "hemodiluted", summary: "85–95% hemodilution", expectation: .hemodiluted),
        .init(name: "dead-channel", summary: "one marker's detector reads 0", expectation: .faulty),
        .init(name: "nan-channel", summary: "one marker's detector reads NaN", expectation: .faulty),
        .init(name: "stain-conflict", summary: "a marker's channel carries another stain's $PnS label", expectation: .faulty),
    ]

    public static func named(_ name: String) -> MatrixCondition? { all.first { $0.name.lowercased() == name.lowercased() } }
}

/// The validation matrix: conditions × MRD levels × seeds, each cell one synthetic file whose
/// options are all explicit (so `flowmrd synth` with them regenerates it byte for byte).
public struct ValidationMatrixPlan: Sendable, Codable, Equatable {
    public var conditions: [MatrixCondition] = MatrixCondition.all
    /// Clone fractions of nucleated cells; 0 makes MRD-negative files.
    public var levels: [Double] = Self.defaultLevels
    /// The matrix's levels when none are given.
    public static let defaultLevels: [Double] = [0, 1e-5, 1e-4, 1e-3, 1e-2]
    public var seedsPerCell = 4
    public var firstSeed: UInt64 = 14_000
    /// Events per file, and for levels below 5×10⁻⁵ (so that 10⁻⁵ has ~45 clone events).
    public var events = 2_000_000
    public var lowLevelEvents = 5_000_000

    public init() {}

    /// One file of the matrix.
    public struct Cell: Sendable, Codable, Equatable {
        public let condition: MatrixCondition
        public let level: Double
        public let replicate: Int
        public let specification: MarrowSpecification
    }

    public var fileCount: Int { conditions.count * levels.count * seedsPerCell }

    /// Every cell, in a fixed order (condition, level, replicate). A file's seed depends on its
    /// condition and level, not on which others the plan holds: a default level keeps its place in
    /// ``defaultLevels`` (so `--conditions single-CD56+ --levels 1e-4` regenerates the full
    /// matrix's files of that row), and any other level is numbered after them, by its position.
    /// - Complexity: O(conditions · levels · seeds) specifications.
    public func cells() -> [Cell] {
        var cells: [Cell] = []
        for condition in conditions {
            let conditionIndex = MatrixCondition.all.firstIndex(of: condition) ?? 99
            for (position, level) in levels.enumerated() {
                let levelIndex = Self.defaultLevels.firstIndex(of: level) ?? Self.defaultLevels.count + position
                for replicate in 0..<seedsPerCell {
                    let seed = firstSeed &+ UInt64(conditionIndex * 10_000 + levelIndex * 100 + replicate)
                    cells.append(Cell(condition: condition, level: level, replicate: replicate,
                                      specification: specification(condition, level: level, seed: seed)))
                }
            }
        }
        return cells
    }

    /// The file of one condition, level and seed: every drawn choice made here is written into
    /// the specification as an explicit option.
    public func specification(_ condition: MatrixCondition, level: Double, seed: UInt64) -> MarrowSpecification {
        var rng = RandomSource(seed: seed, stream: 0x4D41_5452_4958)
        let events = level > 0 && level < 5e-5 ? lowLevelEvents : self.events
        var spec = MarrowSpecification(events: events, aberrantFraction: level, seed: seed)
        spec.lightChain = rng.uniform() < 0.5 ? .kappa : .lambda
        spec.hemodilution = rounded(0.3 * rng.uniform())
        let drawn = AberrantPhenotype.random.resolved(&rng)
        spec.aberrantPhenotype = drawn
        let markers = AberrantPhenotype.phenotypeMarkers
        switch condition.name {
        case "heterogeneous-normals":
            for trait in NormalPlasmaCellTrait.allCases { spec.normalTraitShares[trait.key] = rounded(MarrowRanges.traitShares[trait]!.upperHalf.draw(&rng)) }
        case let name where name.hasPrefix("single-"):
            spec.aberrantPhenotype = try! AberrantPhenotype(String(name.dropFirst("single-".count)))
        case "CD19+-clone":
            var terms = drawn.levels.filter { $0.marker != .cd19 }
            if terms.isEmpty { terms = [(.cd27, .dim)] }
            spec.aberrantPhenotype = try! AberrantPhenotype(terms.map { $0.marker.name + $0.level.description }.joined(separator: ","))
        case "small-margin":
            let expressed = markers.filter { !MarrowModel.normalLacks($0) && $0 != .cd138 }
            let first = rng.pick(expressed)
            var chosen = [first]
            if rng.uniform() < 0.5 { chosen.append(rng.pick(expressed.filter { $0 != first })) }
            spec.aberrantPhenotype = try! AberrantPhenotype(chosen.map { "\($0.name)@-\(rounded(0.3 + 0.2 * rng.uniform()))" }.joined(separator: ","))
        case "wide-clone":
            spec.cloneSpread = rounded(0.28 + 0.07 * rng.uniform())
        case "anti-CD38":
            spec.antiCD38 = true
        case "post-CAR-T":
            spec.postCART = true
        case "regenerating":
            spec.regenerating = true
        case "hemodiluted":
            spec.hemodilution = rounded(0.85 + 0.10 * rng.uniform())
        case "dead-channel":
            spec.faults = [.deadChannel(rng.pick(markers))]
        case "nan-channel":
            spec.faults = [.nonFinite(rng.pick(markers), fraction: 1)]
        case "stain-conflict":
            let marker = rng.pick(markers)
            let others = ["CD3", "CD4", "CD8", "CD20", "CD14", "HLA-DR"]
            spec.faults = [.stainLabel(marker, label: rng.pick(others))]
        default:
            break
        }
        return spec
    }

    /// Three decimals: options that print and parse back exactly.
    private func rounded(_ x: Double) -> Double { (x * 1_000).rounded() / 1_000 }
}

extension RandomSource {
    /// One element, chosen with this generator's own arithmetic (stable across Swift versions).
    mutating func pick<T>(_ elements: [T]) -> T { elements[Int(next() % UInt64(elements.count))] }
}

extension MarrowSpecification {
    /// The `flowmrd synth` arguments that regenerate this file (after `OUT.fcs`).
    public var synthArguments: [String] {
        var args = ["--events", String(events), "--seed", String(seed)]
        if let aberrantCount { args += ["--aberrant-count", String(aberrantCount)] } else { args += ["--mrd", String(aberrantFraction)] }
        if hemodilution != 0 { args += ["--hemodilution", String(hemodilution)] }
        if lightChain != .kappa { args += ["--light-chain", lightChain.rawValue] }
        if let aberrantPhenotype { args += ["--phenotype", aberrantPhenotype.description] }
        if flow != .stable { args += ["--flow", flow.rawValue] }
        if let normalPlasmaCellPercent { args += ["--normal-pc", String(normalPlasmaCellPercent)] }
        for key in normalTraitShares.keys.sorted() { args += ["--normal-subset", "\(key)=\(normalTraitShares[key]!)"] }
        if let kappaLambdaRatio { args += ["--kappa-lambda", String(kappaLambdaRatio)] }
        if let cloneShift { args += ["--clone-shift", String(cloneShift)] }
        if let cloneSpread { args += ["--clone-spread", String(cloneSpread)] }
        if let cloneLightChainShift { args += ["--clone-light-chain-shift", String(cloneLightChainShift)] }
        if antiCD38 { args.append("--anti-cd38") }
        if postCART { args.append("--post-car-t") }
        if regenerating { args.append("--regenerating") }
        for fault in faults { args += ["--fault", fault.description] }
        return args
    }
}
