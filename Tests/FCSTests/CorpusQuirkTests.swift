import EventCore
import Foundation
import TestSupport
import Testing
@testable import FCS

/// Corpus files whose quirks must be repaired and reported, and the FC500 file that no reference reader reads.
@Suite("Corpus quirks", .enabled(if: SharedMaterial.isAvailable, Comment(rawValue: SharedMaterial.skipMessage)))
struct CorpusQuirkTests {
    func open(_ name: String) throws -> FCSFile {
        try FCSFile(path: SharedMaterial.corpus!.appendingPathComponent(name).path)
    }

    @Test("each repaired file reports its repair", arguments: [
        ("cytoflow/Accuri - C6.fcs", 0, [ReadWarning.Code.dataOffsetRejected, .dataEndMismatch]),
        ("cytoflow/Beckman Coulter - Cyan.fcs", 0, [.dataOffsetDisagreement]),
        ("FlowKit/data_start_offset_discrepancy_example.fcs", 0, [.dataOffsetRejected]),
        ("FlowKit/data_stop_offset_discrepancy_example.fcs", 0, [.dataOffsetRejected]),
        ("FlowKit/test_comp_example.fcs", 0, [.dataEndMismatch]),
        ("FlowKit/coulter.lmd", 0, [.dataEndMismatch]),
        ("cytoflow/Partec - PAS.FCS", 0, [.dataEndMismatch, .textRepaired]),
        ("fcsparser/SG_2014-09-26_Duplicate_Names.fcs", 0, [.dataEndMismatch]),
        ("cytoflow/Applied Biosystems - Attune.fcs", 0, [.textRepaired]),
        ("flowCore/0877408774.B08", 0, [.textRepaired]),
        ("FlowIO/variable_int_example.fcs", 0, [.timestepInvalid]),
        ("fcsparser/cyflow_cube_8.fcs", 0, [.textRepaired]),
        ("fcsparser/EY_2013-07-19_PBS_FCS_3.1_Well_A1.001.fcs", 0, [.dataEndMismatch, .spilloverIgnored]),
    ])
    func repairsReported(_ name: String, _ dataSet: Int, _ codes: [ReadWarning.Code]) throws {
        let warnings = try open(name).dataSet(dataSet).warnings
        for code in codes {
            #expect(warnings.contains { $0.code == code }, "\(name): no \(code.rawValue) warning in \(warnings)")
        }
    }

    @Test("clean files carry no offset or TEXT warnings", arguments: ["FlowKit/100715.fcs", "FlowIO/G11.fcs", "fcsparser/facs_diva_test.fcs", "fcsparser/fake_large_fcs.fcs"])
    func cleanFiles(_ name: String) throws {
        let warnings = try open(name).dataSet().warnings
        #expect(!warnings.contains { [.dataOffsetRejected, .dataOffsetDisagreement, .dataEndMismatch, .textRepaired].contains($0.code) })
    }

    @Test("the offset rule names both values where HEADER and TEXT disagree")
    func disagreementNamesBoth() throws {
        let warning = try #require(try open("cytoflow/Beckman Coulter - Cyan.fcs").dataSet().warnings.first { $0.code == .dataOffsetDisagreement })
        #expect(warning.message.contains("HEADER says bytes 2284-141219") && warning.message.contains("TEXT says bytes 2330-141265"))
    }

    @Test("spillover keywords of every kind are found")
    func spilloverKinds() throws {
        #expect(try open("FlowCal/Data004.fcs").dataSet().spillover.get()?.source == .spill)
        let accuri = try #require(try open("cytoflow/Accuri - C6.fcs").dataSet().spillover.get())
        #expect(accuri.source == .spillover && accuri.size == 8 && accuri.channels.first == "FL1-A")  // numbers → $PnN
        let gallios = try open("cytoflow/Beckman Coulter - Gallios.LMD")
        #expect(try gallios.dataSet(1).spillover.get()?.source == .spillover)
        let fc500 = try #require(try open("FlowKit/coulter.lmd").dataSet(0).spillover.get())
        #expect(fc500.source == .dfc)
    }

