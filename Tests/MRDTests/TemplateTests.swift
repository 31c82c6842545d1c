import EventCore
import FCS
import Foundation
import Testing
import TestSupport
@testable import MRD

/// The bundled template, and the exact error for each kind of template mistake.
@Suite("Gating templates")
struct TemplateTests {
    static let bundled = SharedMaterial.packageRoot.appendingPathComponent("gating-templates/legend2-10color.yaml").path

    @Test("legend2-10color loads: panel, gates, MRD defaults")
    func bundledTemplate() throws {
        let t = try GatingTemplate(path: Self.bundled)
        #expect(t.name == "legend2-10color")
        #expect(t.panel.map(\.name) == ["FSC-A", "FSC-H", "SSC-A", "Time", "CD45", "CD38", "CD138", "CD19", "CD56", "CD117", "CD81", "CD27", "Kappa", "Lambda"])
        #expect(t.gates.first?.id == "time-stable")
        #expect(t.gates.contains { $0.id == "nucleated" } && t.gates.contains { $0.id == "plasma-cells" })
        #expect(t.mrd.minClusterEvents == 30 && t.mrd.lloqEvents == 50 && t.mrd.minNucleatedCells == 1_500_000 && t.mrd.targetSensitivity == 1e-4)
        #expect(t.mrd.rules.map(\.marker) == ["CD19", "CD56", "CD45", "CD27", "CD81", "CD117", "CD38"])
        #expect(t.checksum.count == 64)
    }

    /// The bundled template with one line replaced.
    func variant(_ old: String, _ new: String) throws -> String {
        let text = try String(contentsOfFile: Self.bundled, encoding: .utf8)
        #expect(text.contains(old), "fixture text not found: \(old)")
        return text.replacingOccurrences(of: old, with: new)
    }

    func lineOf(_ needle: String, in text: String) -> Int {
        (text.components(separatedBy: "\n").firstIndex { $0.contains(needle) } ?? -1) + 1
    }

    func expectError(_ yaml: String, line: Int, column: Int? = nil, containing: String) {
        do {
            _ = try GatingTemplate(yaml: yaml, path: "lab.yaml")
            Issue.record("expected an error containing \"\(containing)\"")
        } catch {
            guard case .template(let file, let l, let c, let detail) = error else {
                Issue.record("wrong error: \(error)")
                return
            }
            #expect(file == "lab.yaml")
            #expect(l == line, "line for: \(detail)")
            if let column { #expect(c == column, "column for: \(detail)") }
            #expect(detail.contains(containing), "\(detail)")
        }
    }

    @Test("a misspelt key is an error at its line and column, with a suggestion")
    func unknownKey() throws {
        let yaml = try variant("    tolerance: 0.5", "    tolerence: 0.5")
        expectError(yaml, line: lineOf("tolerence", in: yaml), column: 5, containing: "unknown key \"tolerence\"")
        expectError(yaml, line: lineOf("tolerence", in: yaml), containing: "did you mean \"tolerance\"")
    }

    @Test("a wrong type is an error naming what was expected")
    func wrongType() throws {
        let yaml = try variant("  min_cluster_events: 30", "  min_cluster_events: thirty")
        expectError(yaml, line: lineOf("thirty", in: yaml), column: 23, containing: "min_cluster_events must be a whole number")
        let yaml2 = try variant("    width: 4", "    width: [4]")
        expectError(yaml2, line: lineOf("width: [4]", in: yaml2), containing: "width must be a number")
    }

    @Test("a reference to a gate that does not exist, or comes later, is an error")
    func missingReference() throws {
        let yaml = try variant("    and: [cd38-bright-large, pc-region]", "    and: [cd38-bright-large, pc-regoin]")
        expectError(yaml, line: lineOf("- id: cd38-plasma-cells", in: yaml), containing: "refers to gate \"pc-regoin\", which the template does not define")
        let yaml2 = try variant("  plasma_cells: plasma-cells", "  plasma_cells: plasma-cell")
        expectError(yaml2, line: lineOf("plasma_cells: plasma-cell", in: yaml2), containing: "mrd refers to gate \"plasma-cell\"")
        let yaml3 = try variant("  - id: time-stable\n", "  - id: time-stable\n    parent: singlets\n")
        expectError(yaml3, line: lineOf("- id: time-stable", in: yaml3), containing: "must be defined before it")
    }

    @Test("a marker not in the panel, an unknown gate type, bad YAML and a wrong schema are errors")
    func otherMistakes() throws {
        let yaml = try variant("    marker: CD138\n", "    marker: CD183\n")
        expectError(yaml, line: lineOf("marker: CD183", in: yaml), containing: "marker \"CD183\" is not in the panel")
        let yaml2 = try variant("    type: flow-rate", "    type: flowrate")
        expectError(yaml2, line: lineOf("type: flowrate", in: yaml2), containing: "unknown type \"flowrate\"")
        let yaml3 = try variant("schema: 1", "schema: 2")
        expectError(yaml3, line: 5, containing: "schema 2 is not supported")
        let yaml4 = try variant("  lloq_events: 50", "  lloq_events: [50")
        expectError(yaml4, line: lineOf("lloq_events: [50", in: yaml4) + 1, containing: "not valid YAML")
        let yaml5 = try variant("    tolerance: 0.5", "    tolerance: 0.5\n    limits: {FSC-A: [0, 1]}")
        expectError(yaml5, line: lineOf("limits: {FSC-A: [0, 1]}", in: yaml5), containing: "does not apply to a flow-rate gate")
        let yaml6 = try variant("      valley: {search: [0.1, 0.17], smoothing: 0.01}", "      valley: {search: [0.1, 0.17], smoothing: 0.01}\n      fallback: 0.3")
        expectError(yaml6, line: lineOf("fallback: 0.3", in: yaml6), containing: "lies outside the valley search range")
    }
}

/// Markers are found by $PnS with aliases, then by $PnN; a missing one is named.
@Suite("Panel mapping")
struct PanelMappingTests {
    func dataSet(_ channels: [(String, String?)]) throws -> EventDataSet {
        let directory = TemporaryDirectory()
        let path = directory.path("p.fcs")
        let writer = try FCSWriter(path: path, channels: channels.map { FCSChannelDescription(name: $0.0, marker: $0.1, range: 262_144) },
                                   eventCount: 1, keywords: DataSetKeywords())
        var block = EventBlock<Float>(channelCount: channels.count, capacity: 1)
        block.setCount(1)
        try writer.append(block)
        try writer.finish()
        return try FCSFile(path: path).dataSets[0]
    }

