import Foundation
import Testing
import TestSupport
@testable import MRD

/// One template mistake: the bundled template with `old` replaced by `new`, and the exact error.
struct TemplateMistake: CustomTestStringConvertible, Sendable {
    let kind: String
    let old: String
    let new: String
    /// The error's line is the first line containing this text in the changed template.
    let at: String
    let column: Int
    let detail: String
    var testDescription: String { kind }
}

/// The malformed-template suite: each kind of mistake a person can make when typing or editing a
/// gating template, one at a time, each asserting the exact error — type, file, line, column and
/// message. (TemplateTests covers the bundled template and a few mistakes with their suggestions.)
@Suite("Template mistakes, one kind at a time")
struct TemplateMistakeTests {
    static let bundledText = try! String(contentsOfFile: TemplateTests.bundled, encoding: .utf8)
    /// The aberrancy rules list, from `rules:` to the line before `light_chains:`.
    static let rulesBlock: String = {
        let start = bundledText.range(of: "    rules:\n")!.lowerBound
        let end = bundledText.range(of: "  light_chains:")!.lowerBound
        return String(bundledText[start..<end])
    }()

    static let mistakes: [TemplateMistake] = [
        // YAML and document structure
        .init(kind: "unclosed flow list", old: "  lloq_events: 50", new: "  lloq_events: [50", at: "  aberrancy:", column: 12, detail: "not valid YAML: did not find expected ',' or ']' (while parsing a flow sequence from line 223, column 16)"),
        .init(kind: "tab indentation", old: "    tolerance: 0.5", new: "\ttolerance: 0.5", at: "\ttolerance", column: 1, detail: "not valid YAML: found a tab character that violates indentation (while scanning a plain scalar from line 40, column 11)"),
        .init(kind: "a list item among the top-level keys", old: "schema: 1", new: "- schema: 1", at: "name: legend2-10color", column: 1, detail: "not valid YAML: did not find expected '-' indicator (while parsing a block collection from line 5, column 1)"),
        .init(kind: "misspelt top-level key", old: "\ngates:\n", new: "\ngate:\n", at: "gate:", column: 1, detail: "template: unknown key \"gate\" (allowed: schema, name, version, description, panel, default_transform, compensation, gates, mrd, qc, plots, reference); did you mean \"gates\"?"),
        .init(kind: "key given twice", old: "name: legend2-10color\n", new: "name: legend2-10color\nname: again\n", at: "name: legend2-10color", column: 1, detail: "key \"name\" appears more than once in the same mapping (the first is here)"),
        .init(kind: "required key missing", old: "name: legend2-10color\n", new: "", at: "schema: 1", column: 1, detail: "template: missing required key \"name\""),
        .init(kind: "unsupported schema", old: "schema: 1", new: "schema: 7", at: "schema: 7", column: 9, detail: "schema 7 is not supported; this FlowMRD reads schema 1"),
        .init(kind: "schema not a number", old: "schema: 1", new: "schema: one", at: "schema: one", column: 9, detail: "schema must be a whole number"),
        // Panel
        .init(kind: "panel entry with unknown key", old: "  CD138: {aliases: [CD138, CD138 APC], channels: [APC-A]}", new: "  CD138: {alias: [CD138, CD138 APC], channels: [APC-A]}", at: "CD138: {alias", column: 11, detail: "panel marker \"CD138\": unknown key \"alias\" (allowed: aliases, channels, transform, compensated); did you mean \"aliases\"?"),
        .init(kind: "panel channels not a list", old: "  CD27: {aliases: [CD27, CD27 BV605], channels: [BV605-A]}", new: "  CD27: {aliases: [CD27, CD27 BV605], channels: {a: b}}", at: "CD27: {aliases", column: 49, detail: "channels of CD27 must be a list"),
        .init(kind: "two transforms at once", old: "  FSC-A: {channels: [FSC-A], transform: {linear: {T: 262144}}, compensated: false}", new: "  FSC-A: {channels: [FSC-A], transform: {linear: {T: 262144}, asinh: {cofactor: 150}}, compensated: false}", at: "  FSC-A:", column: 41, detail: "transform must name exactly one of linear, logicle, asinh, log (or be none)"),
        .init(kind: "logicle parameter outside its domain", old: "default_transform: {logicle: {T: 262144, W: 0.5, M: 4.5, A: 0}}", new: "default_transform: {logicle: {T: 262144, W: 3, M: 4.5, A: 0}}", at: "default_transform", column: 30, detail: "logicle transform: invalid transform: logicle parameters T=262144.0, W=3.0, M=4.5, A=0.0 violate T > 0, M > 0, 0 ≤ W ≤ M/2, −W ≤ A ≤ M − 2W"),
        .init(kind: "compensated not true or false", old: "  SSC-A: {channels: [SSC-A], transform: {linear: {T: 262144}}, compensated: false}", new: "  SSC-A: {channels: [SSC-A], transform: {linear: {T: 262144}}, compensated: no way}", at: "  SSC-A:", column: 77, detail: "compensated must be true or false"),
        .init(kind: "unknown compensation", old: "compensation: file", new: "compensation: spill", at: "compensation: spill", column: 15, detail: "compensation must be file, none, or a spillover matrix"),
        .init(kind: "spillover matrix of the wrong size", old: "compensation: file", new: "compensation: {spillover: {detectors: [APC-A, PE-A], rows: [[1, 0.1], [0]]}}", at: "compensation:", column: 71, detail: "spillover row must hold 2 numbers, not 1"),
        // Gates
        .init(kind: "gate id used twice", old: "  - id: small\n", new: "  - id: lymphocytes\n", at: "  - id: lymphocytes\n    parent: cd45", column: 5, detail: "gate id \"lymphocytes\" is used twice"),
        .init(kind: "unknown gate type", old: "    type: polygon", new: "    type: polygone", at: "type: polygone", column: 11, detail: "gate \"pc-region\": unknown type \"polygone\" (expected boolean, flow-rate, polygon, ratio-band, rectangle, threshold)"),
        .init(kind: "key that does not belong to the gate type", old: "    tolerance: 0.5", new: "    tolerance: 0.5\n    keep: above", at: "keep: above", column: 11, detail: "gate \"time-stable\": key \"keep\" does not apply to a flow-rate gate (it takes time, bins, tolerance)"),
        .init(kind: "required gate key missing", old: "    marker: CD138\n", new: "", at: "- id: cd138-positive", column: 5, detail: "gate \"cd138-positive\": missing required key \"marker\""),
        .init(kind: "marker not in the panel", old: "    marker: CD138\n", new: "    marker: CD183\n", at: "marker: CD183", column: 13, detail: "gate \"cd138-positive\": marker \"CD183\" is not in the panel (it has CD117, CD138, CD19, CD27, CD38, CD45, CD56, CD81, FSC-A, FSC-H, Kappa, Lambda, SSC-A, Time)"),
        .init(kind: "parent that does not exist", old: "  - id: small\n    parent: cd45-negative", new: "  - id: small\n    parent: cd45-negatve", at: "- id: small", column: 5, detail: "gate \"small\" refers to gate \"cd45-negatve\", which the template does not define"),
        .init(kind: "parent defined later", old: "  - id: time-stable\n", new: "  - id: time-stable\n    parent: singlets\n", at: "- id: time-stable", column: 5, detail: "gate \"time-stable\" refers to gate \"singlets\", which must be defined before it"),
        .init(kind: "boolean operand that does not exist", old: "    and: [cd38-bright-large, pc-region]", new: "    and: [cd38-bright-large, pc-regoin]", at: "- id: cd38-plasma-cells", column: 5, detail: "gate \"cd38-plasma-cells\" refers to gate \"pc-regoin\", which the template does not define"),
        .init(kind: "boolean with two operators", old: "    or: [cd138-positive, cd38-bright-large]", new: "    or: [cd138-positive, cd38-bright-large]\n    and: [cd138-positive, pc-size]", at: "- id: pc-markers", column: 5, detail: "gate \"pc-markers\": a boolean gate needs exactly one of and, or, not"),
        .init(kind: "and with one operand", old: "    and: [cd38-bright, pc-size]", new: "    and: [cd38-bright]", at: "- id: cd38-bright-large", column: 5, detail: "gate \"cd38-bright-large\": and takes at least two gates"),
        .init(kind: "rectangle without limits", old: "    limits: {FSC-A: [0.22, null], SSC-A: [0.08, 0.4]}", new: "    limits: {}", at: "- id: pc-size", column: 5, detail: "gate \"pc-size\": a rectangle needs at least one limit"),
        .init(kind: "rectangle limits reversed", old: "limits: {FSC-A: [0.22, null], SSC-A: [0.08, 0.4]}", new: "limits: {FSC-A: [0.22, null], SSC-A: [0.4, 0.08]}", at: "SSC-A: [0.4, 0.08]", column: 42, detail: "limits of SSC-A: minimum must be below maximum"),
        .init(kind: "rectangle limit with one number", old: "limits: {FSC-A: [0.22, null], SSC-A: [0.08, 0.4]}", new: "limits: {FSC-A: [0.22], SSC-A: [0.08, 0.4]}", at: "FSC-A: [0.22]", column: 21, detail: "limits of FSC-A must be [min, max] (null for open)"),
        .init(kind: "polygon with two vertices", old: "    vertices: [[-0.2, 0.04], [0.8, 0.04], [0.8, 0.4], [-0.2, 0.4]]", new: "    vertices: [[-0.2, 0.04], [0.8, 0.04]]", at: "- id: pc-region", column: 5, detail: "gate \"pc-region\": a polygon needs at least 3 vertices"),
        .init(kind: "polygon vertex with three numbers", old: "    vertices: [[-0.2, 0.04], [0.8, 0.04], [0.8, 0.4], [-0.2, 0.4]]", new: "    vertices: [[-0.2, 0.04, 1], [0.8, 0.04], [0.8, 0.4], [-0.2, 0.4]]", at: "vertices:", column: 16, detail: "vertex must hold 2 numbers, not 3"),
        .init(kind: "keep neither above nor below", old: "    marker: CD138\n    keep: above", new: "    marker: CD138\n    keep: over", at: "keep: over", column: 11, detail: "keep must be above or below"),
        .init(kind: "threshold with valley and reference", old: "      valley: {search: [0.1, 0.17], smoothing: 0.01}", new: "      valley: {search: [0.1, 0.17], smoothing: 0.01}\n      reference: {population: lymphocytes, quantile: 0.5, offset: 0, bounds: [0, 1]}", at: "valley: {search: [0.1, 0.17]", column: 7, detail: "gate \"small\" threshold: give either valley or reference, not both"),
        .init(kind: "threshold with neither valley nor reference", old: "      valley: {search: [0.1, 0.17], smoothing: 0.01}", new: "      fallback: 0.135", at: "      fallback: 0.135", column: 7, detail: "gate \"small\" threshold: a data-driven threshold needs valley or reference"),
        .init(kind: "fallback outside the valley search range", old: "      valley: {search: [0.1, 0.17], smoothing: 0.01}", new: "      valley: {search: [0.1, 0.17], smoothing: 0.01}\n      fallback: 0.3", at: "fallback: 0.3", column: 17, detail: "the fallback 0.3 lies outside the valley search range 0.1...0.17"),
        .init(kind: "smoothing out of range", old: "smoothing: 0.01", new: "smoothing: 0.7", at: "smoothing: 0.7", column: 48, detail: "valley: smoothing must be between 0 and 0.5"),
        .init(kind: "quantile above 1", old: "reference: {population: lymphocytes, quantile: 0.999", new: "reference: {population: lymphocytes, quantile: 99.9", at: "quantile: 99.9", column: 54, detail: "quantile must be between 0 and 1"),
        .init(kind: "search range reversed", old: "search: [0.1, 0.17]", new: "search: [0.17, 0.1]", at: "search: [0.17, 0.1]", column: 24, detail: "valley search must be [low, high] with low < high"),
        .init(kind: "reference population that does not exist", old: "reference: {population: lymphocytes, quantile: 0.001", new: "reference: {population: lymphs, quantile: 0.001", at: "- id: cd45-negative", column: 5, detail: "gate \"cd45-negative\" refers to gate \"lymphs\", which the template does not define"),
        .init(kind: "ratio-band width not a number", old: "    width: 4", new: "    width: four", at: "width: four", column: 12, detail: "width must be a number"),
        .init(kind: "ratio-band width zero", old: "    width: 4", new: "    width: 0", at: "width: 0", column: 12, detail: "gate \"singlets\": width must be positive"),
        .init(kind: "flow-rate tolerance of 1 or more", old: "    tolerance: 0.5", new: "    tolerance: 1.5", at: "tolerance: 1.5", column: 16, detail: "tolerance must be between 0 and 1"),
        .init(kind: "flow-rate bins out of range", old: "    tolerance: 0.5", new: "    tolerance: 0.5\n    bins: 2", at: "bins: 2", column: 11, detail: "bins must be between 3 and 10000"),
        .init(kind: "smoothing of zero", old: "smoothing: 0.01", new: "smoothing: 0", at: "smoothing: 0", column: 48, detail: "valley: smoothing must be between 0 and 0.5"),
        .init(kind: "min_events of zero", old: "valley: {search: [0.1, 0.17], smoothing: 0.01}", new: "valley: {search: [0.1, 0.17], smoothing: 0.01, min_events: 0}", at: "min_events: 0", column: 66, detail: "valley: min_events must be at least 1"),
        // mrd
        .init(kind: "mrd names a gate that does not exist", old: "  plasma_cells: plasma-cells", new: "  plasma_cells: plasma-cell", at: "plasma_cells: plasma-cell", column: 17, detail: "mrd refers to gate \"plasma-cell\", which the template does not define"),
        .init(kind: "min_cluster_events not a whole number", old: "  min_cluster_events: 30", new: "  min_cluster_events: 30.5", at: "min_cluster_events: 30.5", column: 23, detail: "min_cluster_events must be a whole number"),
        .init(kind: "lloq below the cluster minimum", old: "  lloq_events: 50", new: "  lloq_events: 20", at: "lloq_events: 20", column: 16, detail: "mrd: lloq_events (20) must not be below min_cluster_events (30)"),
        .init(kind: "target sensitivity as a count", old: "  target_sensitivity: 1.0e-4", new: "  target_sensitivity: 10000", at: "target_sensitivity: 10000", column: 23, detail: "target_sensitivity must be between 0 and 1 (e.g. 1.0e-4)"),
        .init(kind: "min_aberrancies above the number of rules", old: "    min_aberrancies: 2", new: "    min_aberrancies: 9", at: "min_aberrancies: 9", column: 22, detail: "min_aberrancies must be between 1 and the number of rules (7)"),
        .init(kind: "aberrant neither above nor below", old: "      - marker: CD56\n        aberrant: above", new: "      - marker: CD56\n        aberrant: high", at: "aberrant: high", column: 19, detail: "aberrant must be above or below"),
        .init(kind: "aberrancy rule on a marker not in the panel", old: "      - marker: CD81\n", new: "      - marker: CD8\n", at: "marker: CD8\n", column: 17, detail: "aberrancy marker: marker \"CD8\" is not in the panel"),
        .init(kind: "no aberrancy rules", old: rulesBlock, new: "    rules: []\n", at: "min_aberrancies: 2", column: 5, detail: "aberrancy: at least one aberrancy rule is needed"),
        .init(kind: "cluster dimension not in the panel", old: "    dimensions: [CD45, CD38, CD138", new: "    dimensions: [CD45, CD38, CD318", at: "dimensions: [CD45", column: 17, detail: "cluster dimension \"CD318\" is not in the panel"),
        .init(kind: "cluster radius of 1 or more", old: "    radius: 0.15", new: "    radius: 15", at: "radius: 15", column: 13, detail: "cluster: radius must be between 0 and 1 (transformed units)"),
        .init(kind: "min_neighbours zero", old: "    min_neighbours: 5", new: "    min_neighbours: 0", at: "min_neighbours: 0", column: 21, detail: "cluster: min_neighbours must be at least 1"),
        .init(kind: "light-chain margin negative", old: "margin: 0.1, restriction_ratio: 4", new: "margin: -0.1, restriction_ratio: 4", at: "margin: -0.1", column: 56, detail: "light_chains: margin must be at least 0 and below 1 (transformed units)"),
        .init(kind: "normal median of a marker outside the phenotype", old: "normal_medians: {CD19: 0.64,", new: "normal_medians: {CD20: 0.64,", at: "normal_medians:", column: 22, detail: "normal_medians: unknown key \"CD20\" (allowed: CD19, CD56, CD45, CD27, CD81, CD117, CD38, CD138); did you mean \"CD27\"?"),
        .init(kind: "normal median out of range", old: "CD56: 0.12, CD45: 0.65", new: "CD56: 12, CD45: 0.65", at: "normal_medians:", column: 40, detail: "normal_medians: CD56 must be a transformed level between -0.5 and 1.5"),
        .init(kind: "masking marker without a normal median", old: "normal_medians: {CD19: 0.64, CD56: 0.12, CD45: 0.65, CD27: 0.77, CD81: 0.67, CD117: 0.11, CD38: 0.90, CD138: 0.75}", new: "normal_medians: {CD19: 0.64, CD56: 0.12, CD45: 0.65, CD27: 0.77, CD81: 0.67, CD117: 0.11, CD138: 0.75}", at: "masking: {", column: 21, detail: "masking: marker CD38 needs a phenotype normal_medians entry"),
        .init(kind: "masking drop of zero", old: "min_drop: 0.15", new: "min_drop: 0", at: "masking: {", column: 48, detail: "masking: min_drop must be between 0 and 1 (transformed units)"),
        .init(kind: "masking without its marker", old: "masking: {marker: CD38, by: CD138, min_drop: 0.15}", new: "masking: {by: CD138, min_drop: 0.15}", at: "masking: {", column: 12, detail: "masking: missing required key \"marker\""),
        .init(kind: "normal κ:λ range with one bound", old: "restriction_ratio: 4, chainless_gate: cd138-positive}", new: "restriction_ratio: 4, chainless_gate: cd138-positive, normal_range: [0.5]}", at: "normal_range: [0.5]", column: 129, detail: "light_chains: normal_range must hold 2 numbers, not 1"),
        .init(kind: "normal κ:λ range without the normal ratio inside", old: "restriction_ratio: 4, chainless_gate: cd138-positive}", new: "restriction_ratio: 4, chainless_gate: cd138-positive, normal_range: [2, 4]}", at: "normal_range: [2, 4]", column: 129, detail: "light_chains: normal_range [2, 4] must hold the normal κ:λ 1.6 strictly inside, with 0 < low"),
        .init(kind: "normal κ:λ range as text", old: "restriction_ratio: 4, chainless_gate: cd138-positive}", new: "restriction_ratio: 4, chainless_gate: cd138-positive, normal_range: [low, 4]}", at: "normal_range: [low, 4]", column: 130, detail: "light_chains: normal_range must be a number"),
        .init(kind: "normal κ:λ outside the default normal range", old: "restriction_ratio: 4, chainless_gate: cd138-positive}", new: "restriction_ratio: 4, chainless_gate: cd138-positive, normal_ratio: 4.5}", at: "normal_ratio: 4.5", column: 129, detail: "light_chains: normal_ratio 4.5 lies outside the default normal_range [0.5, 4]; set normal_range to the κ:λ range of your normal marrows"),
        .init(kind: "chainless gate that does not exist", old: "chainless_gate: cd138-positive", new: "chainless_gate: cd138-pos", at: "chainless_gate: cd138-pos", column: 99, detail: "mrd refers to gate \"cd138-pos\", which the template does not define"),
        .init(kind: "chainless gate not a threshold", old: "chainless_gate: cd138-positive", new: "chainless_gate: plasma-cells", at: "chainless_gate: plasma-cells", column: 99, detail: "light_chains: chainless_gate \"plasma-cells\" must be a threshold gate keeping the events above it, on one of the cluster dimensions"),
        .init(kind: "restriction ratio of 1", old: "restriction_ratio: 4", new: "restriction_ratio: 1", at: "restriction_ratio: 1", column: 80, detail: "light_chains: restriction_ratio must be above 1"),
        .init(kind: "phenotype marker not in the panel", old: "    markers: [CD19, CD56, CD45, CD27, CD81, CD117, CD38, CD138]", new: "    markers: [CD19, CD56, CD45, CD27, CD81, CD117, CD38, CD139]", at: "markers: [CD19, CD56, CD45, CD27, CD81, CD117, CD38, CD139]", column: 14, detail: "phenotype marker \"CD139\" is not in the panel"),
        // qc
        .init(kind: "qc names a gate that does not exist", old: "  singlets: singlets", new: "  singlets: singlet", at: "  singlets: singlet", column: 13, detail: "qc refers to gate \"singlet\", which the template does not define"),
        .init(kind: "max_time_excluded as a percentage", old: "  max_time_excluded: 0.5", new: "  max_time_excluded: 50", at: "max_time_excluded: 50", column: 22, detail: "max_time_excluded must be a fraction above 0 and at most 1 (e.g. 0.5)"),
        .init(kind: "hemodilution limit above 100 %", old: "gate: mast-cells, min_percent: 0.002}", new: "gate: mast-cells, min_percent: 200}", at: "min_percent: 200", column: 59, detail: "min_percent is a percentage of nucleated cells (0 to 100)"),
        .init(kind: "hemodilution indicator listed twice", old: "{name: mast cells, gate: mast-cells", new: "{name: B-cell precursors, gate: mast-cells", at: "{name: B-cell precursors, gate: mast-cells", column: 9, detail: "hemodilution indicator \"B-cell precursors\" is listed twice"),
        .init(kind: "flag_when_below above the number of indicators", old: "    flag_when_below: 2", new: "    flag_when_below: 5", at: "flag_when_below: 5", column: 22, detail: "flag_when_below must be between 1 and the number of indicators (4)"),
        // plots
        .init(kind: "plot axis not in the panel", old: "{title: \"Time vs SSC-A\", x: Time,", new: "{title: \"Time vs SSC-A\", x: Tme,", at: "x: Tme", column: 33, detail: "plot x: marker \"Tme\" is not in the panel (it has CD117, CD138, CD19, CD27, CD38, CD45, CD56, CD81, FSC-A, FSC-H, Kappa, Lambda, SSC-A, Time)"),
        .init(kind: "plot gate that does not exist", old: "gates: [time-stable]}", new: "gates: [time-stabel]}", at: "time-stabel", column: 5, detail: "plot \"Time vs SSC-A\" refers to gate \"time-stabel\", which the template does not define"),
        .init(kind: "plot flag not true or false", old: "population: plasma-cells, aberrant_overlay: true}", new: "population: plasma-cells, aberrant_overlay: maybe}", at: "aberrant_overlay: maybe", column: 115, detail: "aberrant_overlay must be true or false"),
    ]


