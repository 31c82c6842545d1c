import EventCore
import Foundation
import HDF5Store
@testable import MRD
@testable import Report
@testable import Synthetic
import Testing
import TestSupport

/// Where a synthetic clone's events went: the in-memory per-event classes, the count of clone
/// events in the counted clusters, and the split of the matrix's band misses.
@Suite("The clone's events in the counted clusters")
struct MatrixCloneEventsTests {
    let directory = TemporaryDirectory()
    static let template = try! GatingTemplate(path: SharedMaterial.packageRoot.appendingPathComponent("gating-templates/legend2-10color.yaml").path)

    @Test("the capture keeps every block's classes and the late classes, hands them out once, and refuses events outside its count")
    func capture() throws {
        let capture = EventClassCapture()
        let writer = try capture.create(path: "k", eventCount: 6, gates: ["a", "b"], classNames: ["x", "y", "z"])
        #expect(writer.membershipBytes == 1)
        func write(_ codes: [UInt8], first: Int) throws {
            let bits = [UInt8](repeating: 0, count: codes.count)
            try codes.withUnsafeBufferPointer { c in try bits.withUnsafeBufferPointer { b in try writer.write(first: first, classes: c, membership: b) } }
        }
        try write([1, 1, 2], first: 3)
        try write([0, 2, 1], first: 0)
        try writer.setClass(2, events: [0, 4])
        #expect(capture.take("k") == nil, "classes before the analysis finished")
        try writer.finish(attributes: [])
        let classes = try #require(capture.take("k"))
        #expect(classes.codes == [2, 2, 1, 1, 2, 2] && classes.names == ["x", "y", "z"])
        #expect(capture.take("k") == nil)
        #expect(throws: EventClassCaptureError.self) {
            try write([0, 0], first: 5)
        }
        #expect(throws: EventClassCaptureError.self) { try writer.setClass(1, events: [6]) }
    }

    @Test("clone events counted by class: only the clone's label, only the counted and normal classes")
    func counting() throws {
        let names = ["excluded by singlets", "nucleated, not a plasma cell", EventAuditClass.normal, EventAuditClass.counted,
                     "aberrant-phenotype plasma cell outside a counted cluster"]
        let classes = EventClassCapture.Classes(codes: [3, 3, 2, 4, 0, 3, 2, 1, 3], names: names)
        let labels: [UInt8] = [11, 11, 11, 11, 11, 5, 5, 11, 128]
        #expect(MatrixCloneEvents(classes: classes, labels: labels, clone: 11) == MatrixCloneEvents.exactly(inCounted: 2, amongNormal: 1))
        // A labels file must hold one code per event.
        let path = directory.path("short.labels")
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: path))
        #expect(try MatrixCloneEvents.labels(path: path, events: 3) == [1, 2, 3])
        #expect(try MatrixCloneEvents.labels(path: directory.path("none.labels"), events: 3) == nil)
        #expect {
            _ = try MatrixCloneEvents.labels(path: path, events: 4)
        } throws: { error in "\(error)".contains(path) && "\(error)".contains("holds 3 bytes, expected one per event (4)") }
    }

    @Test("the matrix's measurement: the same call and count as the plain analysis; the classes are the audit file's; clone events against the labels")
    func measurement() throws {
        let spec = MarrowSpecification(events: 120_000, aberrantFraction: 3e-3, seed: 81)
        let fcs = directory.path("m.fcs"), labelsPath = MarrowGenerator.companionPaths(of: fcs).labels, h5 = directory.path("m.events.h5")
        #expect(labelsPath == directory.path("m.labels"))
        let truth = try MarrowGenerator(spec).write(fcsPath: fcs, labelsPath: labelsPath)
        let engine = MRDAnalyzer(template: Self.template, workers: 2)
        let measured = try MatrixMeasurement(engine: engine, path: fcs, truth: truth)
        var plain = measured
        (plain.cloneInCounted, plain.cloneAmongNormal) = (nil, nil)
        #expect(plain == MatrixMeasurement(try engine.analyze(path: fcs)))
        #expect(measured.call == .positive)
        // The same classes through the HDF5 audit file, read back independently.
        var writing = engine
        writing.resultsFormat = HDF5EventResultsFormat()
        _ = try writing.analyze(path: fcs, eventsOutput: h5)
        let audit = try HDF5EventResults(path: h5)
        let labels = [UInt8](try #require(FileManager.default.contents(atPath: labelsPath)))
        let clone = try #require(truth.labelCodes["aberrant-plasma-cell"])
        let names = audit.classNames
        let inCounted = (0..<spec.events).filter { labels[$0] == clone && names[Int(audit.classes[$0])] == EventAuditClass.counted }.count
        let amongNormal = (0..<spec.events).filter { labels[$0] == clone && names[Int(audit.classes[$0])] == EventAuditClass.normal }.count
        #expect(measured.cloneInCounted == inCounted && measured.cloneAmongNormal == amongNormal)
        // The well-separated clone lies in its counted cluster.
        #expect(Double(inCounted) >= 0.9 * Double(truth.aberrantPlasmaCells) && inCounted <= truth.aberrantPlasmaCells)
        #expect(inCounted + amongNormal <= truth.aberrantPlasmaCells)
    }

    @Test("band misses split into clones the counted clusters miss and clones they hold (the normal cells' chain noise)")
    func bandMisses() throws {
        func outcome(_ clone: Int, counted: Int, inCounted: Int?, amongNormal: Int? = 0, call: MRDResult.Call = .positive) -> MatrixOutcome {
            var m = MatrixMeasurement(call: call, counted: counted, nucleated: 1_000_000)
            (m.cloneInCounted, m.cloneAmongNormal) = (inCounted, amongNormal)
            return MatrixOutcome(condition: "plain", level: 1e-4, seed: 1, events: 2_000_000, cloneEvents: clone, nucleated: 1_000_000,
                                 measurement: m, verdict: .correct, synthArguments: [], error: nil)
        }
        let outcomes = [
            outcome(100, counted: 100, inCounted: 100),            // inside the band (±19.6)
            outcome(100, counted: 70, inCounted: 75, amongNormal: 20),   // outside; 25 missing > 19.6: lost
            outcome(100, counted: 130, inCounted: 99),             // outside; 1 missing: noise
            outcome(100, counted: 78, inCounted: 85),              // outside; 15 missing ≤ 19.6: noise
            outcome(100, counted: 125, inCounted: 70, amongNormal: 30),  // an overcount missing 30: noise, never lost
            outcome(100, counted: 0, inCounted: 0, call: .negative),     // not a positive call
            outcome(0, counted: 0, inCounted: 0, call: .negative),
        ]
        let report = ValidationMatrixReport(plan: ValidationMatrixPlan(), outcomes: outcomes)
        let m = try #require(report.bandMisses)
        #expect(m.outside == 4 && m.lost == 1 && m.lostEvents == 25 && m.lostAmongNormal == 20 && m.noise == 3)
        #expect(m.inside == 0.85)   // shares 1.00, 0.75, 0.99, 0.85, 0.70: the median
        #expect(report.markdown.contains("of the 4 counts outside truth ± 1.96√truth, 1 are undercounts whose counted clusters miss more of the clone than that (25 events, 20 of them among the normal plasma cells); 3 hold it within that or overcount"))
        #expect(report.tsv.split(separator: "\n")[2].hasSuffix("\t75\t20"))
        // Without labels no figure, and empty columns.
        let unmeasured = ValidationMatrixReport(plan: ValidationMatrixPlan(), outcomes: [outcome(100, counted: 70, inCounted: nil, amongNormal: nil)])
        #expect(unmeasured.bandMisses == nil && !unmeasured.markdown.contains("counted clusters (labels"))
        #expect(unmeasured.tsv.split(separator: "\n")[1].hasSuffix("\t\t"))
    }
}

extension MatrixCloneEvents {
    /// The expected figures, for comparison.
    static func exactly(inCounted: Int, amongNormal: Int) -> MatrixCloneEvents {
        let names = [EventAuditClass.counted, EventAuditClass.normal]
        let codes = [UInt8](repeating: 0, count: inCounted) + [UInt8](repeating: 1, count: amongNormal)
        return MatrixCloneEvents(classes: EventClassCapture.Classes(codes: codes, names: names), labels: codes.map { _ in 1 }, clone: 1)
    }
}
