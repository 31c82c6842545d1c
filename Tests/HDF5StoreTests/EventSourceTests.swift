import Cytometry
import EventCore
import FCS
import Foundation
import Testing
import TestSupport
@testable import HDF5Store

/// One reader protocol, two formats: an HDF5 store converted from an FCS file must give the
/// same data set description, the same scaled values and the same gate membership.
@Suite("HDF5 store as an event source")
struct EventSourceTests {
    let directory = TemporaryDirectory()

    /// A three-event, one-channel FCS file (zeros) in the test folder.
    func tinyFCS(_ name: String) throws -> String {
        let path = directory.path(name)
        let writer = try FCSWriter(path: path, channels: [FCSChannelDescription(name: "FSC-A", range: 1024)], eventCount: 3, durable: false)
        var block = EventBlock<Float>(channelCount: 1, capacity: 3)
        block.setCount(3)
        try writer.append(block)
        try writer.finish()
        return path
    }

    /// Every scaled value of the default data set, channel-major, through the EventReader protocol.
    static func scaledValues(_ source: any EventSource) throws -> [[Float]] {
        var reader = try source.eventReader(dataSet: nil, blockSize: 4_096)
        reader.values = .scaled
        var columns = [[Float]](repeating: [], count: reader.channelCount)
        var block = reader.makeBlock(of: Double.self)
        var buffer: [UInt8] = []
        for b in 0..<reader.blockCount {
            try reader.readBlock(b, into: &block, buffer: &buffer)
            for c in 0..<reader.channelCount { columns[c] += block.column(c).map { Float($0) } }
        }
        return columns
    }

    @Test("every corpus file: channels, markers, scales, spillover and scaled values agree between the FCS file and its HDF5 store",
          .enabled(if: SharedMaterial.isAvailable, Comment(rawValue: SharedMaterial.skipMessage)))
    func corpus() throws {
        var compared = 0
        for name in SharedMaterial.corpusFiles() {
            let path = SharedMaterial.corpus!.appendingPathComponent(name).path
            guard let fcs = try? FCSFile(path: path), let original = try? fcs.dataSet(), original.eventCount > 0 else { continue }
            let h5 = directory.path("c\(compared).h5")
            let summary: HDF5Conversion.Summary
            do { summary = try HDF5Conversion.fcsToHDF5(fcsPath: path, hdf5Path: h5) } catch {
                Issue.record("\(name): conversion failed: \(error)")
                continue
            }
            #expect(summary.warnings.contains { $0.code == .valuesRounded } == original.requiresDoublePrecision, "\(name)")
            let store: any EventSource
            do { store = try EventFile.open(h5) } catch {
                Issue.record("\(name): opening its store failed: \(error)")
                continue
            }
            #expect(store.formatName == "HDF5")
            let described = try store.dataSet(at: nil)
            #expect(described.eventCount == original.eventCount, "\(path)")
            #expect(described.channels == original.channels, "\(path): channel descriptions differ")
            #expect(described.warnings.contains { $0.code == .valuesRounded } == original.requiresDoublePrecision, "\(name)")
            #expect(described.timestep == original.timestep && described.version == original.version, "\(path)")
            #expect((try? described.spillover.get()) == (try? original.spillover.get()), "\(path): spillover differs")
            let a = try Self.scaledValues(fcs), b = try Self.scaledValues(store)
            // Exact where float32 holds the source exactly; otherwise within float32 rounding (reported as values-rounded).
            let tolerance: Float = original.requiresDoublePrecision ? 4 * Float.ulpOfOne : 0
            var differing = 0, first = ""
            for c in a.indices {
                for e in a[c].indices where abs(a[c][e] - b[c][e]) > tolerance * max(abs(a[c][e]), Float.leastNormalMagnitude) && !(a[c][e].isNaN && b[c][e].isNaN) {
                    if differing == 0 { first = "channel \(c) event \(e): \(a[c][e]) vs \(b[c][e])" }
                    differing += 1
                }
            }
            #expect(differing == 0, "\(name): \(differing) scaled values differ, first \(first) (double precision: \(original.requiresDoublePrecision))")
            compared += 1
        }
        #expect(compared >= 20, "only \(compared) corpus files compared")
    }

