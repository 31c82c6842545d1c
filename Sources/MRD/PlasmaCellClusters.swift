import Dispatch
import EventCore
import Foundation

/// Clustering and clonality of every plasma cell of a sample: the stage between the full pass
/// and the call.
///
/// 1. All plasma cells are clustered (``DensityClustering``) in the template's cluster
///    dimensions — not only the ones that break an aberrancy rule.
/// 2. Each cluster large enough for complete restriction to reach `alpha` (about 15 events)
///    has its κ and λ events (`light_chains.margin` apart) tested against the polyclonal ratio
///    r₀ of the *other* polyclonal clusters (``ClonalityTest``, Bonferroni over the clusters
///    tested), re-estimated until the polyclonal set is stable; with fewer than
///    `min_normal_plasma_cells` polyclonal events, the template's `normal_ratio` is used.
///    Polyclonal clusters are searched for a restricted subset (``RestrictedSubsetSearch``);
///    r₀ then comes from the polyclonal clusters that held none (the clone's tails beyond its
///    box stay in the cluster that held it), or, when those have too few events or a κ:λ
///    outside `normal_range`, from every polyclonal cluster without the subsets found; for the
///    count, a holder whose cells beside its counted rows keep the others' κ:λ joins them, as do
///    a restricted cluster's cells outside its clone's box (``RestrictedClusterRemainder``). A cluster
///    that held a subset is not judged restricted as a whole in a later round (the subset is the
///    finding, whatever r₀ then does), and rounds whose r₀ cycles end at the one resting on the
///    most events. The subsets' boxes are widened for the
///    count only where a slab's excess stands beyond r₀'s uncertainty over those clusters and
///    against its own clusters' ratios (``RestrictedSubsetSearch/widen(low:high:values:chains:eligible:kappa:referenceRatio:ratioVariance:groups:)``).
/// 3. The normal reference is the pooled plasma cells of the polyclonal clusters (not a
///    CD19+ CD56− gate, which a CD19+ clone also passes), without those fewer than half of whose
///    events read a chain; each cluster's median per phenotype marker is compared with it, a
///    difference beyond `phenotype.margin` being a departure.
/// 4. Restricted + departure → MRD; restricted only → monotypic; unrestricted with fewer than
///    half its events reading a chain → unread; departure only → normal subset; neither → normal.
///
/// - Complexity: the clustering's (O(n log n) typical), plus O(n · markers · log n) for medians.
struct PlasmaCellClustering {
    let rules: MRDRules
    /// Rows a median is taken over, at most (a deterministic every-k-th subsample beyond).
    static let medianLimit = 50_000
    /// Markers left out of the phenotype comparison (CD38 under declared anti-CD38 masking).
    var ignoredMarkers: Set<String> = []
    /// A normal-marrow reference: the phenotype reference when the sample has too few normal
    /// plasma cells of its own, before the template's `normal_medians`.
    var reference: NormalReference? = nil
    /// Per marker, the level below which a cell is negative for it (the aberrancy rules' thresholds
    /// as placed for the sample): ``ChainSpread`` also measures the cells below it on their own.
    var negativeModes: [String: Float] = [:]
    /// Threads the clustering and the subset search run on, at most (the outcome does not depend on it).
    var workers = ProcessInfoCores.active

    struct Outcome {
        var clusters: [PlasmaCellCluster]
        /// Per row: its cluster index in ``clusters`` (−1: noise).
        var labels: [Int32]
        /// Per row: 1 κ, −1 λ, 0 undetermined.
        var chains: [Int8]
        var referenceRatio: Double
        /// "sample" (from polyclonal clusters) or "template".
        var ratioSource: String
        var polyclonalEvents: Int
        var referenceMedians: [String: Double]?
        /// Where the phenotype reference came from: "sample" (polyclonal clusters), "template"
        /// (`phenotype.normal_medians`, too few normal plasma cells) or "none".
        var medianSource: String
        var subsampled: Bool
        /// Clusters with a marker one chain's spillover spreads (``ChainSpread``), which their subset search left uncut, described.
        var spreadNotes: [String] = []
        /// Subsets whose parent cluster still leans to their chain (``SubsetRemainder``), described.
        var remainderNotes: [String] = []
        /// The variance of log r₀ the intervals hold, by part (nil with the template's ratio).
        var ratioLogVariance: MRDResult.Clonality.RatioLogVariance? = nil
        /// How the chains were read (``LightChainReading``): the level placed, or why not.
        var lightChainReading = LightChainReading(margin: 0, level: -.infinity)
    }

