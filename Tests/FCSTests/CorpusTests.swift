import Foundation
import TestSupport
import Testing
@testable import FCS

/// One data set's reference values from ../shared/fcs-corpus/reference-values.json.
struct ReferenceEntry: Decodable, Sendable {
    let data_set: Int
    let events: Int
    let channels: Int
    let channel_sums: [Double]
    let first_event: [Double]
    let last_event: [Double]
    let agreed_by: String?
}

enum CorpusReference {
    static let entries: [String: [ReferenceEntry]] = {
        guard let corpus = SharedMaterial.corpus,
              let data = try? Data(contentsOf: corpus.appendingPathComponent("reference-values.json")),
              let decoded = try? JSONDecoder().decode([String: [ReferenceEntry]].self, from: data) else { return [:] }
        return decoded
    }()
}

/// Reads every event of a data set as Double, returning sums and first/last events.
/// The reference readers hold values as float32, so sums are also kept of the
/// float32-rounded values (`float32Sums`) for comparison at their precision.
struct DataSetDigest {
    var float32Sums: [Double]
    var events = 0
    var sums: [Double]
    var first: [Double] = []
    var last: [Double] = []

    init(file: FCSFile, dataSet: Int, blockSize: Int = 4096) throws {
        var reader = try file.reader(dataSet: dataSet, blockSize: blockSize)
        var block = reader.makeBlock(of: Double.self)
        sums = [Double](repeating: 0, count: reader.channelCount)
        float32Sums = sums
        while try reader.next(into: &block) {
            for c in 0..<block.channelCount {
                block.withColumn(c) { column in
                    var s = 0.0, r = 0.0
                    for v in column { s += v; r += Double(Float(v)) }
                    sums[c] += s
                    float32Sums[c] += r
                }
            }
            if events == 0 { first = (0..<block.channelCount).map { block[$0, 0] } }
            last = (0..<block.channelCount).map { block[$0, block.count - 1] }
            events += block.count
        }
    }
}

func closeEnough(_ a: Double, _ b: Double) -> Bool {
    a == b || abs(a - b) <= 1e-9 * max(abs(a), abs(b)) || abs(a - b) < 1e-6
}

@Suite("FCS corpus against reference values")
struct CorpusTests {
    /// Files that must be rejected, and the error each must give.
    static let knownBad: [String: @Sendable (FCSError.Reason) -> Bool] = [
        "fcsparser/sample_header.fcs": { if case .truncatedData = $0 { return true } else { return false } },
        "fcsparser/corrupted.fcs": { if case .fileTooShort(10) = $0 { return true } else { return false } },
    ]
    /// Files checked by their own test instead of a reference entry.
    static let checkedElsewhere: Set<String> = ["cytoflow/Beckman Coulter - Cytomics FC500.LMD"]

    static let files: [String] = SharedMaterial.corpusFiles().filter { !$0.hasSuffix(".json") && !$0.hasSuffix(".tsv") && !$0.hasSuffix(".md") }

    @Test("every corpus file matches its reference, or is a known bad file", .enabled(if: SharedMaterial.isAvailable, Comment(rawValue: SharedMaterial.skipMessage)), arguments: files)
    func corpusFile(_ name: String) throws {
        let path = SharedMaterial.corpus!.appendingPathComponent(name).path
        if let expectation = Self.knownBad[name] {
            do {
                _ = try FCSFile(path: path)
                Issue.record("\(name) opened, but it must be rejected")
            } catch {
                #expect(expectation(error.reason), "\(name): wrong error \(error)")
                #expect(error.file == path)
            }
            return
        }
        if Self.checkedElsewhere.contains(name) { return }
        let entries = try #require(CorpusReference.entries[name], "\(name) has no entry in reference-values.json")
        let file = try FCSFile(path: path)
        for entry in entries {
            let dataSet = try file.dataSet(entry.data_set)
            #expect(dataSet.channels.count == entry.channels, "\(name) ds\(entry.data_set): channels")
            #expect(dataSet.eventCount == entry.events, "\(name) ds\(entry.data_set): events")
            let digest = try DataSetDigest(file: file, dataSet: entry.data_set)
            #expect(digest.events == entry.events)
            for c in 0..<min(entry.channels, digest.sums.count) {
                #expect(closeEnough(digest.sums[c], entry.channel_sums[c]) || closeEnough(digest.float32Sums[c], entry.channel_sums[c]),
                        "\(name) ds\(entry.data_set) channel \(c + 1) sum \(digest.sums[c]) vs \(entry.channel_sums[c])")
            }
            // Values are exact here; the references are float32, so compare at that precision.
            #expect(digest.first.map(Float.init) == entry.first_event.map(Float.init), "\(name) ds\(entry.data_set): first event")
            #expect(digest.last.map(Float.init) == entry.last_event.map(Float.init), "\(name) ds\(entry.data_set): last event")
        }
    }

    @Test("a file read from memory gives the same data sets, keywords, warnings, errors and events as read from disk",
          .enabled(if: SharedMaterial.isAvailable, Comment(rawValue: SharedMaterial.skipMessage)), arguments: files)
    func inMemory(_ name: String) throws {
        let path = SharedMaterial.corpus!.appendingPathComponent(name).path
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let fromDisk = Result { () throws(FCSError) in try FCSFile(path: path) }
        let fromMemory = Result { () throws(FCSError) in try FCSFile(bytes: bytes, name: path) }
        switch (fromDisk, fromMemory) {
        case (.failure(let a), .failure(let b)): #expect(a == b)
        case (.success(let disk), .success(let memory)):
            #expect(disk.warnings == memory.warnings && disk.size == memory.size && disk.dataSets.count == memory.dataSets.count)
            for (a, b) in zip(disk.dataSets, memory.dataSets) {
                #expect(a.keywords == b.keywords && a.warnings == b.warnings && a.eventCount == b.eventCount)
            }
            for index in disk.dataSets.indices {
                let a = try DataSetDigest(file: disk, dataSet: index), b = try DataSetDigest(file: memory, dataSet: index)
                #expect(a.events == b.events && a.sums == b.sums && a.first == b.first && a.last == b.last, "\(name) data set \(index)")
            }
        default: Issue.record("\(name): disk \(fromDisk), memory \(fromMemory)")
        }
    }
}
