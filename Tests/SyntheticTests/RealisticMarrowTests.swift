import FCS
import Foundation
import Testing
import TestSupport
@testable import Synthetic

/// The realistic-marrow model: drawn parameters, heterogeneous normal plasma cells, clones of
/// every kind, therapy conditions and technical faults.
@Suite("Realistic marrow model")
struct RealisticMarrowTests {
    let directory = TemporaryDirectory()

    func write(_ spec: MarrowSpecification, _ name: String) throws -> (fcs: String, labels: [UInt8], truth: MarrowTruth) {
        let fcs = directory.path(name + ".fcs"), labels = directory.path(name + ".labels")
        let truth = try MarrowGenerator(spec).write(fcsPath: fcs, labelsPath: labels)
        return (fcs, [UInt8](FileManager.default.contents(atPath: labels)!), truth)
    }

    func columns(_ fcs: String) throws -> [[Double]] {
        let file = try FCSFile(path: fcs)
        var reader = try file.reader()
        var block = reader.makeBlock(of: Double.self)
        var result = [[Double]](repeating: [], count: LegendPanel.channels.count)
        while try reader.next(into: &block) { for c in result.indices { result[c] += block.column(c) } }
        return result
    }

    @Test("parameters are drawn inside their ranges, vary between seeds, and κ:λ lies in 1.2–2.2")
    func drawsInRange() throws {
        let draws = (UInt64(1)...300).map { MarrowParameters.draw(for: MarrowSpecification(events: 1_000, seed: $0)) }
        for trait in NormalPlasmaCellTrait.allCases {
            let range = MarrowRanges.traitShares[trait]!
            let shares = draws.map { $0.traitShares[trait.key]! }
            #expect(shares.allSatisfy { $0 >= range.low && $0 <= range.high }, "\(trait.key)")
            // The draws use the range: the spread covers most of it.
            #expect(shares.max()! - shares.min()! > 0.6 * (range.high - range.low), "\(trait.key)")
        }
        #expect(draws.allSatisfy { (1.2...2.2).contains($0.kappaLambdaRatio) })
        #expect(draws.allSatisfy { (0.1...5).contains($0.normalPlasmaCellPercent) })
        #expect(draws.allSatisfy { $0.channelGainDecades.values.allSatisfy { abs($0) <= 0.15 } })
        #expect(draws.allSatisfy { $0.cloneSpreads.values.allSatisfy { $0 <= 0.35 } })
        #expect(draws.allSatisfy { abs($0.nucleatedPercent.values.reduce(0, +) - 100) < 1e-9 })
        #expect(Set(draws.map(\.kappaLambdaRatio)).count == draws.count)
    }

    @Test("an option fixes its parameter and leaves every other draw as it was")
    func fixingOneKeepsTheRest() throws {
        let free = MarrowParameters.draw(for: MarrowSpecification(events: 1_000, seed: 7))
        let fixed = MarrowParameters.draw(for: MarrowSpecification(events: 1_000, seed: 7, normalPlasmaCellPercent: 2.5,
                                                                   normalTraitShares: ["CD19-": 0.4], kappaLambdaRatio: 1.5))
        #expect(fixed.normalPlasmaCellPercent == 2.5 && fixed.kappaLambdaRatio == 1.5 && fixed.traitShares["CD19-"] == 0.4)
        #expect(fixed.traitShares["CD56+"] == free.traitShares["CD56+"])
        #expect(fixed.channelGainDecades == free.channelGainDecades)
        #expect(fixed.cloneMedians == free.cloneMedians)
    }

