import EventCore
import Cytometry
import FCS
import Foundation

/// The names of the audit file's plasma-cell classes that a reader of the classes looks for.
public enum EventAuditClass {
    /// A counted cluster's events of its restricted chain.
    public static let counted = "restricted-chain plasma cell of a counted cluster"
    /// A plasma cell that met no aberrancy rule, outside the counted clusters' restricted-chain events.
    public static let normal = "normal plasma cell"
}

/// The per-event audit file of an analysis (`flowmrd analyze --events-out`): every event's
/// gate membership bits and its final class, with the JSON result as a root attribute, in an
/// file written atomically in the analyzer's ``EventResultsFormat`` (HDF5 from the command line).
///
/// Classes, by code: one "excluded by <gate>" class per gate on the path from the root to the
/// nucleated gate (for the bundled template: time-stable = unstable flow, singlets = doublet,
/// non-debris = debris, nucleated = erythrocyte), then "nucleated, not a plasma cell",
/// "normal plasma cell", "restricted-chain plasma cell of a counted cluster", and "aberrant-phenotype
/// plasma cell outside a counted cluster" (counted with the normal ones in the result). The
/// restricted-chain class is the clone together with the normal plasma cells of its chain that
/// share its gate: the result counts their clonal excess, not their number (``MRDResult/Clonality/restrictedEvents``).
///
/// Cost per block: one pass over the block per visible gate for the bits, one per chain gate
/// for the classes; two small buffers per block.
final class EventAudit: Sendable {
    let writer: any EventResultsWriting
    /// Tree indices of the chain gates, root first, ending with the nucleated gate.
    let chain: [Int]
    /// Tree indices of the gates whose bits are written (hidden helper gates, ids with "~", are left out).
    let visible: [Int]
    let nucleatedCode: UInt8, normalCode: UInt8, restrictedCode: UInt8, unclusteredCode: UInt8

    static func classNames(chain ids: [String]) -> [String] {
        ids.map { "excluded by \($0)" } + [
            "nucleated, not a plasma cell", EventAuditClass.normal, EventAuditClass.counted,
            "aberrant-phenotype plasma cell outside a counted cluster",
        ]
    }

    init(path: String, format: (any EventResultsFormat)?, tree: GatingTree, nucleated: String, eventCount: Int) throws(MRDError) {
        guard let format else { throw .input(file: path, detail: "per-event results were asked for, but this analysis was given no results format") }
        var chainIDs: [String] = []
        var current: String? = nucleated
        while let id = current, let gate = tree.gate(id), chainIDs.count <= tree.gates.count {
            chainIDs.insert(id, at: 0)
            current = gate.parentID
        }
        let index = Dictionary(uniqueKeysWithValues: tree.gates.enumerated().map { ($0.element.id, $0.offset) })
        chain = chainIDs.compactMap { index[$0] }
        visible = tree.gates.indices.filter { !tree.gates[$0].id.contains("~") }
        let base = UInt8(chain.count)
        nucleatedCode = base
        normalCode = base + 1
        restrictedCode = base + 2
        unclusteredCode = base + 3
        do {
            writer = try format.create(path: path, eventCount: eventCount, gates: visible.map { tree.gates[$0].id },
                                       classNames: Self.classNames(chain: chainIDs))
        } catch {
            throw .input(file: path, detail: "\(error)")
        }
    }

    /// Records one evaluated block. `plasmaCell` is the plasma-cell gate's index; `candidate(e)`
    /// says whether plasma cell e of the block met the aberrancy rules.
    func record(_ block: EvaluatedBlock, plasmaCell: Int, candidate: (Int) -> Bool) throws {
        let n = block.count
        let bytes = writer.membershipBytes
        var bits = [UInt8](repeating: 0, count: n * bytes)
        var classes = [UInt8](repeating: nucleatedCode, count: n)
        for (bit, g) in visible.enumerated() {
            let mask = block.mask(g)
            let byte = bit >> 3, value = UInt8(1) << UInt8(bit & 7)
            for e in 0..<n where mask[e] != 0 { bits[e * bytes + byte] |= value }
        }
        // The first chain gate an event fails names its exclusion (masks already include their parents).
        for (code, g) in chain.enumerated().reversed() {
            let mask = block.mask(g)
            for e in 0..<n where mask[e] == 0 { classes[e] = UInt8(code) }
        }
        let pc = block.mask(plasmaCell)
        for e in 0..<n where pc[e] != 0 && classes[e] == nucleatedCode {
            classes[e] = candidate(e) ? unclusteredCode : normalCode
        }
        try classes.withUnsafeBufferPointer { c in
            try bits.withUnsafeBufferPointer { b in try writer.write(first: block.firstEvent, classes: c, membership: b) }
        }
    }

    /// Marks the counted clusters' restricted-chain events and finishes the file with the result as JSON.
    func finish(restrictedEvents: [Int], result: MRDResult) throws(MRDError) {
        do {
            try writer.setClass(restrictedCode, events: restrictedEvents)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let json = String(decoding: try encoder.encode(result), as: UTF8.self)
            try writer.finish(attributes: [("result", json), ("software", MRDAnalyzer.software), ("source_file", result.file),
                                           ("template", "\(result.template) \(result.templateVersion)"), ("call", result.call.rawValue)])
        } catch {
            throw MRDError.wrapping(error, file: writer.path)
        }
    }
}