    @Test("each mistake is an error naming the file, line and column, with the exact message", arguments: mistakes)
    func mistake(_ m: TemplateMistake) throws {
        try #require(Self.bundledText.components(separatedBy: m.old).count == 2, "the fixture text must occur once: \(m.old)")
        let yaml = Self.bundledText.replacingOccurrences(of: m.old, with: m.new)
        let anchor = try #require(yaml.range(of: m.at), "anchor not found: \(m.at)")
        let line = yaml[..<anchor.lowerBound].filter { $0 == "\n" }.count + 1 + m.at.prefix { $0 == "\n" }.count
        #expect {
            _ = try GatingTemplate(yaml: yaml, path: "lab.yaml")
        } throws: { error in
            guard let error = error as? MRDError else { return false }
            let expected = MRDError.template(file: "lab.yaml", line: line, column: m.column, detail: m.detail)
            if error != expected { print("MISTAKE \(m.kind) | got: \(error)") }
            return error == expected
        }
    }

    @Test("a missing file, a file that is not UTF-8, an empty one and one that is not a mapping are errors naming the file")
    func fileLevel() throws {
        let directory = TemporaryDirectory()
        let missing = directory.path("missing.yaml")
        #expect(throws: MRDError.template(file: missing, line: 1, column: 1, detail: "cannot read the template file")) { try GatingTemplate(path: missing) }
        let latin1 = directory.path("latin1.yaml")
        #expect(FileManager.default.createFile(atPath: latin1, contents: Data("schema: 1\nname: caf\u{E9}\n".utf8.map { $0 }.filter { $0 < 0x80 } + [0xE9, 0x0A])))
        #expect(throws: MRDError.template(file: latin1, line: 1, column: 1, detail: "the template is not UTF-8 text")) { try GatingTemplate(path: latin1) }
        let huge = directory.path("huge.yaml")
        #expect(FileManager.default.createFile(atPath: huge, contents: nil))
        #expect(truncate(huge, off_t(GatingTemplate.maximumFileSize + 1)) == 0)
        #expect(throws: MRDError.template(file: huge, line: 1, column: 1, detail: "the file is 4194305 bytes; templates above 4 MiB are refused")) { try GatingTemplate(path: huge) }
        let deep = "schema: " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "\n"
        #expect(throws: MRDError.template(file: "d.yaml", line: 1, column: 10, detail: "not valid YAML: Maximum nesting level reached, set with yaml_set_max_nest_level()) (while parsing from line 1, column 10)")) {
            try GatingTemplate(yaml: deep, path: "d.yaml")
        }
        #expect(throws: MRDError.template(file: "e.yaml", line: 1, column: 1, detail: "the template is empty")) { try GatingTemplate(yaml: "# nothing\n", path: "e.yaml") }
        #expect(throws: MRDError.template(file: "s.yaml", line: 1, column: 1, detail: "template must be a mapping with keys schema, name, version, description, panel, default_transform, compensation, gates, mrd, qc, plots, reference")) {
            try GatingTemplate(yaml: "just text\n", path: "s.yaml")
        }
    }
}