    @Test("every normal subset is polyclonal, its light chains drawn cell by cell (binomial, not the file's ratio to the cell); each trait is present; cells carry at most two traits")
    func subsetsArePolyclonal() throws {
        let spec = MarrowSpecification(events: 400_000, seed: 21, normalPlasmaCellPercent: 3,
                                       normalTraitShares: ["CD19-": 0.3, "CD45dim": 0.3, "CD56+": 0.2, "CD27dim": 0.15, "CD81dim": 0.15])
        let (_, labels, truth) = try write(spec, "poly")
        let kappaShare = truth.parameters.kappaLambdaRatio / (1 + truth.parameters.kappaLambdaRatio)
        var bySubset: [Set<NormalPlasmaCellTrait>: (kappa: Int, lambda: Int)] = [:]
        for label in labels.map({ EventLabel(code: $0) }) where label.population == .normalPlasmaCell {
            #expect(label.traits.count <= MarrowRanges.maximumTraitsPerCell)
            var entry = bySubset[label.traits] ?? (0, 0)
            if label.lightChain == .kappa { entry.kappa += 1 } else { entry.lambda += 1 }
            bySubset[label.traits] = entry
        }
        // Per subset, the standardised deviation of its κ count from the file's share: binomial
        // sampling gives a sum of squares near the number of subsets (χ²), where apportioning
        // every subset at the file's ratio (the old generator) gave nearly 0.
        let z = bySubset.values.filter { $0.kappa + $0.lambda >= 30 }.map { counts -> Double in
            let n = Double(counts.kappa + counts.lambda)
            return (Double(counts.kappa) - kappaShare * n) / (n * kappaShare * (1 - kappaShare)).squareRoot()
        }
        #expect(z.count >= 10)
        let chiSquare = z.reduce(0) { $0 + $1 * $1 }
        #expect(chiSquare > 0.25 * Double(z.count) && chiSquare < 3 * Double(z.count), "χ² \(chiSquare) over \(z.count) subsets")
        #expect(z.contains { abs($0) > 1 }, "\(z)")
        for trait in NormalPlasmaCellTrait.allCases { #expect(truth.normalPlasmaCellTraits[trait.key]! > 100, "\(trait.key)") }
        #expect(abs(Double(truth.normalKappa) / Double(truth.normalLambda) - truth.parameters.kappaLambdaRatio) < 0.15)
    }

    @Test("a single-aberrancy clone equals the normal majority on every other marker", arguments: [
        ("CD19-", Marker.cd19), ("CD56+", .cd56), ("CD117+", .cd117), ("CD27-", .cd27), ("CD81-", .cd81), ("CD45-", .cd45), ("CD38dim", .cd38),
    ])
    func singleAberrancy(_ text: String, _ marker: Marker) throws {
        let generator = MarrowGenerator(MarrowSpecification(events: 1_000, seed: 31, lightChain: .lambda, aberrantPhenotype: try AberrantPhenotype(text)))
        let clone = generator.model.phenotypes[.aberrantPlasmaCell]!
        let normal = generator.model.phenotype(for: .normalPlasmaCell(traits: [], lightChain: .lambda))!
        for m in Marker.allCases where m != marker {
            #expect(clone[m].median == normal[m].median, "\(m.name)")
        }
        #expect(clone[marker].median != normal[marker].median)
        if MarrowModel.normalLacks(marker) { #expect(clone[marker].median > 1_000) } else { #expect(clone[marker].median < normal[marker].median / 2) }
        #expect(generator.model.parameters.clonePhenotype == text)
    }

    @Test("CD19+, small-margin and wide clones: levels as described")
    func cloneKinds() throws {
        let cd19Positive = MarrowGenerator(MarrowSpecification(events: 1_000, seed: 32, aberrantPhenotype: try AberrantPhenotype("CD27dim,CD45dim"), cloneShift: 0.8))
        let n = cd19Positive.model.phenotype(for: .normalPlasmaCell(traits: [], lightChain: .kappa))!
        let c = cd19Positive.model.phenotypes[.aberrantPlasmaCell]!
        #expect(c[.cd19].median == n[.cd19].median && n[.cd19].median > 1_000)
        #expect(abs(log10(c[.cd27].median / n[.cd27].median) + 0.8) < 1e-9)
        let margin = MarrowGenerator(MarrowSpecification(events: 1_000, seed: 33, aberrantPhenotype: try AberrantPhenotype("CD81@-0.3")))
        let nm = margin.model.phenotype(for: .normalPlasmaCell(traits: [], lightChain: .kappa))!
        #expect(abs(log10(margin.model.phenotypes[.aberrantPlasmaCell]![.cd81].median / nm[.cd81].median) + 0.3) < 1e-9)
        let wide = MarrowGenerator(MarrowSpecification(events: 1_000, seed: 34, cloneSpread: 0.35))
        #expect(wide.model.phenotypes[.aberrantPlasmaCell]![.cd138].spread == 0.35)
        // Random phenotypes carry at least one aberrancy and differ between seeds.
        let drawn = (UInt64(1)...40).map { MarrowParameters.draw(for: MarrowSpecification(events: 1_000, seed: $0, aberrantPhenotype: .random)).clonePhenotype }
        #expect(drawn.allSatisfy { !$0.isEmpty && $0 != "random" })
        #expect(Set(drawn).count > 10)
    }

    @Test("anti-CD38 lowers CD38 of every population by the drawn masking; nothing else changes")
    func antiCD38() throws {
        let plain = MarrowGenerator(MarrowSpecification(events: 1_000, seed: 41))
        let masked = MarrowGenerator(MarrowSpecification(events: 1_000, seed: 41, antiCD38: true))
        let decades = try #require(masked.model.parameters.antiCD38MaskingDecades)
        #expect((1...2).contains(decades))
        for (population, p) in plain.model.phenotypes where p[.cd38].median > 0 {
            let m = masked.model.phenotypes[population]!
            #expect(abs(log10(p[.cd38].median / m[.cd38].median) - decades) < 1e-9, "\(population.name)")
            #expect(p[.cd138] == m[.cd138])
        }
        let label = EventLabel.normalPlasmaCell(traits: [], lightChain: .kappa)
        #expect(abs(log10(plain.model.phenotype(for: label)![.cd38].median / masked.model.phenotype(for: label)![.cd38].median) - decades) < 1e-9)
    }

    @Test("post-CAR-T has no normal plasma cells; regenerating marrow is rich in B-cell precursors; hemodilution removes marrow-only cells")
    func conditions() throws {
        let car = MarrowGenerator(MarrowSpecification(events: 100_000, aberrantFraction: 1e-3, seed: 51, postCART: true)).truth()
        #expect(car.counts["normal-plasma-cell"] == 0 && car.aberrantPlasmaCells > 80)
        let regenerating = MarrowGenerator(MarrowSpecification(events: 100_000, seed: 52, regenerating: true)).truth()
        let bcp = 100 * Double(regenerating.counts["b-cell-precursor"]!) / Double(regenerating.nucleatedCells)
        #expect(bcp >= 7.5 && bcp <= 25.5)
        let clean = MarrowGenerator(MarrowSpecification(events: 400_000, seed: 53)).truth()
        let diluted = MarrowGenerator(MarrowSpecification(events: 400_000, seed: 53, hemodilution: 0.9)).truth()
        for name in ["b-cell-precursor", "mast-cell", "erythroblast", "myeloid-precursor", "normal-plasma-cell"] {
            let a = Double(clean.counts[name]!) / Double(clean.nucleatedCells), b = Double(diluted.counts[name]!) / Double(diluted.nucleatedCells)
            // Marrow-only shares fall by about a tenth (renormalised over the blood cells that replace them).
            #expect(b / a > 0.08 && b / a < 0.2, "\(name): \(b / a)")
        }
        #expect(throws: SyntheticError.invalidSpecification("post-CAR-T marrow has no normal plasma cells, but 1.0% were asked for")) {
            try MarrowSpecification(events: 10, normalPlasmaCellPercent: 1, postCART: true).validate()
        }
    }

    @Test("faults: a dead detector reads 0, a NaN detector NaN, a stain label fault rewrites $PnS; conditions are in the keywords")
    func faults() throws {
        let spec = MarrowSpecification(events: 20_000, aberrantFraction: 1e-2, seed: 61,
                                       faults: [.deadChannel(.cd38), .nonFinite(.cd19, fraction: 1), .nonFinite(.cd27, fraction: 0.1),
                                                .stainLabel(.cd117, label: "CD3")])
        let (fcs, _, truth) = try write(spec, "faults")
        let data = try columns(fcs)
        let k = LegendPanel.firstMarkerChannel
        #expect(data[k + Marker.cd38.rawValue].allSatisfy { $0 == 0 })
        #expect(data[k + Marker.cd19.rawValue].allSatisfy { $0.isNaN })
        let nan27 = data[k + Marker.cd27.rawValue].filter(\.isNaN).count
        #expect(abs(Double(nan27) - 2_000) < 3.29 * (20_000 * 0.1 * 0.9).squareRoot())
        #expect(data[k + Marker.cd56.rawValue].allSatisfy { $0.isFinite })
        let set = try FCSFile(path: fcs).dataSet()
        #expect(set.channels[k + Marker.cd117.rawValue].marker == "CD3")
        #expect(set.channels[k + Marker.cd117.rawValue].name == "PE-Cy5.5-A")
        #expect(set.keywords["FLOWMRD_CONDITIONS"] == "dead:CD38,nan:CD19,nan:CD27:0.1,stain:CD117=CD3")
        #expect(truth.specification.faults.count == 4)
        #expect(throws: SyntheticError.invalidFault(text: "nan:CD19:2", reason: "the fraction must be a number in (0, 1]")) { try TechnicalFault("nan:CD19:2") }
        #expect(throws: SyntheticError.invalidFault(text: "dead:CD99", reason: "unknown marker \"CD99\"; expected one of CD45, CD38, CD138, CD19, CD56, CD117, CD81, CD27, cyKappa, cyLambda")) {
            try TechnicalFault("dead:CD99")
        }
        #expect(try TechnicalFault("stain:cd38=CD3") == .stainLabel(.cd38, label: "CD3"))
    }