    @Test("the Gating-ML compliance gates give identical membership on data1.fcs and on its HDF5 store",
          .enabled(if: SharedMaterial.isAvailable, Comment(rawValue: SharedMaterial.skipMessage)))
    func conformanceGates() throws {
        let suite = SharedMaterial.root!.appendingPathComponent("conformance/gatingml2")
        let data = suite.appendingPathComponent("data1.fcs").path
        let h5 = directory.path("data1.h5")
        _ = try HDF5Conversion.fcsToHDF5(fcsPath: data, hdf5Path: h5)
        let tree = try GatingMLImport.read(path: suite.appendingPathComponent("gml/gml_all_gates.xml").path)
        let fromFCS = try TreeEvaluator(tree: tree).evaluate(file: try EventFile.open(data), membership: true, blockSize: 1_024)
        let fromHDF5 = try TreeEvaluator(tree: tree).evaluate(file: try EventFile.open(h5), membership: true, blockSize: 1_024)
        #expect(fromFCS.eventCount == fromHDF5.eventCount && fromFCS.eventCount > 0)
        #expect(tree.gates.count > 20)
        for gate in tree.gates {
            #expect(fromFCS.membership[gate.id] == fromHDF5.membership[gate.id], "gate \(gate.id)")
            #expect(fromFCS.count(gate.id) == fromHDF5.count(gate.id), "gate \(gate.id)")
        }
        // And against the suite's truth for one gate, so both are right rather than equally wrong.
        let truth = try String(contentsOf: suite.appendingPathComponent("truth/Results_Range1.txt"), encoding: .utf8)
            .split(whereSeparator: \.isNewline).filter { $0.trimmingCharacters(in: .whitespaces) == "1" }.count
        #expect(fromHDF5.count("Range1") == truth)
    }