    let template = try! GatingTemplate(path: TemplateTests.bundled)

    @Test("aliases on $PnS, then $PnN: CD45 APC-H7, cyIgK, FL-named channels")
    func aliases() throws {
        let ds = try dataSet([("FSC-A", nil), ("FSC-H", nil), ("SSC-A", nil), ("Time", nil), ("FL1-A", "cyIgK"), ("FL2-A", "IgL"),
                              ("FL3-A", "CD45 APC-H7"), ("FL4-A", "CD38"), ("FL5-A", "cd138"), ("FL6-A", "CD19-PE-Cy7"),
                              ("APC-A700-A", nil), ("FL8-A", "CD117"), ("FL9-A", "CD81"), ("FL10-A", "CD27")])
        let mapping = try PanelMapping(template: template, dataSet: ds, file: "x.fcs")
        #expect(mapping.entry("Kappa")?.channel == "FL1-A")
        #expect(mapping.entry("Lambda")?.channel == "FL2-A")
        #expect(mapping.entry("CD45")?.channel == "FL3-A")
        #expect(mapping.entry("CD138")?.channel == "FL5-A")
        #expect(mapping.entry("CD19")?.channel == "FL6-A")
        #expect(mapping.entry("CD56")?.channel == "APC-A700-A" && mapping.entry("CD56")?.matchedBy == "$PnN")
        #expect(mapping.entry("CD45")?.matchedBy == "$PnS")
    }

    /// The bundled panel as a lab's file labels it, with channels changed by `edit`.
    static let panel: [(String, String?)] = [("FSC-A", nil), ("FSC-H", nil), ("SSC-A", nil), ("Time", nil), ("FITC-A", "Kappa"), ("PE-A", "Lambda"),
                                             ("APC-H7-A", "CD45"), ("BV510-A", "CD38"), ("APC-A", "CD138"), ("PE-Cy7-A", "CD19"),
                                             ("APC-A700-A", "CD56"), ("PE-Cy5.5-A", "CD117"), ("Pacific Blue-A", "CD81"), ("BV605-A", "CD27")]

    func problems(_ channels: [(String, String?)], assignments: [String] = []) throws -> (problems: [PanelProblem], message: String) {
        let ds = try dataSet(channels), given = try ChannelAssignments(assignments, template: template)
        do {
            _ = try PanelMapping(template: template, dataSet: ds, file: "x.fcs", assignments: given)
            return ([], "")
        } catch {
            guard case .panel(let file, let problems, _) = error else { Issue.record("wrong error \(error)"); return ([], "") }
            #expect(file == "x.fcs")
            return (problems, error.description)
        }
    }