    @Test("every condition together is still deterministic, and the truth records every drawn parameter")
    func determinismWithConditions() throws {
        let spec = MarrowSpecification(events: 30_000, aberrantFraction: 1e-2, seed: 71, hemodilution: 0.3, lightChain: .lambda,
                                       aberrantPhenotype: .random, antiCD38: true, regenerating: true, faults: [.nonFinite(.cd81, fraction: 0.05)])
        let a = try write(spec, "da"), b = try write(spec, "db")
        #expect(FileManager.default.contents(atPath: a.fcs) == FileManager.default.contents(atPath: b.fcs))
        #expect(a.labels == b.labels && a.truth == b.truth)
        let p = a.truth.parameters
        #expect(p.antiCD38MaskingDecades != nil && p.clonePhenotype != "random")
        #expect(p.cloneMedians["cyLambda"]! > 0 && p.cloneMedians["cyKappa"] == 0)
        #expect(p.channelGainDecades.count == 10 && p.normalPlasmaCellSpreads.count == 10 && p.traitShares.count == 5)
    }

    @Test("labels encode population, subset and light chain, and decode back")
    func labels() {
        for chain in LightChain.allCases {
            for bits in 0..<32 {
                let traits = Set(NormalPlasmaCellTrait.allCases.filter { bits & (1 << $0.rawValue) != 0 })
                let label = EventLabel.normalPlasmaCell(traits: traits, lightChain: chain)
                #expect(label.population == .normalPlasmaCell && label.traits == traits && label.lightChain == chain && label.isValid)
            }
        }
        #expect(EventLabel(code: 10).population == nil && !EventLabel(code: 10).isValid)
        #expect(EventLabel(.aberrantPlasmaCell).description == "aberrant-plasma-cell")
        #expect(EventLabel.normalPlasmaCell(traits: [.cd45Low, .cd19Negative], lightChain: .lambda).description == "normal-plasma-cell[CD19-,CD45dim]/lambda")
    }
}
