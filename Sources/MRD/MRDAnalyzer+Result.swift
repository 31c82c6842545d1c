import Foundation

extension MRDAnalyzer {
    /// Share of a panel channel's events that may be non-finite and be left out (reported with
    /// their count); above it the channel is unreadable and the sample not evaluable.
    static let maximumNonFiniteFraction = 0.01

    /// The result, and the plasma-cell rows counted as aberrant (for the audit file and the plots):
    /// clustering and clonality (``PlasmaCellClustering``), then the call (``MRDDecision``).
    func assemble(full: FullPass, gating: SampleGating, path: String, checksum: String?, totalEvents: Int,
                  panel: [String: String], warnings inherited: [String], qc measured: AcquisitionQC) -> (MRDResult, [Int], PlasmaCellClustering.Outcome) {
        var warnings = inherited
        var qc = measured
        let rules = template.mrd
        let counts = Dictionary(full.gating.gates.map { ($0.id, $0.count) }, uniquingKeysWith: { a, _ in a })
        let nucleated = counts[rules.nucleated] ?? 0
        let pcs = counts[rules.plasmaCells] ?? 0
        let stored = full.columns.count
        // Antibody masking: declared, or detected against the template's normal levels (then the
        // clustering is run again without the masked marker).
        let maskedMarker = rules.masking?.marker ?? "CD38"
        var masking: String? = context.contains(.antiCD38) ? "declared" : nil
        // Each rule's threshold as placed for the sample: below it a cell is negative for the marker.
        let negativeModes = Dictionary(zip(rules.rules, gating.ruleThresholds).compactMap { rule, value in value.flatMap { $0.isFinite ? (rule.marker, Float($0)) : nil } },
                                       uniquingKeysWith: { first, _ in first })
        var clustering = PlasmaCellClustering(rules: rules, ignoredMarkers: masking != nil ? [maskedMarker] : [], reference: reference,
                                              negativeModes: negativeModes, workers: workers)
            .run(rows: full.candidates, stored: stored, columns: full.columns)
        if masking != nil {
            warnings.append("context anti-cd38 declared: \(maskedMarker) is masked on every cell; plasma cells are identified by \(rules.masking?.by ?? "CD138") and \(maskedMarker) is left out of the phenotype comparison, its rule off")
        } else if let m = rules.masking, clustering.medianSource == "sample", let level = clustering.referenceMedians?[m.marker],
                  let by = clustering.referenceMedians?[m.by], let normalLevel = maskingLevel(m.marker), let normalBy = maskingLevel(m.by),
                  level < normalLevel - m.minDrop, by >= normalBy - rules.phenotypeMargin {
            masking = "detected"
            let against = reference == nil ? "the template's normal" : "the normal reference's median"
            warnings.append("anti-CD38 masking detected: the polyclonal plasma cells' \(m.marker) median is \(round6(level)), \(round6(normalLevel - level)) below \(against) \(normalLevel), while \(m.by) is at \(round6(by)) (normal \(normalBy)); plasma cells are identified by \(m.by), and \(m.marker) is left out of the phenotype comparison, its rule off")
            clustering = PlasmaCellClustering(rules: rules, ignoredMarkers: [m.marker], reference: reference, negativeModes: negativeModes,
                                              workers: workers)
                .run(rows: full.candidates, stored: stored, columns: full.columns)
        }
        if masking != nil {
            // A masked marker cannot show hemodilution: indicators whose gates read it are left out.
            let masked = Set(template.qc.indicators.map(\.gate)).intersection(template.gatesReading(maskedMarker))
            if !masked.isEmpty {
                qc = qc.leavingOut(indicatorGates: masked, qc: template.qc)
                warnings.append("hemodilution: \(template.qc.indicators.filter { masked.contains($0.gate) }.map(\.name).joined(separator: ", ")) left out of the judgement (\(masked.count == 1 ? "its gate reads" : "their gates read") the masked \(maskedMarker))")
            }
        }
        if clustering.medianSource == "reference" {
            warnings.append("fewer than \(rules.minNormalPlasmaCells) polyclonal plasma cells: the phenotype is judged by each cluster's distance to the normal reference's subsets, not against the sample's own")
        }
        if clustering.medianSource == "template" {
            warnings.append("fewer than \(rules.minNormalPlasmaCells) polyclonal plasma cells: the phenotype is judged against the template's normal plasma-cell medians (phenotype.normal_medians), not the sample's own")
        }
        if clustering.subsampled {
            warnings.append("plasma cells: \(full.candidateCount) events; clusters were found on a subsample and the rest attached to them")
        }
        if let reference {
            ReferenceSample.attachDistances(to: &clustering, reference: reference, full: full, rules: rules)
        }
        if clustering.ratioSource == "template" {
            warnings.append("fewer than \(rules.minNormalPlasmaCells) polyclonal plasma cells: clonality judged against the template's normal κ:λ of \(rules.normalKappaLambda)")
        }
        // The clone's events: the restricted chain of each MRD cluster.
        let mrdClusters = Set(clustering.clusters.indices.filter { clustering.clusters[$0].role == .mrd })
        var aberrantRows: [Int] = []
        for (row, label32) in clustering.labels.enumerated() where label32 >= 0 && mrdClusters.contains(Int(label32)) {
            let label = Int(label32)
            let restricted: Int8 = clustering.clusters[label].clonality.direction == "kappa" ? 1 : -1
            if clustering.chains[row] == restricted { aberrantRows.append(row) }
        }
        let excess = mrdClusters.reduce(0.0) { $0 + clustering.clusters[$1].clonality.excess }
        let excessLow = mrdClusters.reduce(0.0) { $0 + clustering.clusters[$1].clonality.excessLow }
        let excessHigh = mrdClusters.reduce(0.0) { $0 + clustering.clusters[$1].clonality.excessHigh }
        let aberrant = Int(excess.rounded())
        let monotypic = Int(clustering.clusters.filter { $0.role == .monotypic }.reduce(0.0) { $0 + $1.clonality.excess }.rounded())
        func percent(_ x: Int, of n: Int) -> Double { n > 0 ? 100 * Double(x) / Double(n) : 0 }

        // Phenotype of the clone against the normal reference: of the counted clusters' excess.
        let phenotype = ClonePhenotype.patterns(
            labels: clustering.labels, chains: clustering.chains,
            clusters: Dictionary(uniqueKeysWithValues: mrdClusters.map { ($0, clustering.clusters[$0].clonality) }),
            markers: rules.phenotypeMarkers.map { ($0, full.columns.firstIndex(of: $0)!) }, value: { full.candidates[$0 * stored + $1] },
            reference: clustering.referenceMedians, margin: rules.phenotypeMargin)
        // Light chains.
        let mrdList = mrdClusters.sorted().map { clustering.clusters[$0] }
        let aKappa = mrdList.reduce(0) { $0 + $1.clonality.kappa }, aLambda = mrdList.reduce(0) { $0 + $1.clonality.lambda }
        let directions = Set(mrdList.map(\.clonality.direction))
        let chain = mrdList.isEmpty ? "undetermined" : directions.count == 1 ? directions.first! : "biclonal"
        let allKappa = clustering.clusters.reduce(0) { $0 + $1.clonality.kappa }, allLambda = clustering.clusters.reduce(0) { $0 + $1.clonality.lambda }
        let lightChains = MRDResult.LightChains(aberrant: chain, aberrantKappa: aKappa, aberrantLambda: aLambda,
                                                normalKappa: allKappa - aKappa, normalLambda: allLambda - aLambda,
                                                normalRatio: round6(clustering.referenceRatio))
        // Sensitivity.
        let lod = nucleated > 0 ? Double(rules.minClusterEvents) / Double(nucleated) : nil
        let met = nucleated >= rules.minNucleatedCells && (lod ?? 1) <= rules.targetSensitivity
        var shortfall: [String] = []
        if nucleated < rules.minNucleatedCells { shortfall.append("\(nucleated) nucleated cells, fewer than the minimum \(rules.minNucleatedCells)") }
        if (lod ?? 1) > rules.targetSensitivity {
            shortfall.append("LOD \(lod.map(formatFraction) ?? "—") (\(rules.minClusterEvents) of \(nucleated) nucleated cells) is above the target \(formatFraction(rules.targetSensitivity))")
        }
        var sensitivity = MRDResult.Sensitivity(
            lodEvents: rules.minClusterEvents, lodPercent: lod.map { round6(100 * $0) }, lloqEvents: rules.lloqEvents,
            lloqPercent: nucleated > 0 ? round6(100 * Double(rules.lloqEvents) / Double(nucleated)) : nil,
            reached: lod.map(round6), target: rules.targetSensitivity, minNucleatedCells: rules.minNucleatedCells, met: met,
            imwgReached: (lod ?? 1) <= 1e-5)
        sensitivity.notMetBecause = shortfall
        // What makes the sample unreadable as a whole.
        var unreadable: [String] = []
        if gating.timeExcludedFraction > template.qc.maxTimeExcluded {
            unreadable.append(String(format: "QC failure: the time gate excluded %.1f%% of events (unstable acquisition)", 100 * gating.timeExcludedFraction))
        }
        if nucleated == 0 { unreadable.append("no nucleated cells were found") }
        for (channel, value) in full.constant.sorted(by: { $0.key < $1.key }) {
            unreadable.append("channel \(channel) reads the same value (\(value)) for every event: a dead detector")
        }
        for (channel, bad) in full.nonFinite.sorted(by: { $0.key < $1.key }) where Double(bad) > Self.maximumNonFiniteFraction * Double(max(1, full.events)) {
            unreadable.append("channel \(channel) has \(bad) non-finite values (NaN or infinity) of \(full.events) events: unreadable")
        }
        let hemodiluted = qc.hemodiluted ? (qc.failure(.hemodiluted) ?? "hemodiluted") + " (a negative could be falsely negative)" : nil
        // Failures the decision table weighs on their own (cells, hemodilution, unreadable values and time) are not repeated.
        let weighedApart: Set<AcquisitionQC.FailureKind> = [.tooFewNucleated, .hemodiluted, .nonFinite, .unstableAcquisition]
        let qcOthers = zip(qc.failureKinds, qc.failures).filter { !weighedApart.contains($0.0) }.map(\.1)
        // Gates the call rests on that the data could not place; under antibody masking a gate on
        // the masked marker is expected to fail and the plasma cells are identified without it.
        let (restsOn, countsRestOn) = (template.gatesTheCallRestsOn, template.gatesTheCountsRestOn)
        var gatesOff: [String] = [], countGatesOff: [String] = []
        for off in gating.gatesOff where restsOn.contains(off.id) {
            if masking != nil && off.marker == maskedMarker {
                warnings.append("\(off.id) is switched off under \(maskedMarker) masking, as expected; plasma cells are identified by \(rules.masking?.by ?? "CD138")")
            } else {
                gatesOff.append("gate \(off.id) could not be placed from this sample's data (\(off.reason)): switched off, so the cells it selects are not seen")
                if countsRestOn.contains(off.id) { countGatesOff.append(off.id) }
            }
        }
        var evidence = MRDDecision.Evidence(
            nucleated: nucleated, clonalExcess: aberrant, monotypicExcess: monotypic, monotypicIsPositive: rules.monotypicIsPositive,
            lodEvents: rules.minClusterEvents, lloqEvents: rules.lloqEvents, minNucleated: rules.minNucleatedCells, sensitivityMet: met,
            lodFraction: lod, target: rules.targetSensitivity, polyclonalPlasmaCells: clustering.polyclonalEvents,
            minNormalPlasmaCells: rules.minNormalPlasmaCells, normalPlasmaCellsAbsenceDeclared: context.contains(.postCART),
            hemodiluted: hemodiluted, qcFailures: qcOthers, unreadable: unreadable)
        evidence.gatesOff = gatesOff
        evidence.countGatesOff = countGatesOff
        // The compartment's κ:λ as a whole, against the template's normal range.
        let compartment = PlasmaCellLightChains(chains: clustering.chains, range: rules.normalRange, alpha: rules.clonalityAlpha)
        evidence.compartmentExcess = compartment.monotypicExcess
        evidence.compartmentSkew = compartment.finding
        // Plasma cells without a light chain, clustered (``ChainlessPlasmaCells``): no negative.
        let chainless = ChainlessPlasmaCells(clustering, rows: full.candidates, columns: full.columns, thresholds: gating.thresholds, rules: rules)
        evidence.chainlessExcess = chainless?.excess ?? 0
        evidence.chainlessFinding = chainless?.finding
        let decision = MRDDecision(evidence)
        let call = decision.call
        if pcs == 0 && nucleated > 0 {
            warnings.append("no plasma cells (normal or aberrant) were found: check CD38/CD138 staining, hemodilution, or therapy that removes plasma cells (anti-CD38, anti-BCMA)")
        }
        if let hemodiluted {
            warnings.append("QC: the sample looks \(hemodiluted)")
        }
        if context.contains(.postCART) { warnings.append("context post-car-t declared: a negative does not need normal plasma cells") }
        if (call == .positive || call == .positiveBelowLLOQ) && !met {
            warnings.append("positive with \(nucleated) nucleated cells, fewer than the \(rules.minNucleatedCells) a negative result would need")
        }
        if let note = clustering.lightChainReading.note { warnings.append(note) }
        if let note = clustering.lightChainReading.unreadNote(minimum: rules.minClusterEvents) { warnings.append(note) }
        warnings += clustering.spreadNotes
        warnings += clustering.remainderNotes
        if let finding = chainless?.finding, call == .positive || call == .positiveBelowLLOQ { warnings.append(finding) }
        if let gate = rules.chainlessGate, chainless == nil, pcs > 0 {
            warnings.append("plasma cells without a light chain were not looked for: the light-chain read level or gate \(gate)'s threshold could not be placed for this sample")
        }
        let chainlessClusters = Set(chainless?.populations.map(\.cluster) ?? [])
        for (c, cluster) in clustering.clusters.enumerated() where cluster.size >= rules.minClusterEvents && !chainlessClusters.contains(c) {
            if let note = cluster.note { warnings.append(note) }
        }
        // Below the LOD no MRD number is given, only events. The count is the decision's: the
        // clonal excess, or on the monotypic route the monotypic plasma cells it took.
        let quantified = decision.quantified
        let counted = decision.counted, monotypicRoute = decision.countsMonotypic
        // Normal plasma cells: those of the gate neither counted nor in a cluster that reads too few chains to be judged.
        let unread = clustering.clusters.reduce(0) { $0 + ($1.role == .unread ? $1.size : 0) }
        let normal = max(0, pcs - counted - unread)
        let mrd = quantified && nucleated > 0 ? 100 * Double(counted) / Double(nucleated) : nil
        let interval: [Double]? = quantified && nucleated > 0 ? {
            let exact = ClopperPearson(successes: counted, trials: nucleated)
            if monotypicRoute { return [round6(100 * exact.lower), round6(100 * exact.upper)] }
            return [round6(min(100 * exact.lower, 100 * excessLow / Double(nucleated))), round6(max(100 * exact.upper, 100 * excessHigh / Double(nucleated)))]
        }() : nil
        let listedOrder = Self.listedOrder(clustering.clusters, minimumEvents: rules.minClusterEvents)
        let listed = Self.listed(clustering.clusters, order: listedOrder)
        var clonality = MRDResult.Clonality(
            referenceKappaLambda: round6(clustering.referenceRatio), referenceSource: clustering.ratioSource,
            polyclonalPlasmaCells: clustering.polyclonalEvents, clonalExcess: aberrant,
            clonalExcessCI95: [round6(excessLow), round6(excessHigh)], restrictedEvents: aberrantRows.count, monotypicExcess: monotypic, clusters: listed,
            context: context.map(\.rawValue).sorted(),
            rulesOff: Array(Set(gating.rulesOff.map { template.mrd.rules[$0].marker } + (masking != nil ? [maskedMarker] : []))).sorted(),
            phenotypeReference: clustering.medianSource, masking: masking, plasmaCellKappaLambda: compartment)
        clonality.referenceRatioLogVariance = clustering.ratioLogVariance
        clonality.lightChainReadLevel = clustering.lightChainReading.reported
        clonality.chainless = chainless?.reported(listed: listedOrder)
        let visible = full.gating.gates.filter { !$0.id.contains("~") }
        let referenceUse = referenceRecord
        var result = MRDResult(
            schema: MRDResult.schemaVersion, software: Self.software, file: path, fileSHA256: checksum,
            template: template.name, templateVersion: template.version, templateSHA256: template.checksum,
            totalEvents: totalEvents, panel: panel, channelAssignments: channelAssignments.channels, normalReference: referenceUse,
            gates: visible.map { .init(id: $0.id, parent: $0.parent, count: $0.count, parentCount: $0.parentCount, percentOfParent: round6($0.percentOfParent)) },
            thresholds: gating.thresholds.map { .init(name: $0.name, marker: $0.marker, method: $0.method, value: $0.value.map(round6), upper: $0.upper.map(round6), switchedOff: $0.switchedOff, detail: $0.detail) },
            nucleatedCells: nucleated,
            plasmaCells: .init(count: pcs, percentOfPlasmaCells: nil, percentOfNucleated: round6(percent(pcs, of: nucleated))),
            normalPC: .init(count: normal, percentOfPlasmaCells: round6(percent(normal, of: pcs)), percentOfNucleated: round6(percent(normal, of: nucleated))),
            aberrantPC: .init(count: counted, percentOfPlasmaCells: round6(percent(counted, of: pcs)), percentOfNucleated: round6(percent(counted, of: nucleated))),
            aberrantClusters: mrdList.map(\.size),
            unclusteredAberrantEvents: zip(full.ruleFlags, clustering.labels).filter { $0.0 != 0 && !mrdClusters.contains(Int($0.1)) }.count,
            mrdPercent: mrd.map(round6), mrdCI95Percent: interval,
            sensitivity: sensitivity, phenotype: phenotype, lightChains: lightChains,
            call: call, callText: decision.text, notEvaluableReasons: decision.reasons, warnings: warnings, qc: qc, clonality: clonality)
        result.unreadPC = .init(count: unread, percentOfPlasmaCells: round6(percent(unread, of: pcs)), percentOfNucleated: round6(percent(unread, of: nucleated)))
        return (result, aberrantRows, clustering)
    }

    /// The indices of the clusters a result lists, in their order: every MRD and monotypic one and
    /// the clusters they were found in, then the others of at least `minimumEvents`, 50 at most.
    /// - Complexity: O(clusters log clusters).
    static func listedOrder(_ clusters: [PlasmaCellCluster], minimumEvents: Int) -> [Int] {
        let restricted = clusters.indices.filter { clusters[$0].role == .mrd || clusters[$0].role == .monotypic }
        var keep = Set(restricted).union(restricted.compactMap { clusters[$0].subsetOf })
        for i in clusters.indices where keep.count < 50 && clusters[i].size >= minimumEvents { keep.insert(i) }
        return keep.sorted()
    }

    /// The clusters at `order`'s indices (``listedOrder(_:minimumEvents:)``), `subset_of` renumbered to the listed position.
    /// - Complexity: O(listed clusters).
    static func listed(_ clusters: [PlasmaCellCluster], order: [Int]) -> [PlasmaCellCluster] {
        let position = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0) })
        return order.map { i in
            var cluster = clusters[i]
            cluster.subsetOf = cluster.subsetOf.flatMap { position[$0] }
            return cluster
        }
    }
}