    @Test("every missing marker is named once, with the file's channels once and how to map them")
    func missing() throws {
        let lacking = Self.panel.filter { $0.1 != "CD81" && $0.1 != "CD27" }
        let (found, message) = try problems(lacking)
        #expect(found == [.missing(marker: "CD81", tried: ["CD81", "CD81 Pacific Blue", "Pacific Blue-A", "BV421-A"]),
                          .missing(marker: "CD27", tried: ["CD27", "CD27 BV605", "BV605-A"])], "\(found)")
        #expect(message.components(separatedBy: "the file has:").count == 2 && message.contains("PE-Cy7-A ($PnS CD19)"))
        #expect(message.hasSuffix("map a channel with --channel MARKER=CHANNEL ($PnN), or add the file's label to the marker's aliases in the template"))
    }

    @Test("two channels carrying one marker's stain are a conflict naming both; --channel resolves it")
    func claimedTwice() throws {
        var twice = Self.panel
        twice[twice.firstIndex { $0.0 == "BV605-A" }!] = ("BV605-A", "CD38 BV605")
        let (found, message) = try problems(twice)
        #expect(found == [.claimedTwice(marker: "CD38", channels: ["BV510-A ($PnS CD38)", "BV605-A ($PnS CD38 BV605)"]),
                          .missing(marker: "CD27", tried: ["CD27", "CD27 BV605", "BV605-A"])], "\(found)")
        #expect(message.contains("marker \"CD38\" is claimed by 2 channels: BV510-A ($PnS CD38) and BV605-A ($PnS CD38 BV605)"))
        // Naming the channels by hand: CD38 on BV510-A, CD27 on BV605-A whatever its label says (with a warning).
        let mapping = try PanelMapping(template: template, dataSet: try dataSet(twice), file: "x.fcs",
                                       assignments: try ChannelAssignments(["CD38=BV510-A", "cd27=BV605-A"], template: template))
        #expect(mapping.entry("CD38")?.channel == "BV510-A" && mapping.entry("CD38")?.matchedBy == "--channel")
        #expect(mapping.entry("CD27")?.channel == "BV605-A" && mapping.entry("CD27")?.matchedBy == "--channel")
        #expect(mapping.warnings == ["--channel CD27=BV605-A: the channel's own label ($PnS CD38 BV605) is overridden"])
    }

    @Test("a channel two markers resolve to, and an assigned channel the file lacks, are named")
    func sharedAndAbsent() throws {
        let (shared, _) = try problems(Self.panel, assignments: ["CD56=PE-Cy7-A"])
        #expect(shared == [.sharedChannel(channel: "PE-Cy7-A ($PnS CD19)", markers: ["CD19", "CD56"])], "\(shared)")
        let (absent, message) = try problems(Self.panel, assignments: ["CD45=APC-Cy7-A"])
        #expect(absent == [.assignedChannelAbsent(marker: "CD45", channel: "APC-Cy7-A")] && message.contains("--channel CD45=APC-Cy7-A: the file has no channel APC-Cy7-A"))
    }

    @Test("--channel items are checked against the template: form, unknown marker with a suggestion, repeats")
    func assignmentErrors() throws {
        let cases: [([String], String)] = [
            (["CD45"], "--channel CD45: expected MARKER=CHANNEL, e.g. CD45=APC-H7-A"),
            (["=APC-A"], "--channel =APC-A: expected MARKER=CHANNEL, e.g. CD45=APC-H7-A"),
            (["CD46=APC-A"], "--channel CD46=APC-A: template legend2-10color has no marker \"CD46\"; did you mean \"CD45\"?"),
            (["CD45=APC-A", "CD45=PE-A"], "--channel CD45=PE-A: CD45 is already assigned to APC-A"),
            (["CD45=APC-A", "CD38=APC-A"], "--channel CD38=APC-A: channel APC-A is already assigned to CD45"),
        ]
        for (items, message) in cases {
            do {
                _ = try ChannelAssignments(items, template: template)
                Issue.record("accepted \(items)")
            } catch {
                #expect(error.description.hasPrefix(message), "\(error)")
            }
        }
        #expect(try ChannelAssignments(["CD45 = APC-A"], template: template).channels == ["CD45": "APC-A"])
    }
}