    /// The FC500 file's first data set: $PnB=10 with $PnR=1024, BYTEORD 1,2. Its DATA
    /// segment is 216,577 bytes for 27,072 events × 4 channels: 8 bytes an event
    /// (+1, the usual Beckman off-by-one end), so each 10-bit value sits in a
    /// little-endian 16-bit word; bit-packing would need 135,360 bytes. The second
    /// data set holds the same events as 20-bit linear values, so the linear
    /// channels must agree: FS Lin = floor(FS / 1024), SS Lin = floor(SS / 1024),
    /// event by event. The first event's words are 0x019B 0x0111 0x00B8 0x0086.
    @Test("FC500: the 10-bit data set reads, checked against the 20-bit one event by event")
    func fc500() throws {
        let file = try open("cytoflow/Beckman Coulter - Cytomics FC500.LMD")
        #expect(file.dataSets.count == 2)
        #expect(file.defaultDataSetIndex == 1)
        let tenBit = try file.dataSet(0)
        #expect(tenBit.eventCount == 27_072 && tenBit.channels.map(\.name) == ["FS Lin", "SS Lin", "FL1 Log", "FL2 Log"])
        #expect(tenBit.bytesPerEvent == 8)
        #expect(tenBit.warnings.contains { $0.code == .storageWidth } && tenBit.warnings.contains { $0.code == .dataEndMismatch })
        let twentyBit = try file.dataSet(1)
        #expect(twentyBit.eventCount == 27_072 && twentyBit.channels.count == 8)

        let low = try readAll(file.path, dataSet: 0, blockSize: 5000)
        let high = try readAll(file.path, dataSet: 1, blockSize: 5000)
        #expect(low.count == 27_072 && high.count == 27_072)
        #expect(low[0] == [411, 273, 184, 134])
        #expect(low.allSatisfy { row in row.allSatisfy { $0 >= 0 && $0 <= 1023 } })
        var linearMismatches = 0
        for (a, b) in zip(low, high) {
            if a[0] != (b[0] / 1024).rounded(.down) || a[1] != (b[1] / 1024).rounded(.down) { linearMismatches += 1 }
        }
        #expect(linearMismatches == 0)
        // Log channels: 256 channels a decade over 4 decades against the linear 20-bit FL1 (uncompensated).
        let logDiffs = zip(low, high).compactMap { a, b -> Double? in
            b[2] > 0 ? a[2] - 256 * log10(b[2] / 1_048_576 * 10_000) : nil
        }.sorted()
        #expect(abs(logDiffs[logDiffs.count / 2]) < 2, "median FL1 Log vs log of FL1 within 2 channels")
    }

    @Test("scaled values equal FlowIO's preprocessed truth ($PnE, $PnG)", arguments: [
        ("conformance/gatingml2/data1.fcs", "conformance/flowio-truth/data1_preprocessed.npy"),
        ("fcs-corpus/FlowIO/B01 KC-A-W---91-US.fcs", "conformance/flowio-truth/B01 KC-A-W---91-US_preprocessed_events.npy"),
        ("conformance/gatingml2/data1.fcs", "conformance/flowio-truth/data1_original_events.npy"),
    ])
    func flowIOTruth(_ fcs: String, _ npy: String) throws {
        let root = SharedMaterial.root!
        let truth = try #require(NpyMatrix(path: root.appendingPathComponent(npy).path))
        let rows = try readAll(root.appendingPathComponent(fcs).path, values: npy.contains("original") ? .raw : .scaled, blockSize: 4096)
        #expect(rows.count == truth.rows && rows.first?.count == truth.columns)
        var worst = 0.0
        for (r, row) in rows.enumerated() {
            for (c, value) in row.enumerated() {
                let expected = truth[r, c]
                worst = max(worst, abs(value - expected) / max(1, abs(expected)))
            }
        }
        #expect(worst < 1e-12, "largest relative difference \(worst)")
    }
}
