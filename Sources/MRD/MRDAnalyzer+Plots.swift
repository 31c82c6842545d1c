import Cytometry
import EventCore
import Foundation

/// An analysis with the binned dot plots of the template's `plots` list.
public struct MRDAnalysis: Sendable {
    public let result: MRDResult
    /// In template order; empty when the sample was not gated.
    public let plots: [PlotDensity]
    /// The sample's normal plasma cells, when the analyzer collects them for a reference.
    var referenceSample: ReferenceSample? = nil
    /// The gates as resolved for this sample (data-driven boundaries placed), with the matrix
    /// `.file` compensation stands for; nil when the sample was not gated.
    public internal(set) var resolvedGates: ResolvedGates? = nil
}

/// A sample's resolved gating tree and the file's own compensation, for export.
public struct ResolvedGates: Sendable {
    public let tree: GatingTree
    /// The file's spillover as a matrix, when a gate reads `.file` compensation.
    public let fileCompensation: CompensationMatrix?
    /// The data set analysed (its keywords and event count name the file in an export).
    public let dataSet: EventDataSet
}

extension MRDAnalyzer {
    /// Markers the full pass evaluates, in column order: those kept for aberrant candidates
    /// first (cluster, phenotype, light chains, overlay-plot axes; `stored` of them), then
    /// rule-only markers, then plot-only markers.
    static func columnOrder(rules: MRDRules, plots: [PlotSpec]) -> (columns: [String], stored: Int) {
        let overlayAxes = plots.filter(\.aberrantOverlay).flatMap { [$0.x, $0.y] }
        let groups = [rules.clusterDimensions + rules.phenotypeMarkers + [rules.kappa, rules.lambda] + overlayAxes,
                      rules.rules.map(\.marker), plots.flatMap { [$0.x, $0.y] }]
        var ordered: [String] = []
        var stored = 0
        for (g, group) in groups.enumerated() {
            for m in group where !ordered.contains(m) { ordered.append(m) }
            if g == 0 { stored = ordered.count }
        }
        return (ordered, stored)
    }

    /// Column, mask and range of each plot of the template.
    func plotPlans(gating: SampleGating, tree: GatingTree) throws(MRDError) -> [PlotPlan] {
        let columns = Self.columnOrder(rules: template.mrd, plots: template.plots).columns
        var plans: [PlotPlan] = []
        for spec in template.plots {
            var mask: Int?
            if let population = spec.population {
                guard let index = tree.gates.firstIndex(where: { $0.id == population }) else {
                    throw .template(file: template.path, line: spec.line, column: spec.column, detail: "plot \"\(spec.title)\": gate \(population) is not in the tree")
                }
                mask = index
            }
            plans.append(PlotPlan(spec: spec, xColumn: columns.firstIndex(of: spec.x)!, yColumn: columns.firstIndex(of: spec.y)!, mask: mask,
                                  xRange: spec.xRange ?? defaultRange(spec.x, gating: gating),
                                  yRange: spec.yRange ?? defaultRange(spec.y, gating: gating), bins: PlotPlan.defaultBins))
        }
        return plans
    }

    /// 0…1 for transformed markers; the run's first to last event for untransformed time.
    private func defaultRange(_ marker: String, gating: SampleGating) -> ClosedRange<Double> {
        if template.marker(marker)?.transform == TransformSpec.none {
            if let f = gating.flowRate, f.end > f.start { return f.start...f.end }
            if let extent = gating.extent(of: marker), extent.upperBound > extent.lowerBound { return extent }
        }
        return 0...1
    }

