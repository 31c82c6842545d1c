import Cytometry
import EventCore
import FCS
import Foundation
import HDF5Store
import MRD

/// The parsers a fuzzer drives with arbitrary bytes, and the same entry points for replaying
/// saved inputs in tests. Each run must end normally or with a typed error: a crash, a hang or
/// unbounded memory is a defect (docs/reliability.md).
///
/// The FCS reader gets the bytes in memory (the same code path as a file, less the system
/// calls); the HDF5 reader gets them through a scratch file (one per process), since libhdf5
/// opens files by name.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// The FCS reader: HEADER, TEXT, every data set, and every event of each.
    case fcs
    /// The spillover keyword inside a small valid FCS file, then the compensation inverse.
    case spillover
    /// The gating-template loader (YAML).
    case template
    /// The Gating-ML 2.0 importer (XML).
    case gatingml
    /// The HDF5 event-store reader (libhdf5 under it), and every event.
    case hdf5
    /// The FlowJo workspace reader (XML), then each sample's gates, scales and matrix as a tree.
    case flowjo

    /// Runs one input; typed errors are expected outcomes and ignored.
    public func run(_ bytes: [UInt8]) {
        switch self {
        case .fcs: readFCS(bytes)
        case .spillover: readFCS(Self.fcsWithSpillover(bytes), compensate: true)
        case .template: _ = try? GatingTemplate(yaml: String(decoding: bytes, as: UTF8.self), path: "fuzz.yaml")
        case .gatingml:
            if let tree = try? GatingMLImport.read(data: Data(bytes), file: "fuzz.xml") { _ = try? GatingMLExport.document(tree) }
        case .hdf5:
            let path = Self.scratch(bytes, suffix: "h5")
            if let file = try? HDF5EventFile(path: path) { readAll(file) }
        case .flowjo:
            guard let workspace = try? FlowJoWorkspaceReader.read(data: Data(bytes), file: "fuzz.wsp") else { return }
            for sample in workspace.samples { _ = try? sample.gatingTree() }
        }
    }

    private func readFCS(_ bytes: [UInt8], compensate: Bool = false) {
        guard let file = try? FCSFile(bytes: bytes, name: "fuzz.fcs") else { return }
        if compensate {
            for dataSet in file.dataSets { if case .success(let s?) = dataSet.spillover { _ = try? CompensationMatrix(spillover: s) } }
        }
        readAll(file)
    }

    /// Reads every event of every data set as scale values.
    private func readAll(_ file: any EventSource) {
        for index in file.dataSets.indices {
            guard var reader = try? file.eventReader(dataSet: index, blockSize: 4_096) else { continue }
            reader.values = .scaled
            var block = reader.makeBlock(of: Double.self)
            var buffer: [UInt8] = []
            for b in 0..<reader.blockCount { if (try? reader.readBlock(b, into: &block, buffer: &buffer)) == nil { break } }
        }
    }

    /// Writes `bytes` to this process's scratch file and returns its path.
    static func scratch(_ bytes: [UInt8], suffix: String) -> String {
        let path = NSTemporaryDirectory() + "flowmrd-fuzz-\(getpid()).\(suffix)"
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        if descriptor >= 0 {
            _ = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            close(descriptor)
        }
        return path
    }

    /// A valid three-channel FCS 3.1 file whose spillover keyword's value is `bytes` (the first
    /// byte picks $SPILLOVER, SPILL or $COMP; the delimiter is doubled as FCS requires).
    static func fcsWithSpillover(_ bytes: [UInt8]) -> [UInt8] {
        let key = ["$SPILLOVER", "SPILL", "$COMP"][Int(bytes.first ?? 0) % 3]
        var value = Array(bytes.dropFirst())
        if value.isEmpty { value = Array("1".utf8) }
        value = value.flatMap { $0 == UInt8(ascii: "/") ? [$0, $0] : [$0] }
        let events = 4, channels = 3
        var text = "/$BEGINANALYSIS/0/$ENDANALYSIS/0/$BEGINSTEXT/0/$ENDSTEXT/0/$BYTEORD/1,2,3,4/$DATATYPE/F/$MODE/L/$NEXTDATA/0/$PAR/\(channels)/$TOT/\(events)/"
        for (n, name) in ["FL1-A", "FL2-A", "FL3-A"].enumerated() { text += "$P\(n + 1)N/\(name)/$P\(n + 1)B/32/$P\(n + 1)E/0,0/$P\(n + 1)R/1024/" }
        var textBytes = Array(text.utf8) + Array("\(key)/".utf8) + value + Array("/".utf8)
        // Offsets: HEADER 58 bytes, TEXT from 58, DATA right after; $BEGINDATA/$ENDDATA padded to a fixed width.
        let dataBytes = events * channels * 4
        let placeholder = "/$BEGINDATA/00000000000000000000/$ENDDATA/00000000000000000000/"
        let textStart = 58, textEnd = textStart + textBytes.count + placeholder.count - 2
        let dataStart = textEnd + 1, dataEnd = dataStart + dataBytes - 1
        func pad(_ v: Int, _ width: Int) -> String { String(repeating: "0", count: max(0, width - String(v).count)) + String(v) }
        textBytes.removeLast()
        textBytes += Array("/$BEGINDATA/\(pad(dataStart, 20))/$ENDDATA/\(pad(dataEnd, 20))/".utf8)
        func field(_ v: Int) -> String { let s = v <= 99_999_999 ? String(v) : "0"; return String(repeating: " ", count: 8 - s.count) + s }
        let header = "FCS3.1    " + field(textStart) + field(textStart + textBytes.count - 1) + field(dataStart) + field(dataEnd) + field(0) + field(0)
        var file = Array(header.utf8) + textBytes
        for i in 0..<(events * channels) { withUnsafeBytes(of: Float(i).bitPattern.littleEndian) { file += $0 } }
        return file
    }
}