    /// - Parameters: rows of `stored` values each, in the order of `columns`.
    func run(rows: [Float], stored: Int, columns: [String]) -> Outcome {
        let n = stored > 0 ? rows.count / stored : 0
        let clusterColumns = rules.clusterDimensions.map { columns.firstIndex(of: $0)! }
        var clock = PhaseClock()
        let clusterer = DensityClustering(radius: rules.clusterRadius, minNeighbours: rules.clusterMinNeighbours, workers: workers)
        let clustering: DensityClustering.Result
        if clusterColumns == Array(0..<clusterColumns.count) {
            // The cluster dimensions lead every row (``MRDAnalyzer/columnOrder``): read in place.
            clustering = clusterer.cluster(rows: rows, stride: stored, dimensions: clusterColumns.count)
        } else {
            var points: [Float] = []
            points.reserveCapacity(n * clusterColumns.count)
            for i in 0..<n { for c in clusterColumns { points.append(rows[i * stored + c]) } }
            clustering = clusterer.cluster(points: points, dimensions: clusterColumns.count)
        }
        clock.mark("density clusters")
        // Each plasma cell's chain: 1 κ, −1 λ, 0 undetermined (``LightChainReading``).
        let k = columns.firstIndex(of: rules.kappa)!, l = columns.firstIndex(of: rules.lambda)!
        let reading = LightChainReading(rows: rows, stored: stored, kappa: k, lambda: l, margin: rules.lightChainMargin)
        let chains = reading.chains(rows: rows, stored: stored, kappa: k, lambda: l)
        let count = clustering.sizes.count
        var kappa = [Int](repeating: 0, count: count), lambda = [Int](repeating: 0, count: count)
        // Each cluster's rows, as 32-bit row numbers (half the memory of Int at 400,000 plasma cells).
        var members = [[Int32]](repeating: [], count: count)
        for c in 0..<count { members[c].reserveCapacity(clustering.sizes[c]) }   // each list at its size, no growth slack
        for (row, label32) in clustering.labels.enumerated() where label32 >= 0 {
            let label = Int(label32)
            members[label].append(Int32(row))
            if chains[row] == 1 { kappa[label] += 1 } else if chains[row] == -1 { lambda[label] += 1 }
        }
        // Clonality of every cluster large enough to be tested, and a light-chain-guided search
        // for a restricted subset inside each polyclonal one (``RestrictedSubsetSearch``), against
        // the polyclonal ratio r₀: first the template's, then that of the polyclonal clusters
        // without the subsets found, until the restricted set is stable (so a clone never drags
        // its own reference).
        let test = ClonalityTest(alpha: rules.clonalityAlpha, restrictionRatio: rules.restrictionRatio)
        // A cluster is tested when complete restriction could reach alpha at all: n ≥ log α / log(max(p, 1 − p))
        // for the template's polyclonal κ share p (about 15 events at α = 0.001).
        let share = rules.normalKappaLambda / (1 + rules.normalKappaLambda)
        let testable = Int((log(rules.clonalityAlpha) / log(max(share, 1 - share))).rounded(.up))
        let tested = (0..<count).filter { clustering.sizes[$0] >= testable }
        let searchable = tested.filter { clustering.sizes[$0] >= 4 * testable }
        // Bonferroni over every test: one per cluster, two (κ and λ) per searched cluster.
        let alpha = rules.clonalityAlpha / Double(max(1, tested.count + 2 * searchable.count))
        let searchColumns = rules.phenotypeMarkers.filter { !ignoredMarkers.contains($0) }.map { columns.firstIndex(of: $0)! }
        let negativeBelow = searchColumns.map { column in negativeModes[columns[column]] }
        let searcher = RestrictedSubsetSearch(restrictionRatio: rules.restrictionRatio, minimumTestEvents: testable, negativeBelow: negativeBelow)
        var r0 = rules.normalKappaLambda, source = "template"
        var outcomes = [ClonalityTest.Outcome?](repeating: nil, count: count)
        var polyclonal = Set(tested)
        var subsets: [(cluster: Int, found: RestrictedSubsetSearch.Found, kappa: Bool)] = []
        var ratioUncertainty = ReferenceRatioUncertainty.none
        var prepared: [Int: RestrictedSubsetSearch.Prepared] = [:]
        var spreads: [Int: ChainSpread] = [:]
        // Clusters that held a restricted subset in an earlier round: not judged restricted as a
        // whole in a later one, when r₀ has moved (the subset is the finding).
        var held: Set<Int> = []
        // The rounds' r₀ and the events each rested on (0: the template's), and the current one's.
        var visited: [(ratio: Double, source: String, events: Int)] = []
        var events = 0
        // Whether r₀ came from the polyclonal clusters that held no subset, without the holders.
        var othersOnly = false
        var poolCounts = (kappa: 0, lambda: 0)   // the events r₀ rests on, of each chain
        /// Enough events of both chains for a ratio of the sample's own.
        func enough(_ pk: Int, _ pl: Int) -> Bool { pk + pl >= rules.minNormalPlasmaCells && pk > 0 && pl > 0 }
        for _ in 0..<6 {
            for c in tested {
                let o = test.test(kappa: kappa[c], lambda: lambda[c], referenceRatio: r0, alpha: alpha)
                outcomes[c] = o.restricted && held.contains(c) ? o.unrestricted : o
            }
            polyclonal = Set(tested.filter { !outcomes[$0]!.restricted })
            subsets = []
            // Clusters prepared and searched on every core, each on its own; the subsets are
            // then taken in cluster order, κ before λ, as one at a time would give them.
            let open = searchable.filter { polyclonal.contains($0) }
            let unprepared = open.filter { prepared[$0] == nil }
            let (memberRows, chainOf) = (members, chains)
            let inputs = unprepared.map { c in
                let rowsOf = memberRows[c]
                return (MarkerRows(table: rows, stride: stored, columns: searchColumns, rows: rowsOf),
                        rowsOf.map { chainOf[Int($0)] }, rowsOf.map { $0 & 1 == 0 })
            }
            // The dimensions a chain's spillover spreads, which the cluster's search leaves uncut (``ChainSpread``).
            let measured = inputs.map { ChainSpread.measure(values: $0.0, chains: $0.1, measured: $0.2, negativeBelow: negativeBelow, workers: workers) }
            let ready = searcher.prepare(inputs, workers: workers)
            for (i, c) in unprepared.enumerated() {
                prepared[c] = ready[i]
                prepared[c]!.uncut = measured[i].wider.map { $0 != 0 }
                if !measured[i].isNone { spreads[c] = measured[i] }
            }
            let (preparedNow, ratio) = (prepared, r0)
            let searching = parallelMap(2 * open.count, workers: workers) { i in
                searcher.search(preparedNow[open[i / 2]]!, kappa: i % 2 == 0, referenceRatio: ratio, alpha: alpha)
            }
            for i in 0..<(2 * open.count) { if let found = searching[i] { subsets.append((open[i / 2], found, i % 2 == 0)) } }
            // r₀ from the polyclonal clusters that held no restricted subset: a clone's tails
            // beyond its box stay in the cluster it was found in and would lean r₀ toward its
            // chain. When those clusters have too few events, from every polyclonal cluster
            // without the subsets found.
            let holders = Set(subsets.map(\.cluster))
            held.formUnion(holders)
            var k = kappa, l = lambda
            for subset in subsets {
                for i in subset.found.members { let row = Int(members[subset.cluster][i]); if chains[row] == 1 { k[subset.cluster] -= 1 } else if chains[row] == -1 { l[subset.cluster] -= 1 } }
            }
            var from = polyclonal.subtracting(holders)
            var pk = from.reduce(0) { $0 + k[$1] }, pl = from.reduce(0) { $0 + l[$1] }
            // Nor when their ratio lies outside the template's normal κ:λ range: a few cells
            // apart (a spreading island) are no polyclonal reference for the cells that held a subset.
            let fromOthers = !holders.isEmpty && enough(pk, pl) && rules.normalRange.contains(Double(pk) / Double(pl))
            if !fromOthers {
                from = polyclonal
                pk = from.reduce(0) { $0 + k[$1] }
                pl = from.reduce(0) { $0 + l[$1] }
            }
            let sampled = enough(pk, pl)
            let next = sampled ? Double(pk) / Double(pl) : rules.normalKappaLambda
            let nextSource = sampled ? "sample" : "template"
            // The uncertainty of log r₀ over the clusters it came from, for the widening below
            // (none for the template's ratio, which is used as given).
            let nextUncertainty = sampled ? ReferenceRatioUncertainty(clusters: from.sorted().map { (k[$0], l[$0]) }) : .none
            if next == r0 && nextSource == source {
                ratioUncertainty = nextUncertainty
                poolCounts = (pk, pl)
                othersOnly = fromOthers
                break
            }
            // A cycle (r₀ back to an earlier round's, the subsets found and lost in turn): it ends
            // at the round whose r₀ rests on the most events, never at a few cells' ratio.
            if let start = visited.lastIndex(where: { $0.ratio == next && $0.source == nextSource }),
               visited[start...].allSatisfy({ $0.events <= events }) { break }
            visited.append((r0, source, events))
            (r0, source, ratioUncertainty, events, poolCounts) = (next, nextSource, nextUncertainty, sampled ? pk + pl : 0, (pk, pl))
            othersOnly = fromOthers
        }
        clock.mark("clonality and subset search")
        // The normal cells' own κ:λ heterogeneity along the markers (``ReferenceRatioUncertainty/alongMarkers(values:chains:bins:sampleLimit:workers:)``),
        // with a ratio of the sample's own: it joins the between-cluster τ² (the larger of the two)
        // for the widening and the intervals. Measured on the polyclonal clusters that
        // held no subset (a clone's tails beyond its box, left in the cluster that held it, are no
        // normal heterogeneity; r₀ prefers them too), or on every polyclonal cluster without the subsets found when
        // those have too few events of either chain.
        var withinClusters = 0.0
        if source == "sample" {
            var normalRows = polyclonal.subtracting(subsets.map(\.cluster)).sorted().flatMap { members[$0] }
            let kappaRows = normalRows.reduce(0) { $0 + (chains[Int($1)] == 1 ? 1 : 0) }, lambdaRows = normalRows.reduce(0) { $0 + (chains[Int($1)] == -1 ? 1 : 0) }
            if !enough(kappaRows, lambdaRows) {
                var inSubset = Set<Int32>()
                for subset in subsets { for i in subset.found.members { inSubset.insert(members[subset.cluster][i]) } }
                normalRows = polyclonal.sorted().flatMap { members[$0] }.filter { !inSubset.contains($0) }
            }
            withinClusters = ReferenceRatioUncertainty.alongMarkers(values: MarkerRows(table: rows, stride: stored, columns: searchColumns, rows: normalRows),
                                                                    chains: normalRows.map { chains[Int($0)] }, workers: workers)
        }
        let ratioVariance = ratioUncertainty.sampling + max(ratioUncertainty.between, withinClusters)
        clock.mark("within-cluster heterogeneity")
        releaseFreedMemory()
        for c in 0..<count where outcomes[c] == nil {
            // Too small to test: described against the sample's ratio, never restricted.
            outcomes[c] = test.test(kappa: kappa[c], lambda: lambda[c], referenceRatio: r0, alpha: alpha).unrestricted
        }
        // Subsets become clusters of their own (appended, after the density clusters): the box,
        // widened over every plasma cell not in a restricted cluster, takes its events out of
        // whatever cluster (or noise) held them.
        var labels = clustering.labels
        var sizes = clustering.sizes
        var parents = [Int?](repeating: nil, count: count)
        var deciding: [ClonalityTest.Outcome?] = outcomes
        // The rows whose phenotype is compared with the reference: the cluster's, or for a subset
        // the box that decided (its widening only adds to the count).
        var phenotypeRows: [[Int32]?] = [[Int32]?](repeating: nil, count: count)
        let densityMembers = members
        let all = MarkerRows(table: rows, stride: max(1, stored), columns: searchColumns)
        // Each subset's counted rows (``countedRows``).
        let (counted, sliceNotes) = countedRows(subsets: subsets, labels: labels, polyclonal: polyclonal, chains: chains, values: all,
                                  prepared: prepared, searcher: searcher, referenceRatio: r0, alpha: alpha,
                                  ratioVariance: ratioVariance)
        // The clusters taken out of the density clusters: each subset's counted rows; and when
        // nothing was restricted, a restricted group of rule breakers (``AberrancySignatureSearch``).
        var taken = zip(subsets, counted).map { subset, rowsIn in
            (rows: rowsIn, phenotype: Optional(subset.found.members.map { densityMembers[subset.cluster][$0] }), parent: Optional(subset.cluster),
             decision: subset.found.test)
        }
        var signatureNotes: [String] = []
        if subsets.isEmpty && !tested.contains(where: { outcomes[$0]?.restricted == true }) {
            let (names, placed) = placedRules
            let spread = Set(spreads.values.flatMap { s in s.wider.indices.filter { s.wider[$0] != 0 } })
            if let found = AberrancySignatureSearch.search(rules: placed, values: all, chains: chains,
                                                          spread: spread, test: test, referenceRatio: r0, alpha: rules.clonalityAlpha, mirror: searcher) {
                taken.append((found.rows, nil, nil, found.outcome))
                signatureNotes.append(AberrancySignatureSearch.note(found, names: names))
            }
        }
        var halves: [ClonalityTest.Outcome] = []
        // The signature group's host: the polyclonal cluster that gave most of its rows, and the group's index.
        var signatureHost: (cluster: Int, group: Int)?
        for (rowsIn, phenotype, parent, decision) in taken {
            guard !rowsIn.isEmpty else { continue }
            let index = sizes.count
            var sk = 0, sl = 0
            var given: [Int: Int] = [:]   // a signature group's rows per cluster they came from
            for row in rowsIn {
                let from = Int(labels[row])
                if from >= 0 {
                    if parent == nil { given[from, default: 0] += 1 }
                    sizes[from] -= 1
                    if chains[row] == 1 { kappa[from] -= 1 } else if chains[row] == -1 { lambda[from] -= 1 }
                }
                labels[row] = Int32(index)
                if chains[row] == 1 { sk += 1 } else if chains[row] == -1 { sl += 1 }
            }
            members = members.map { $0.filter { labels[Int($0)] != Int32(index) } }
            members.append(rowsIn.map { Int32($0) })
            phenotypeRows.append(phenotype)
            kappa.append(sk)
            lambda.append(sl)
            sizes.append(rowsIn.count)
            parents.append(parent)
            halves.append(decision)
            if parent == nil, let host = given.filter({ polyclonal.contains($0.key) }).max(by: { ($0.value, -$0.key) < ($1.value, -$1.key) })?.key {
                signatureHost = (host, index)
            }
        }
        // The count's r₀ (``PlasmaCellClustering/countPool(_:holders:othersOnly:polyclonal:kappa:lambda:restricted:members:table:chains:searcher:referenceRatio:alpha:ratioVariance:)``):
        // the polyclonal clusters', with the holders and the restricted clusters' remainders that agree with them.
        var countNotes = sliceNotes + signatureNotes
        if source == "sample" {
            let restricted = (0..<count).filter { outcomes[$0]?.restricted == true }.map { ($0, outcomes[$0]!.direction == "kappa") }
            let (pool, notes) = countPool(poolCounts, holders: Set(parents.compactMap { $0 }), othersOnly: othersOnly,
                                          polyclonal: polyclonal, kappa: kappa, lambda: lambda, restricted: restricted, members: members,
                                          table: (rows, stored, searchColumns), chains: chains, searcher: searcher, referenceRatio: r0,
                                          alpha: alpha, ratioVariance: ratioVariance)
            countNotes += notes
            if pool != poolCounts {
                r0 = Double(pool.kappa) / Double(pool.lambda)
                // The intervals' sampling variance from the same cells (a cluster the widening left
                // with one chain included); the widening, done, keeps its τ².
                ratioUncertainty = ReferenceRatioUncertainty(sampling: 1 / Double(pool.kappa) + 1 / Double(pool.lambda), between: ratioUncertainty.between)
            }
        }
        // The count is the clonal excess over all its events, against the count's r₀; the round's
        // test (a subset's test half) decided restriction.
        for c in 0..<count where deciding[c]!.restricted && deciding[c]!.referenceRatio != r0 {
            deciding[c] = test.test(kappa: kappa[c], lambda: lambda[c], referenceRatio: r0, alpha: alpha).counted(as: deciding[c]!)
        }
        for (i, half) in halves.enumerated() {
            let c = count + i
            deciding.append(test.test(kappa: kappa[c], lambda: lambda[c], referenceRatio: r0, alpha: alpha).counted(as: half))
        }
        // The prepared searches are done with: their ordered copies go back to the system before the medians.
        prepared = [:]
        releaseFreedMemory()
        for c in 0..<count where tested.contains(c) && polyclonal.contains(c) && (sizes[c] != clustering.sizes[c] || outcomes[c]!.referenceRatio != r0) {
            deciding[c] = test.test(kappa: kappa[c], lambda: lambda[c], referenceRatio: r0, alpha: alpha)
            if deciding[c]!.restricted { deciding[c] = outcomes[c] }
        }
        clock.mark("subsets widened")
        let reportedRatio = r0
        // The polyclonal clusters that read enough chains to be judged (not ``PlasmaCellCluster/Role/unread``):
        // the normal reference is their pooled members (without the subsets); a signature group's host is judged against the others.
        let judged = polyclonal.sorted().filter { !PlasmaCellCluster.readsFewChains(kappa: kappa[$0], lambda: lambda[$0], size: sizes[$0]) }
        let referenceLists = judged.map { members[$0] }
        let referenceCount = referenceLists.reduce(0) { $0 + $1.count }
        let phenotypeColumns = rules.phenotypeMarkers.filter { !ignoredMarkers.contains($0) }.map { ($0, columns.firstIndex(of: $0)!) }
        // Medians of at most `medianLimit` rows (every k-th beyond it: the phenotype comparison
        // needs the level to well within `phenotype.margin`, not every event).
        @Sendable func median(_ rowsOf: [Int32], _ c: Int) -> Double? { median(of: [rowsOf], count: rowsOf.count, c) }
        // Of the rows of several lists taken one after another (not joined: the pooled normal
        // rows would be a copy as large as the labels).
        @Sendable func median(of lists: [[Int32]], count: Int, _ c: Int) -> Double? {
            let step = max(1, (count + Self.medianLimit - 1) / Self.medianLimit)
            var values: [Double] = []
            values.reserveCapacity((count + step - 1) / step)
            var position = 0   // index of the list's first row in the joined order
            for list in lists {
                var j = (step - position % step) % step
                while j < list.count { values.append(Double(rows[Int(list[j]) * stored + c])); j += step }
                position += list.count
            }
            return ThresholdFinder.quantile(values, 0.5)
        }
        var reference: [String: Double]?
        var medianSource = "none"
        if referenceCount >= rules.minNormalPlasmaCells {
            var medians: [String: Double] = [:]
            let pooled = parallelMap(phenotypeColumns.count, workers: workers) { k in median(of: referenceLists, count: referenceCount, phenotypeColumns[k].1) }
            for (k, (name, _)) in phenotypeColumns.enumerated() { medians[name] = pooled[k] }
            reference = medians
            medianSource = "sample"
        } else if let normal = self.reference {
            // Too few normal plasma cells of the sample's own: the normal reference's subsets.
            reference = normal.plasmaCells.medians.mapValues(\.p50).filter { entry in phenotypeColumns.contains { $0.0 == entry.key } }
            medianSource = "reference"
        } else if !rules.normalMedians.isEmpty {
            // Too few normal plasma cells of the sample's own (after BCMA CAR-T): the template's.
            reference = rules.normalMedians.filter { entry in phenotypeColumns.contains { $0.0 == entry.key } }
            medianSource = "template"
        }
        // Every cluster's medians, clusters on `workers` threads (each list read in place).
        let comparesMedians = medianSource != "reference" && reference != nil
        let (rowLists, memberLists) = (phenotypeRows, members)
        // A restricted cluster or box that holds at least `min_normal_plasma_cells` events of the
        // other chain also holds normal cells of its own: the median of its excess (``ExcessMedian``).
        let (decided, ratio, minimumOther, chainOf) = (deciding, r0, rules.minNormalPlasmaCells, chains)
        let clusterMedians = parallelMap(comparesMedians ? sizes.count : 0, workers: workers) { c -> [Double?] in
            let rowsOf = rowLists[c] ?? memberLists[c]
            if let o = decided[c], o.restricted {
                let want: Int8 = o.direction == "kappa" ? 1 : -1
                let step = max(1, (rowsOf.count + Self.medianLimit - 1) / Self.medianLimit)
                let sample = stride(from: 0, to: rowsOf.count, by: step).map { Int(rowsOf[$0]) }
                let sampleChains = sample.map { chainOf[$0] }
                if sampleChains.reduce(0, { $0 + ($1 == -want ? 1 : 0) }) >= minimumOther {
                    return phenotypeColumns.map { column in
                        ExcessMedian.median(values: sample.map { rows[$0 * stored + column.1] }, chains: sampleChains, want: want,
                                            ratio: want == 1 ? ratio : 1 / ratio) ?? median(rowsOf, column.1)
                    }
                }
            }
            return phenotypeColumns.map { median(rowsOf, $0.1) }
        }
        // The intervals of restricted clusters' excess hold the uncertainty of r₀ as the ratio of the
        // normal cells inside them (``ReferenceRatioUncertainty``): only a sample's own r₀ has one
        // that can be estimated; the template's ratio is used as given.
        var ratioLogVariance: MRDResult.Clonality.RatioLogVariance?
        var remainderNotes = countNotes
        if source == "sample" {
            // The sampling variance is r₀'s own (the clusters it came from, often fewer than the
            // pool: every polyclonal cluster's 1/κ + 1/λ would claim a precision r₀ does not have).
            let pooled = ReferenceRatioUncertainty(clusters: polyclonal.sorted().map { (kappa[$0], lambda[$0]) })
            let uncertainty = ReferenceRatioUncertainty(sampling: ratioUncertainty.sampling, between: max(pooled.between, withinClusters))
            ratioLogVariance = .init(sampling: round6(ratioUncertainty.sampling), betweenClusters: round6(pooled.between), withinClusters: round6(withinClusters))
            for c in deciding.indices where deciding[c]?.restricted == true { deciding[c] = uncertainty.widened(deciding[c]!) }
            // A subset's parent that still leans to its chain (``SubsetRemainder``, with the widening's
            // variance): the count is a lower bound, and the interval's upper end holds the remainder.
            var extended = Set<Int>()   // once per parent and chain: 2 · parent, + 1 for κ
            for c in count..<sizes.count where deciding[c]?.restricted == true {
                let towardsKappa = deciding[c]!.direction == "kappa"
                guard let p = parents[c], extended.insert(2 * p + (towardsKappa ? 1 : 0)).inserted else { continue }
                let remainder = SubsetRemainder(kappa: kappa[p], lambda: lambda[p], referenceRatio: r0,
                                                towardsKappa: towardsKappa, ratioVariance: ratioVariance)
                guard remainder.standsOut else { continue }
                deciding[c] = remainder.extending(deciding[c]!)
                remainderNotes.append(remainder.note(subsetEvents: sizes[c], counted: deciding[c]!.excess))
            }
            // A signature group's host that still leans to its chain, against the other polyclonal clusters.
            if let (host, c) = signatureHost, deciding[c]?.restricted == true {
                let others = judged.filter { $0 != host }.map { (kappa: kappa[$0], lambda: lambda[$0]) }
                if let remainder = SubsetRemainder.leftByGroup(host: (kappa[host], lambda[host]), others: others, withinClusters: withinClusters,
                                                               towardsKappa: deciding[c]!.direction == "kappa", enough: enough) {
                    deciding[c] = remainder.extending(deciding[c]!)
                    remainderNotes.append(remainder.groupNote(groupEvents: sizes[c], counted: deciding[c]!.excess, hostEvents: sizes[host]))
                }
            }
        }
        var clusters: [PlasmaCellCluster] = []
        let aberrantSide = Dictionary(rules.rules.map { ($0.marker, $0.aberrant) }, uniquingKeysWith: { first, _ in first })
        for c in 0..<sizes.count {
            var departures: [PlasmaCellCluster.Departure] = []
            var distance: ReferenceDistance?
            // Against the sample's own normal plasma cells (or the template's medians), a departure
            // is a median beyond the margin, on the side the marker's aberrancy rule names when it
            // has one: myeloma loses CD19 or gains CD117, never the reverse, and a median below
            // normal plasma cells that lack the marker is one chain's spillover spreading.
            if medianSource != "reference", let reference {
                for (k, (name, _)) in phenotypeColumns.enumerated() {
                    guard let m = clusterMedians[c][k], let r = reference[name], abs(m - r) > rules.phenotypeMargin else { continue }
                    if let side = aberrantSide[name], (side == .below) != (m < r) { continue }
                    departures.append(.init(marker: name, difference: round6(m - r)))
                }
            }
            // Against a normal-marrow reference, the cluster is also distinct when outside every
            // normal subset (``NormalReference/isDistinct(_:)``): the departures it adds are the
            // markers beyond 2 SD (or the farthest one).
            if let normal = self.reference {
                let rowsOf = phenotypeRows[c] ?? members[c]
                let mean = normal.plasmaCells.markers.map { name -> Double in
                    guard let column = columns.firstIndex(of: name), !rowsOf.isEmpty else { return .nan }
                    return rowsOf.reduce(0.0) { $0 + Double(rows[Int($1) * stored + column]) } / Double(rowsOf.count)
                }
                distance = mean.allSatisfy(\.isFinite) ? normal.distance(of: mean, ignoring: ignoredMarkers) : nil
                if let distance, NormalReference.isDistinct(distance) {
                    let subset = normal.plasmaCells.subsets[distance.nearestSubset]
                    let far = distance.markers.filter { abs($0.value) > NormalReference.departureSD }.map(\.key)
                    let named = far.isEmpty ? [distance.markers.max { abs($0.value) < abs($1.value) }!.key] : far
                    for name in normal.plasmaCells.markers where named.contains(name) && !departures.contains(where: { $0.marker == name }) {
                        let i = normal.plasmaCells.markers.firstIndex(of: name)!
                        departures.append(.init(marker: name, difference: round6(mean[i] - subset.centroid[i])))
                    }
                }
            }
            let restricted = deciding[c]!.restricted
            let role = PlasmaCellCluster.Role.of(restricted: restricted, departing: !departures.isEmpty, kappa: kappa[c], lambda: lambda[c], size: sizes[c])
            clusters.append(PlasmaCellCluster(size: sizes[c], role: role, clonality: deciding[c]!, departures: departures, subsetOf: parents[c],
                                              referenceDistance: distance))
        }
        clock.mark("medians and roles")
        clock.report()
        let searchNames = phenotypeColumns.map(\.0)   // the search's markers, in its dimensions' order
        let spreadNotes = spreads.keys.sorted().map { spreads[$0]!.note(clusterEvents: clustering.sizes[$0], markers: searchNames) }
        return Outcome(clusters: clusters, labels: labels, chains: chains, referenceRatio: reportedRatio, ratioSource: source,
                       polyclonalEvents: polyclonal.reduce(0) { $0 + kappa[$1] + lambda[$1] }, referenceMedians: reference, medianSource: medianSource,
                       subsampled: clustering.subsampled, spreadNotes: spreadNotes, remainderNotes: remainderNotes,
                       ratioLogVariance: ratioLogVariance, lightChainReading: reading)
    }
}
