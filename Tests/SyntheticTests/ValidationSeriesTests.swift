import Foundation
import Testing
import TestSupport
import FCS
@testable import Synthetic

@Suite("Validation series statistics")
struct ValidationSeriesTests {
    func replicate(_ expected: Int, _ measured: Int, nucleated: Int = 1_000_000) -> ValidationReport.Replicate {
        ValidationReport.Replicate(seed: 0, expectedAberrant: expected, expectedNucleated: nucleated,
                                   expectedMRDPercent: 100 * Double(expected) / Double(nucleated),
                                   measured: ValidationMeasurement(aberrant: measured, nucleated: nucleated),
                                   measuredMRDPercent: 100 * Double(measured) / Double(nucleated))
    }

    @Test("recovery, CV, log–log linearity, LoB, LOD and LLOQ on known numbers")
    func knownNumbers() {
        var plan = ValidationPlan()
        plan.levels = [1e-2, 1e-3, 1e-4, 1e-5, 0]
        let report = ValidationSeries.summarize(plan: plan, levels: [
            (1e-2, [replicate(10_000, 9_000), replicate(10_000, 11_000)]),
            (1e-3, [replicate(1_000, 900), replicate(1_000, 1_100)]),
            (1e-4, [replicate(100, 90), replicate(100, 110)]),
            (1e-5, [replicate(10, 4), replicate(10, 16)]),
            (0, [replicate(0, 0), replicate(0, 2)]),
        ])
        #expect(report.levels[0].recovery == 1)
        // CV of 0.9% and 1.1%: sd = 0.1414…, mean 1 → 14.1%.
        #expect(abs(report.levels[0].cv! - 0.14142135623730953) < 1e-12)
        #expect(abs(report.levels[3].cv! - 0.848528137423857) < 1e-12)
        // Values from numpy.polyfit on the same log–log points.
        #expect(abs(report.slope! - 1.0284182830920492) < 1e-12)
        #expect(abs(report.intercept! - 0.016763119360141188) < 1e-12)
        #expect(abs(report.rSquared! - 0.9816218257897691) < 1e-12)
        // Blanks 0 and 2: mean 1, sd √2 → LoB = 1 + 1.645·√2.
        #expect(abs(report.limitOfBlankEvents! - (1 + 1.645 * 2.0.squareRoot())) < 1e-12)
        // Lowest level with ≥ 5 expected events is 1e-5 (counts 4 and 16: sd √72).
        #expect(abs(report.limitOfDetectionEvents! - (report.limitOfBlankEvents! + 1.645 * 72.0.squareRoot())) < 1e-9)
        #expect(report.lowerLimitOfQuantitation == 1e-4)
        #expect(report.passed)
    }

    @Test("a biased analysis or a positive blank fails the criteria")
    func failures() {
        let plan = ValidationPlan()
        let biased = ValidationSeries.summarize(plan: plan, levels: [
            (1e-2, [replicate(10_000, 5_000), replicate(10_000, 5_100)]),
            (1e-3, [replicate(1_000, 490), replicate(1_000, 510)]),
            (0, [replicate(0, 0), replicate(0, 40)]),
        ])
        #expect(!biased.passed)
        #expect(biased.criteria.contains { $0.name == "blanks called positive" && !$0.passed })
        #expect(biased.criteria.contains { $0.name == "LLOQ" && !$0.passed })
    }

    @Test("an end-to-end series through the truth analysis is exact")
    func endToEnd() throws {
        var plan = ValidationPlan()
        plan.levels = [1e-2, 1e-3, 0]
        plan.replicates = 2
        plan.eventsPerFile = 20_000
        let directory = TemporaryDirectory()
        let report = try ValidationSeries(plan: plan).run(directory: directory.url.path) { _, truth in
            ValidationMeasurement(aberrant: truth.aberrantPlasmaCells, nucleated: truth.nucleatedCells)
        }
        #expect(report.levels.map(\.recovery) == [1, 1, nil])
        #expect(report.slope.map { abs($0 - 1) < 1e-12 } == true)
        #expect(report.passed)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.url.path).isEmpty, "series files are removed")
    }

    @Test("two series running at once in one folder keep their files apart, and both leave it empty")
    func concurrentSeries() async throws {
        var plan = ValidationPlan()
        plan.levels = [1e-2, 0]
        plan.replicates = 2
        plan.eventsPerFile = 20_000
        let directory = TemporaryDirectory()
        let path = directory.url.path
        let fixedPlan = plan
        async let first = Task.detached {
            try ValidationSeries(plan: fixedPlan).run(directory: path) { file, truth in
                // The file must still be there, with the events the truth says.
                let events = try FCSFile(path: file).dataSets[0].eventCount
                return ValidationMeasurement(aberrant: events == truth.specification.events ? truth.aberrantPlasmaCells : -1, nucleated: truth.nucleatedCells)
            }
        }.value
        async let second = Task.detached {
            try ValidationSeries(plan: fixedPlan).run(directory: path) { file, truth in
                let events = try FCSFile(path: file).dataSets[0].eventCount
                return ValidationMeasurement(aberrant: events == truth.specification.events ? truth.aberrantPlasmaCells : -1, nucleated: truth.nucleatedCells)
            }
        }.value
        let reports = try await [first, second]
        for report in reports {
            #expect(report.levels.first?.recovery == 1)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: path).isEmpty)
    }
}
