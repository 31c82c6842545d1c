import Foundation
import MRD
import Synthetic

/// Where a synthetic clone's events went in an analysis: how many of them the counted clusters
/// hold (of their restricted chain), and how many were classed as normal plasma cells.
///
/// A count outside the Poisson band of the truth has two sources, and they call for different
/// remedies. Either the counted clusters miss part of the clone (its tails lie among normal
/// plasma cells, or outside the plasma-cell gate), or they hold the clone and the count's
/// error is the light-chain noise of the normal cells counted with it (the clonal excess
/// subtracts their expected share, not their actual one). The labels tell the two apart.
///
/// A clone event without a determined light chain is not among the counted clusters' events of
/// the restricted chain, and is not in ``inCounted``.
public struct MatrixCloneEvents: Sendable, Equatable {
    public let inCounted: Int
    public let amongNormal: Int

    /// - Parameters:
    ///   - classes: each event's class code and the codes' names (``EventAuditClass``).
    ///   - labels: each event's label code, in file order.
    ///   - clone: the clone's label code.
    /// - Complexity: O(events).
    public init(classes: EventClassCapture.Classes, labels: [UInt8], clone: UInt8) {
        let counted = classes.names.firstIndex(of: EventAuditClass.counted).map(UInt8.init)
        let normal = classes.names.firstIndex(of: EventAuditClass.normal).map(UInt8.init)
        var inCounted = 0, amongNormal = 0
        for (code, label) in zip(classes.codes, labels) where label == clone {
            if code == counted { inCounted += 1 } else if code == normal { amongNormal += 1 }
        }
        (self.inCounted, self.amongNormal) = (inCounted, amongNormal)
    }

    /// The labels file's codes, or nil when there is none; an error when it does not hold one
    /// code per event.
    /// - Complexity: O(events).
    public static func labels(path: String, events: Int) throws -> [UInt8]? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SyntheticError.io(path: path, detail: "the labels file cannot be read")
        }
        guard data.count == events else {
            throw SyntheticError.io(path: path, detail: "the labels file holds \(data.count) bytes, expected one per event (\(events))")
        }
        return [UInt8](data)
    }
}

extension MatrixMeasurement {
    /// The engine's measurement of a matrix file (``ValidationMatrix/run(directory:analysis:progress:)``),
    /// with where the clone's events went (``MatrixCloneEvents``) when the file has labels beside
    /// it (``MarrowGenerator/companionPaths(of:)``) and the analysis reached its full pass.
    /// The per-event classes stay in memory; no audit file is written.
    public init(engine: MRDAnalyzer, path: String, truth: MarrowTruth) throws {
        var analyzer = engine
        let capture = EventClassCapture()
        analyzer.resultsFormat = capture
        let key = path + ".classes"
        self.init(try analyzer.analyze(path: path, eventsOutput: key))
        guard let classes = capture.take(key), let clone = truth.labelCodes[CellPopulation.aberrantPlasmaCell.name],
              let labels = try MatrixCloneEvents.labels(path: MarrowGenerator.companionPaths(of: path).labels, events: classes.codes.count)
        else { return }
        let found = MatrixCloneEvents(classes: classes, labels: labels, clone: clone)
        (cloneInCounted, cloneAmongNormal) = (found.inCounted, found.amongNormal)
    }
}

extension ValidationMatrixReport {
    /// The positive calls on a clone whose count lies outside truth ± 1.96√truth, split by the
    /// clone's events in the counted clusters (nil when no outcome measured them): `lost`, the
    /// undercounts whose counted clusters miss more of the clone than that half-width (`lostEvents`
    /// clone events in all, `lostAmongNormal` of them classed normal plasma cells); `noise`, the
    /// rest (overcounts, and undercounts whose clusters hold the clone within that half-width),
    /// whose error is mostly the chain noise of the normal cells counted with the clone.
    /// `inside` is the median share of the clone in the counted clusters over every measured
    /// positive call.
    /// - Complexity: O(files · log files).
    public var bandMisses: (outside: Int, lost: Int, lostEvents: Int, lostAmongNormal: Int, noise: Int, inside: Double)? {
        let measured = outcomes.filter {
            $0.cloneEvents > 0 && $0.measurement.cloneInCounted != nil
                && ($0.measurement.call == .positive || $0.measurement.call == .positiveBelowLLOQ)
        }
        guard !measured.isEmpty else { return nil }
        let shares = measured.map { Double($0.measurement.cloneInCounted!) / Double($0.cloneEvents) }.sorted()
        var outside = 0, lost = 0, lostEvents = 0, lostAmongNormal = 0, noise = 0
        for o in measured {
            let halfWidth = 1.96 * Double(o.cloneEvents).squareRoot()
            guard abs(Double(o.measurement.counted - o.cloneEvents)) > halfWidth else { continue }
            outside += 1
            let missing = o.cloneEvents - o.measurement.cloneInCounted!
            // An overcount is never the clone's missing events: the normal cells' noise outweighs them.
            if o.measurement.counted < o.cloneEvents && Double(missing) > halfWidth {
                lost += 1
                lostEvents += missing
                lostAmongNormal += o.measurement.cloneAmongNormal ?? 0
            } else {
                noise += 1
            }
        }
        return (outside, lost, lostEvents, lostAmongNormal, noise, shares[(shares.count - 1) / 2])
    }
}