    @Test("EventFile.open picks the format by content: FCS, HDF5, and a file that is neither gets the FCS error")
    func opening() throws {
        let fcsPath = try tinyFCS("x.fcs")
        // An HDF5 store named .fcs is still opened as HDF5.
        let h5 = directory.path("store.fcs")
        _ = try HDF5Conversion.fcsToHDF5(fcsPath: fcsPath, hdf5Path: h5)
        #expect(try EventFile.open(fcsPath).formatName == "FCS")
        #expect(try EventFile.open(h5).formatName == "HDF5")
        let neither = directory.path("n.h5")
        #expect(FileManager.default.createFile(atPath: neither, contents: Data(repeating: 0x41, count: 200)))
        #expect { try EventFile.open(neither) } throws: { ($0 as? FCSError)?.file == neither }
        // The kinds themselves, told from content; an HDF5 signature after a 512-byte user block counts too.
        #expect(EventFileKind.of(path: fcsPath) == .fcs && EventFileKind.of(path: h5) == .hdf5 && EventFileKind.of(path: neither) == .fcs)
        let userBlock = directory.path("ub.bin")
        #expect(FileManager.default.createFile(atPath: userBlock, contents: Data(repeating: 0, count: 512) + Data(EventFileKind.hdf5Signature) + Data(count: 64)))
        #expect(EventFileKind.hdf5SignatureOffset(userBlock) == 512)
        // A dispatch that was given no HDF5 opener (an FCS-only analysis) names the kind and what it opens.
        let fcsOnly = EventFileDispatch([.fcs: FCSFileOpening()])
        #expect(throws: EventFileError(file: h5, .kindNotSupported(kind: .hdf5, supported: [.fcs]))) { try fcsOnly.open(h5, options: ReadOptions()) }
        #expect("\(EventFileError(file: h5, .kindNotSupported(kind: .hdf5, supported: [.fcs])))"
            == "\(h5): this is an HDF5 file (told from its content); this analysis opens only FCS files")
        #expect(try fcsOnly.open(fcsPath, options: ReadOptions()).formatName == "FCS")
        // A data set that is not there is the core's error, for either format.
        let store = try EventFile.open(h5)
        #expect(throws: EventFileError(file: h5, .noSuchDataSet(index: 1, count: 1))) { try store.dataSet(at: 1) }
    }

    @Test("an HDF5 store whose keywords disagree with its columns is an error naming /keywords, not a guess")
    func keywordsDisagree() throws {
        let path = directory.path("k.h5")
        let writer = try HDF5EventWriter(path: path, channelNames: ["FSC-A", "SSC-A"], markers: [nil, nil],
                                         keywords: [("$PAR", "2"), ("$DATATYPE", "F"), ("$P1N", "FSC-A"), ("$P1B", "32"), ("$P2N", "CD45"), ("$P2B", "32")])
        try writer.finish()
        #expect { try HDF5EventFile(path: path) } throws: { error in
            guard let error = error as? HDF5Error else { return false }
            return error.file == path && error.operation == "read /keywords" && error.message.contains("CD45")
        }
        // Without FCS keywords the store is described from its channel and marker lists.
        let bare = directory.path("bare.h5")
        let plain = try HDF5EventWriter(path: bare, channelNames: ["FSC-A", "FITC-A"], markers: [nil, "CD19"])
        try plain.finish()
        let described = try HDF5EventFile(path: bare).dataSets[0]
        #expect(described.channels.map(\.name) == ["FSC-A", "FITC-A"] && described.channels.map(\.marker) == [nil, "CD19"])
    }

    @Test("a store finished while a child process runs opens at once (the child inherited the writer's descriptor; libhdf5's lock made the open fail)")
    func childProcessDoesNotHoldTheLock() throws {
        let path = directory.path("child.h5")
        let writer = try HDF5EventWriter(path: path, channelNames: ["FSC-A", "SSC-A"], markers: [nil, nil])
        // posix_spawn without file actions: the child inherits every descriptor not marked
        // close-on-exec, as with any program a lab's pipeline might start meanwhile.
        var child: pid_t = 0
        let arguments = ["/bin/sleep", "20"]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        try #require(posix_spawn(&child, "/bin/sleep", nil, nil, &argv, environ) == 0)
        defer { kill(child, SIGKILL); var status: Int32 = 0; waitpid(child, &status, 0) }
        try writer.finish()
        let store = try HDF5EventFile(path: path)
        #expect(store.dataSets[0].channels.map(\.name) == ["FSC-A", "SSC-A"])
        #expect(kill(child, 0) == 0, "the child still runs, holding its inherited descriptors")
    }

    @Test("compression (shuffle + deflate) keeps every value and shrinks a compressible matrix; a level outside 1-9 is refused")
    func compression() throws {
        let path = directory.path("z.h5"), plain = directory.path("p.h5")
        for (file, level) in [(path, 4 as Int?), (plain, nil)] {
            let writer = try HDF5EventWriter(path: file, channelNames: ["FSC-A", "SSC-A"], markers: [nil, nil], compression: level)
            var block = EventBlock<Float>(channelCount: 2, capacity: 50_000)
            block.setCount(50_000)
            for e in 0..<50_000 { block[0, e] = Float(e % 64); block[1, e] = 1.5 }
            try writer.append(block)
            try writer.finish()
        }
        let size = { (p: String) in (try FileManager.default.attributesOfItem(atPath: p)[.size] as! NSNumber).intValue }
        #expect(try size(path) * 5 < size(plain))
        let file = try HDF5EventFile(path: path)
        var block = EventBlock<Float>(channelCount: 2, capacity: 50_000)
        try file.read(first: 0, into: &block)
        #expect(block.count == 50_000 && (0..<50_000).allSatisfy { block[0, $0] == Float($0 % 64) && block[1, $0] == 1.5 })
        #expect { try HDF5EventWriter(path: directory.path("bad.h5"), channelNames: ["A"], markers: [nil], compression: 12) } throws: { error in
            (error as? HDF5Error)?.message.contains("1-9") == true
        }
        #expect(!FileManager.default.fileExists(atPath: directory.path("bad.h5.partial")))
    }

    @Test("blocks inside one chunk (direct chunk reads), whole chunks, and blocks across chunk borders all give the stored values",
          arguments: [1_000, 4_096, 16_384, 20_000])
    func blockShapes(blockSize: Int) throws {
        let path = directory.path("shapes.h5")
        let writer = try HDF5EventWriter(path: path, channelNames: ["A", "B", "C"], markers: [nil, nil, nil], chunkRows: 16_384)
        var block = EventBlock<Float>(channelCount: 3, capacity: 7_000)
        var first = 0
        while first < 50_000 {
            let n = min(7_000, 50_000 - first)
            block.setCount(n)
            for e in 0..<n { for c in 0..<3 { block[c, e] = Float((first + e) * 3 + c) } }
            try writer.append(block)
            first += n
        }
        try writer.finish()
        let reader = try HDF5EventFile(path: path).eventReader(dataSet: nil, blockSize: blockSize)
        var read = reader.makeBlock(of: Double.self)
        var buffer: [UInt8] = []
        var wrong = 0
        for b in 0..<reader.blockCount {
            try reader.readBlock(b, into: &read, buffer: &buffer)
            for e in 0..<read.count { for c in 0..<3 where read[c, e] != Double((read.firstEvent + e) * 3 + c) { wrong += 1 } }
        }
        #expect(wrong == 0)
        #expect(reader.eventCount == 50_000)
    }

    @Test("converting a data set the file does not have is a typed error, not a trap; nothing is left behind")
    func missingDataSet() throws {
        let fcsPath = try tinyFCS("one.fcs")
        let out = directory.path("two.h5")
        #expect { try HDF5Conversion.fcsToHDF5(fcsPath: fcsPath, hdf5Path: out, dataSet: 4) } throws: { error in
            guard let error = error as? FCSError else { return false }
            return error.file == fcsPath && "\(error)".contains("4")
        }
        #expect(!FileManager.default.fileExists(atPath: out) && !FileManager.default.fileExists(atPath: out + ".partial"))
    }
}