    /// The plots with every plasma cell placed on the overlay plots (the clone's restricted-chain
    /// events of the MRD clusters as points, the rest as density), gates outlined and rule
    /// thresholds drawn.
    func finishPlots(plans: [PlotPlan], full: FullPass, aberrantRows: [Int], gating: SampleGating, result: MRDResult) -> [PlotDensity] {
        guard !plans.isEmpty else { return [] }
        let counted = Set(aberrantRows)
        let gateCounts = Dictionary(result.gates.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let resolved = Dictionary(gating.gates.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let stored = full.columns.count
        var plots: [PlotDensity] = []
        for (p, plan) in plans.enumerated() {
            let spec = plan.spec
            var counts = full.densities[p]
            var undrawn = full.undrawn[p]
            var aberrant: [Float] = []
            if spec.aberrantOverlay {
                let xc = full.columns.firstIndex(of: spec.x)!, yc = full.columns.firstIndex(of: spec.y)!
                for row in 0..<full.candidateCount {
                    let x = full.candidates[row * stored + xc], y = full.candidates[row * stored + yc]
                    if counted.contains(row) {
                        if x.isFinite && y.isFinite { aberrant += [x, y] } else { undrawn += 1 }
                    } else if !plan.add(Double(x), Double(y), to: &counts) {
                        undrawn += 1
                    }
                }
            }
            let populationCount = spec.population.map { gateCounts[$0]?.count ?? 0 } ?? result.totalEvents
            var drawn: [PlotDensity.DrawnGate] = []
            var excluded: [ClosedRange<Double>] = []
            for id in spec.gates {
                guard let templateGate = template.gates.first(where: { $0.id == id }), let count = gateCounts[id] else { continue }
                if case .flowRate = templateGate.kind {
                    excluded = gating.flowRate?.unstable.map { $0.lowerBound...$0.upperBound } ?? []
                    continue
                }
                guard let gate = resolved[id], let outline = outline(gate, x: gating.dimension(spec.x), y: gating.dimension(spec.y)) else { continue }
                drawn.append(.init(id: id, outline: outline, count: count.count, percentOfParent: count.percentOfParent))
            }
            var lines: [PlotDensity.RuleLine] = []
            if spec.rules {
                for (r, rule) in template.mrd.rules.enumerated() where rule.marker == spec.x || rule.marker == spec.y {
                    guard let value = gating.ruleThresholds[r] else { continue }   // switched off
                    lines.append(.init(axis: rule.marker == spec.x ? "x" : "y", value: value,
                                       label: "\(rule.marker) \(rule.aberrant == .above ? "above" : "below") \(String(format: "%.3g", value)) is aberrant"))
                }
            }
            func axis(_ marker: String, _ range: ClosedRange<Double>) -> PlotDensity.Axis {
                let dimension = gating.dimension(marker)
                let channel: String
                if case .channel(let name) = dimension.source { channel = name } else { channel = dimension.label }
                return .init(marker: marker, channel: channel, range: range,
                             ticks: AxisTicks.ticks(transform: dimension.transform?.transform.transformation, range: range))
            }
            var plot = PlotDensity(title: spec.title, population: spec.population, populationCount: populationCount,
                                   x: axis(spec.x, plan.xRange), y: axis(spec.y, plan.yRange), bins: plan.bins, counts: counts,
                                   undrawn: undrawn, overlay: spec.aberrantOverlay, aberrant: aberrant, gates: drawn, rules: lines,
                                   excludedStretches: excluded)
            // The reference's normal subsets behind the plasma cells, in the plot's two markers.
            if let reference, spec.population == template.mrd.plasmaCells,
               let xi = reference.plasmaCells.markers.firstIndex(of: spec.x), let yi = reference.plasmaCells.markers.firstIndex(of: spec.y) {
                let d = reference.plasmaCells.markers.count
                plot.referenceContours = reference.plasmaCells.subsets.enumerated().map { k, s in
                    .init(subset: k, centre: [s.centroid[xi], s.centroid[yi]], covariance: [s.covariance[xi * d + xi], s.covariance[xi * d + yi], s.covariance[yi * d + yi]])
                }
            }
            plots.append(plot)
        }
        return plots
    }

    /// A resolved gate's boundary in the plot's coordinates, when it has one in x or y.
    private func outline(_ gate: Gate, x: GateDimension, y: GateDimension) -> PlotDensity.Outline? {
        switch gate.shape {
        case .rectangle(let dimensions, let minimums, let maximums):
            let xi = dimensions.firstIndex(of: x), yi = dimensions.firstIndex(of: y)
            guard xi != nil || yi != nil else { return nil }
            func finite(_ v: Double?) -> Double? { v.flatMap { $0.isFinite && abs($0) < 1e300 ? $0 : nil } }
            return .rectangle(xMin: xi.flatMap { finite(minimums[$0]) }, xMax: xi.flatMap { finite(maximums[$0]) },
                              yMin: yi.flatMap { finite(minimums[$0]) }, yMax: yi.flatMap { finite(maximums[$0]) })
        case .polygon(let gx, let gy, let vertices):
            if gx == x && gy == y { return .polygon(vertices) }
            if gx == y && gy == x { return .polygon(vertices.map { Vertex($0.y, $0.x) }) }
            return nil
        default:
            return nil
        }
    }
}
