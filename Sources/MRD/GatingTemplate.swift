import Cytometry
import EventCore
import FCS
import Foundation

/// A lab's gating strategy for myeloma MRD, read from a versioned YAML file in
/// `gating-templates/` (schema documented in docs/templates.md).
///
/// A template names the panel's markers (with aliases), the compensation, a transform per
/// marker, a tree of static and data-driven gates, and the MRD rules. Loading checks every key,
/// type and reference; a mistake is an ``MRDError/template(file:line:column:detail:)``.
public struct GatingTemplate: Sendable {
    /// The schema version this build reads.
    public static let schemaVersion = 1

    public let name: String
    public let version: String
    public let description: String
    /// Where the template was read from.
    public let path: String
    /// SHA-256 of the template file, hex, for the audit trail.
    public let checksum: String
    public let panel: [PanelMarker]
    public let compensation: CompensationSpec
    public let gates: [GateSpec]
    public let mrd: MRDRules
    /// Acquisition QC and hemodilution rules (``QCRules/standard`` when the template has no `qc` block).
    public private(set) var qc: QCRules
    /// The reviewer's report plots, in order.
    public let plots: [PlotSpec]
    /// The normal reference the template names (`reference:`, a path relative to the template
    /// file), used when a run gives no `--reference`; nil when it names none.
    public let referencePath: String?

    /// The largest template file read (the bundled one is about 12 KB).
    public static let maximumFileSize = 4 << 20

    /// Loads and checks a template file.
    public init(path: String) throws(MRDError) {
        if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int, size > Self.maximumFileSize {
            throw .template(file: path, line: 1, column: 1, detail: "the file is \(size) bytes; templates above \(Self.maximumFileSize >> 20) MiB are refused")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .template(file: path, line: 1, column: 1, detail: "cannot read the template file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .template(file: path, line: 1, column: 1, detail: "the template is not UTF-8 text")
        }
        try self.init(yaml: text, path: path, checksum: SHA256.hex(Array(data)))
    }

    /// Parses template text; `path` is used in error messages.
    public init(yaml: String, path: String, checksum: String? = nil) throws(MRDError) {
        self.path = path
        self.checksum = checksum ?? SHA256.hex(Array(yaml.utf8))
        let root = try TemplateNode.parse(yaml: yaml, file: path)
        let top = try root.mapping(allowed: ["schema", "name", "version", "description", "panel", "default_transform", "compensation", "gates", "mrd", "qc", "plots", "reference"], what: "template")
        let schemaNode = try top.required("schema")
        let schema = try schemaNode.int(what: "schema")
        guard schema == Self.schemaVersion else {
            throw schemaNode.error("schema \(schema) is not supported; this FlowMRD reads schema \(Self.schemaVersion)")
        }
        name = try top.required("name").string(what: "name")
        version = try top.required("version").string(what: "version")
        description = try top["description"]?.string(what: "description") ?? ""
        referencePath = try top["reference"].map { node throws(MRDError) in
            let name = try node.string(what: "reference")
            guard !name.isEmpty else { throw node.error("reference must name a file (relative to the template)") }
            return name.hasPrefix("/") ? name : ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent(name)
        }
        let defaultTransform = try top["default_transform"].map { node throws(MRDError) in try TransformSpec.parse(node) }
            ?? .logicle(T: 262_144, W: 0.5, M: 4.5, A: 0)
        var panel: [PanelMarker] = []
        for (name, node) in try top.required("panel").namedEntries(what: "panel") {
            panel.append(try PanelMarker.parse(name: name, node: node, defaultTransform: defaultTransform))
        }
        guard !panel.isEmpty else { throw top.error("the panel names no marker") }
        self.panel = panel
        compensation = try top["compensation"].map { node throws(MRDError) in try CompensationSpec.parse(node) } ?? .file
        let markerNames = Set(panel.map(\.name))
        var gates: [GateSpec] = []
        for node in try top.required("gates").sequence(what: "gates") {
            let gate = try GateSpec.parse(node, markers: markerNames)
            if gates.contains(where: { $0.id == gate.id }) { throw node.error("gate id \"\(gate.id)\" is used twice") }
            gates.append(gate)
        }
        self.gates = gates
        mrd = try MRDRules.parse(try top.required("mrd"), markers: markerNames)
        qc = try top["qc"].map { node throws(MRDError) in try QCRules.parse(node) } ?? .standard
        var plots: [PlotSpec] = []
        for node in try top["plots"]?.sequence(what: "plots") ?? [] { plots.append(try PlotSpec.parse(node, markers: markerNames)) }
        self.plots = plots
        try checkReferences(root: root, top: top)
    }

    /// Every gate, population and marker reference must name something defined, and parents
    /// must come before their children (so the file reads top-down and has no cycles).
    private func checkReferences(root: TemplateNode, top: KeyedNode) throws(MRDError) {
        var seen: Set<String> = []
        let all = Set(gates.map(\.id))
        for gate in gates {
            for reference in gate.references {
                guard all.contains(reference) else {
                    throw .template(file: path, line: gate.line, column: gate.column,
                                    detail: "gate \"\(gate.id)\" refers to gate \"\(reference)\", which the template does not define")
                }
                guard seen.contains(reference) else {
                    throw .template(file: path, line: gate.line, column: gate.column,
                                    detail: "gate \"\(gate.id)\" refers to gate \"\(reference)\", which must be defined before it")
                }
            }
            seen.insert(gate.id)
        }
        for (reference, line, column) in mrd.references where !all.contains(reference) {
            throw .template(file: path, line: line, column: column, detail: "mrd refers to gate \"\(reference)\", which the template does not define")
        }
        if let id = mrd.chainlessGate, gates.first(where: { $0.id == id })?.isChainlessGate(storedWith: mrd) == false, let (_, line, column) = mrd.references.last(where: { $0.0 == id }) {
            throw .template(file: path, line: line, column: column, detail: "light_chains: chainless_gate \"\(id)\" must be a threshold gate keeping the events above it, on one of the cluster dimensions")
        }
        for (reference, line, column) in qc.references where !all.contains(reference) {
            throw .template(file: path, line: line, column: column, detail: "qc refers to gate \"\(reference)\", which the template does not define")
        }
        for plot in plots {
            for reference in plot.references where !all.contains(reference) {
                throw .template(file: path, line: plot.line, column: plot.column,
                                detail: "plot \"\(plot.title)\" refers to gate \"\(reference)\", which the template does not define")
            }
            if plot.aberrantOverlay && plot.population != mrd.plasmaCells {
                throw .template(file: path, line: plot.line, column: plot.column,
                                detail: "plot \"\(plot.title)\": aberrant_overlay needs population \(mrd.plasmaCells) (the mrd plasma_cells gate)")
            }
        }
    }

    /// The same template with some hemodilution limits replaced (``QCRules/overriding(limits:)``).
    public func overridingQCLimits(_ limits: [String: Double]) throws(MRDError) -> GatingTemplate {
        var copy = self
        copy.qc = try qc.overriding(limits: limits)
        return copy
    }

    /// The gates that read `marker` themselves or through the gates they combine (boolean operands,
    /// a threshold's population), not through their parent.
    /// - Complexity: O(gates²) at most.
    func gatesReading(_ marker: String) -> Set<String> {
        var memo: [String: Bool] = [:]
        func reads(_ id: String, depth: Int) -> Bool {
            if let known = memo[id] { return known }
            guard depth < 64, let gate = gates.first(where: { $0.id == id }) else { return false }
            var result: Bool
            switch gate.kind {
            case .rectangle(let limits): result = limits.contains { $0.marker == marker }
            case .polygon(let x, let y, _), .ratioBand(let x, let y, _, _): result = x == marker || y == marker
            case .threshold(let m, _, let threshold): result = m == marker || (threshold.population.map { reads($0, depth: depth + 1) } ?? false)
            case .flowRate(let time, _, _): result = time == marker
            case .boolean(_, let operands): result = operands.contains { reads($0.id, depth: depth + 1) }
            }
            memo[id] = result
            return result
        }
        return Set(gates.map(\.id).filter { reads($0, depth: 0) })
    }

    /// The gates the call rests on: the nucleated and plasma-cell gates, the hemodilution
    /// indicators' gates, and every gate they depend on (parents, operands, reference populations).
    /// A gate among them that is switched off blocks a negative.
    /// - Complexity: O(g²) for g gates.
    var gatesTheCallRestsOn: Set<String> { gates(under: [mrd.nucleated, mrd.plasmaCells] + qc.indicators.map(\.gate)) }

    /// The gates the nucleated and plasma-cell counts rest on: one of them switched off leaves a
    /// positive call unquantified (cells it would select are not seen).
    var gatesTheCountsRestOn: Set<String> { gates(under: [mrd.nucleated, mrd.plasmaCells]) }

    /// `roots` and every gate they depend on. - Complexity: O(g²) for g gates.
    private func gates(under roots: [String]) -> Set<String> {
        var result: Set<String> = []
        var stack = roots
        while let id = stack.popLast() {
            guard result.insert(id).inserted, let gate = gates.first(where: { $0.id == id }) else { continue }
            stack += gate.references
        }
        return result
    }

    /// Judges hemodilution by a reference's marrow-content score (``MarrowScoreRule``).
    mutating func judgeHemodilution(by rule: MarrowScoreRule) { qc.marrowScore = rule }

    /// The marker named `name`.
    public func marker(_ name: String) -> PanelMarker? { panel.first { $0.name == name } }
}

/// One marker (or scatter/time parameter) of the panel and how it is found in a file.
public struct PanelMarker: Sendable, Equatable {
    /// The name gates use.
    public let name: String
    /// Names matched against $PnS (case-insensitive; also the first word of $PnS).
    public let aliases: [String]
    /// $PnN names to fall back on when no $PnS matches.
    public let channels: [String]
    public let transform: TransformSpec
    /// Whether the values are compensated (fluorescence) or read as they are (scatter, time).
    public let compensated: Bool

    static func parse(name: String, node: TemplateNode, defaultTransform: TransformSpec) throws(MRDError) -> PanelMarker {
        let keys = try node.mapping(allowed: ["aliases", "channels", "transform", "compensated"], what: "panel marker \"\(name)\"")
        let aliases = try keys["aliases"]?.strings(what: "aliases of \(name)") ?? [name]
        let channels = try keys["channels"]?.strings(what: "channels of \(name)") ?? []
        let transform = try keys["transform"].map { n throws(MRDError) in try TransformSpec.parse(n) } ?? defaultTransform
        var compensated = true
        if let c = keys["compensated"] {
            let text = try c.string(what: "compensated")
            guard let value = Bool(text.lowercased()) else { throw c.error("compensated must be true or false") }
            compensated = value
        }
        return PanelMarker(name: name, aliases: aliases.contains(name) ? aliases : [name] + aliases, channels: channels,
                           transform: transform, compensated: compensated)
    }
}

/// A transform from a template, in Gating-ML terms.
public enum TransformSpec: Sendable, Equatable {
    /// flin: x / T (A = 0) — scatter on a 0…1 scale.
    case linear(T: Double)
    /// None: values as read (seconds for Time).
    case none
    case logicle(T: Double, W: Double, M: Double, A: Double)
    case asinh(T: Double, M: Double, A: Double)
    case log(T: Double, M: Double)

    static func parse(_ node: TemplateNode) throws(MRDError) -> TransformSpec {
        if case .scalar = node.node, try node.string(what: "transform") == "none" { return .none }
        let keys = try node.mapping(allowed: ["linear", "logicle", "asinh", "log"], what: "transform")
        guard keys.entries.count == 1, let (kind, body, _) = keys.entries.first else {
            throw node.error("transform must name exactly one of linear, logicle, asinh, log (or be none)")
        }
        func parameters(_ names: [String]) throws(MRDError) -> [Double] {
            let p = try body.mapping(allowed: names, what: "\(kind) transform")
            var values: [Double] = []
            for name in names { values.append(try p.required(name).double(what: "\(kind) \(name)")) }
            return values
        }
        let spec: TransformSpec
        switch kind {
        case "linear": spec = .linear(T: try parameters(["T"])[0])
        case "logicle": let v = try parameters(["T", "W", "M", "A"]); spec = .logicle(T: v[0], W: v[1], M: v[2], A: v[3])
        case "asinh": let v = try parameters(["T", "M", "A"]); spec = .asinh(T: v[0], M: v[1], A: v[2])
        default: let v = try parameters(["T", "M"]); spec = .log(T: v[0], M: v[1])
        }
        do { try spec.validate() } catch { throw body.error("\(kind) transform: \(error)") }
        return spec
    }

    /// Checks the parameters' domains (for logicle, among others, W ≤ M/2).
    func validate() throws(CytometryError) {
        switch self {
        case .logicle(let T, let W, let M, let A): _ = try LogicleTransform(T: T, W: W, M: M, A: A)
        case .linear(let T): _ = try Transformation.validated(.linear(T: T, A: 0))
        case .log(let T, let M): _ = try Transformation.validated(.log(T: T, M: M))
        case .asinh(let T, let M, let A): _ = try Transformation.validated(.asinh(T: T, M: M, A: A))
        case .none: break
        }
    }
}

/// Which compensation the fluorescence markers get.
public enum CompensationSpec: Sendable, Equatable {
    /// The file's own spillover keyword; a file without one cannot be analysed.
    case file
    /// None: the file is already compensated.
    case none
    /// A spillover matrix given in the template (rows: fluorochrome, columns: detector, $PnN names).
    case matrix(SpilloverMatrix)

    static func parse(_ node: TemplateNode) throws(MRDError) -> CompensationSpec {
        if case .scalar = node.node {
            switch try node.string(what: "compensation") {
            case "file": return .file
            case "none": return .none
            default: throw node.error("compensation must be file, none, or a spillover matrix")
            }
        }
        let keys = try node.mapping(allowed: ["spillover"], what: "compensation")
        let s = try keys.required("spillover").mapping(allowed: ["detectors", "rows"], what: "spillover")
        let detectors = try s.required("detectors").strings(what: "spillover detectors")
        var values: [Double] = []
        for row in try s.required("rows").sequence(what: "spillover rows") {
            values += try row.doubles(what: "spillover row", count: detectors.count)
        }
        guard values.count == detectors.count * detectors.count else {
            throw s.error("spillover needs \(detectors.count) rows of \(detectors.count) numbers")
        }
        do { return .matrix(try SpilloverMatrix(channels: detectors, values: values, source: .spillover)) } catch {
            throw node.error("spillover matrix: \(error)")
        }
    }
}

/// Which side of a threshold a gate keeps (or a rule calls aberrant).
public enum ThresholdSide: String, Sendable, Equatable {
    case above, below
}

/// How a threshold is placed: fixed, or learned from this sample's data.
public enum ThresholdSpec: Sendable, Equatable {
    /// A fixed value in transformed units.
    case fixed(Double)
    /// The lowest point of the smoothed density between two peaks, searched within `search`,
    /// in `population`'s events (nil: the gate's parent).
    case valley(population: String?, search: ClosedRange<Double>, minEvents: Int, smoothing: Double)
    /// A quantile of a reference population plus an offset, kept within `bounds`; `robust`: the
    /// quantile of a normal distribution with the population's median and robust SD
    /// (1.4826 × MAD), which a minority of other cells in the population cannot move.
    case reference(population: String, quantile: Double, offset: Double, bounds: ClosedRange<Double>, minEvents: Int, robust: Bool)

    /// A valley's smoothing and least number of events when the template gives none.
    static let valleySmoothing = 0.02, valleyMinEvents = 100

    var population: String? {
        switch self {
        case .fixed: return nil
        case .valley(let p, _, _, _): return p
        case .reference(let p, _, _, _, _, _): return p
        }
    }

    static func parse(_ node: TemplateNode, what: String) throws(MRDError) -> ThresholdSpec {
        if case .scalar = node.node { return .fixed(try node.double(what: what)) }
        let keys = try node.mapping(allowed: ["valley", "reference", "fallback"], what: what)
        // `fallback` decides nothing since 0.6 (a boundary the data cannot place switches its
        // gate or rule off); it is still read and checked so that older templates load.
        let fallbackNode = keys["fallback"]
        let fallback = try fallbackNode?.double(what: "\(what) fallback")
        if let v = keys["valley"] {
            guard keys["reference"] == nil else { throw keys.error("give either valley or reference, not both") }
            let p = try v.mapping(allowed: ["population", "search", "min_events", "smoothing"], what: "valley")
            let search = try range(p.required("search"), what: "valley search")
            if let fallback, let fallbackNode, !search.contains(fallback) { throw fallbackNode.error("the fallback \(fallback) lies outside the valley search range \(search)") }
            let smoothing = try p["smoothing"]?.double(what: "smoothing") ?? valleySmoothing
            guard smoothing > 0 && smoothing < 0.5 else { throw (p["smoothing"] ?? v).error("valley: smoothing must be between 0 and 0.5") }
            return .valley(population: try p["population"]?.string(what: "population"), search: search,
                           minEvents: try minEvents(p, default: valleyMinEvents), smoothing: smoothing)
        }
        if let r = keys["reference"] {
            let p = try r.mapping(allowed: ["population", "quantile", "offset", "bounds", "min_events", "estimate"], what: "reference")
            let quantileNode = try p.required("quantile")
            let quantile = try quantileNode.double(what: "quantile")
            guard quantile >= 0 && quantile <= 1 else { throw quantileNode.error("quantile must be between 0 and 1") }
            let bounds = try range(p.required("bounds"), what: "reference bounds")
            if let fallback, let fallbackNode, !bounds.contains(fallback) { throw fallbackNode.error("the fallback \(fallback) lies outside the bounds \(bounds)") }
            var robust = false
            if let e = p["estimate"] {
                switch try e.string(what: "estimate") {
                case "empirical": robust = false
                case "robust":
                    guard quantile > 0 && quantile < 1 else { throw quantileNode.error("a robust quantile must lie strictly between 0 and 1") }
                    robust = true
                case let other: throw e.error("reference: estimate must be empirical or robust, not \"\(other)\"")
                }
            }
            return .reference(population: try p.required("population").string(what: "population"), quantile: quantile,
                              offset: try p["offset"]?.double(what: "offset") ?? 0, bounds: bounds,
                              minEvents: try minEvents(p, default: 50), robust: robust)
        }
        throw keys.error("a data-driven threshold needs valley or reference")
    }

    /// `min_events`: how many events a data-driven threshold needs before it trusts the data.
    static func minEvents(_ keys: KeyedNode, default value: Int) throws(MRDError) -> Int {
        guard let n = keys["min_events"] else { return value }
        let v = try n.int(what: "min_events")
        guard v >= 1 else { throw n.error("\(keys.what): min_events must be at least 1") }
        return v
    }

    static func range(_ node: TemplateNode, what: String) throws(MRDError) -> ClosedRange<Double> {
        let v = try node.doubles(what: what, count: 2)
        guard v[0] < v[1] else { throw node.error("\(what) must be [low, high] with low < high") }
        return v[0]...v[1]
    }
}

/// One gate of a template.
public struct GateSpec: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// Limits per marker in transformed units; nil is open.
        case rectangle([(marker: String, min: Double?, max: Double?)])
        case polygon(x: String, y: String, vertices: [(Double, Double)])
        /// One-dimensional: keep the events above or below a (possibly data-driven) threshold.
        case threshold(marker: String, keep: ThresholdSide, threshold: ThresholdSpec)
        /// Singlets: y/x within median ± width × robust SD of the parent's events.
        case ratioBand(x: String, y: String, width: Double, bounds: ClosedRange<Double>)
        /// Time stability: drop time bins whose event rate departs from the median rate by more than `tolerance`.
        case flowRate(time: String, bins: Int?, tolerance: Double)
        /// and / or / not of other gates; `!id` is the complement.
        case boolean(op: String, operands: [(id: String, complement: Bool)])

        public static func == (a: Kind, b: Kind) -> Bool { String(describing: a) == String(describing: b) }
    }

    public let id: String
    public let parent: String?
    public let kind: Kind
    public let line: Int
    public let column: Int

    /// Gates this gate depends on.
    var references: [String] {
        var result = parent.map { [$0] } ?? []
        switch kind {
        case .boolean(_, let operands): result += operands.map(\.id)
        case .threshold(_, _, let threshold): if let p = threshold.population { result.append(p) }
        default: break
        }
        return result
    }

    static func parse(_ node: TemplateNode, markers: Set<String>) throws(MRDError) -> GateSpec {
        let allowed = ["id", "parent", "type", "limits", "x", "y", "vertices", "marker", "keep", "threshold",
                       "width", "bounds", "fallback", "time", "bins", "tolerance", "and", "or", "not", "description"]
        let unnamed = try node.mapping(allowed: allowed, what: "gate")
        let id = try unnamed.required("id").string(what: "gate id")
        let what = "gate \"\(id)\""
        let keys = unnamed.named(what)
        let typeNode = try keys.required("type")
        let type = try typeNode.string(what: "gate type")
        func marker(_ key: String) throws(MRDError) -> String {
            try keys.marker(key, in: markers, label: "\(what) \(key)", owner: what)
        }
        let perType: [String: [String]] = [
            "rectangle": ["limits"], "polygon": ["x", "y", "vertices"], "threshold": ["marker", "keep", "threshold"],
            "ratio-band": ["x", "y", "width", "bounds", "fallback"], "flow-rate": ["time", "bins", "tolerance"], "boolean": ["and", "or", "not"],
        ]
        guard let own = perType[type] else {
            throw typeNode.error("\(what): unknown type \"\(type)\" (expected \(perType.keys.sorted().joined(separator: ", ")))")
        }
        for key in keys.keys where !["id", "parent", "type", "description"].contains(key) && !own.contains(key) {
            throw (keys[key]!).error("\(what): key \"\(key)\" does not apply to a \(type) gate (it takes \(own.joined(separator: ", ")))")
        }
        let kind: Kind
        switch type {
        case "rectangle":
            var limits: [(String, Double?, Double?)] = []
            for (name, limitNode) in try keys.required("limits").namedEntries(what: "\(what) limits") {
                guard markers.contains(name) else { throw limitNode.error("\(what): marker \"\(name)\" is not in the panel") }
                let pair = try limitNode.sequence(what: "limits of \(name)")
                guard pair.count == 2 else { throw limitNode.error("limits of \(name) must be [min, max] (null for open)") }
                let lo = pair[0].isNull ? nil : try pair[0].double(what: "minimum of \(name)")
                let hi = pair[1].isNull ? nil : try pair[1].double(what: "maximum of \(name)")
                if let lo, let hi, lo >= hi { throw limitNode.error("limits of \(name): minimum must be below maximum") }
                limits.append((name, lo, hi))
            }
            guard !limits.isEmpty else { throw keys.error("a rectangle needs at least one limit") }
            kind = .rectangle(limits)
        case "polygon":
            var vertices: [(Double, Double)] = []
            let list = try keys.required("vertices").sequence(what: "vertices")
            for v in list {
                let xy = try v.doubles(what: "vertex", count: 2)
                vertices.append((xy[0], xy[1]))
            }
            guard vertices.count >= 3 else { throw keys.error("a polygon needs at least 3 vertices") }
            guard vertices.count <= 10_000 else { throw keys.error("a polygon may have at most 10000 vertices") }
            kind = .polygon(x: try marker("x"), y: try marker("y"), vertices: vertices)
        case "threshold":
            let keepNode = try keys.required("keep")
            guard let keep = ThresholdSide(rawValue: try keepNode.string(what: "keep")) else { throw keepNode.error("keep must be above or below") }
            kind = .threshold(marker: try marker("marker"), keep: keep, threshold: try ThresholdSpec.parse(try keys.required("threshold"), what: "\(what) threshold"))
        case "ratio-band":
            let widthNode = try keys.required("width")
            let width = try widthNode.double(what: "width")
            guard width > 0 else { throw widthNode.error("\(what): width must be positive") }
            let bounds = try ThresholdSpec.range(try keys.required("bounds"), what: "bounds")
            // `fallback` is read and checked for older templates; it decides nothing (see ThresholdSpec).
            if let f = keys["fallback"] { _ = try ThresholdSpec.range(f, what: "fallback") }
            kind = .ratioBand(x: try marker("x"), y: try marker("y"), width: width, bounds: bounds)
        case "flow-rate":
            let bins = try keys["bins"].map { n throws(MRDError) -> Int in
                let b = try n.int(what: "bins")
                guard (3...10_000).contains(b) else { throw n.error("bins must be between 3 and 10000") }
                return b
            }
            let toleranceNode = try keys.required("tolerance")
            let tolerance = try toleranceNode.double(what: "tolerance")
            guard tolerance > 0 && tolerance < 1 else { throw toleranceNode.error("tolerance must be between 0 and 1") }
            kind = .flowRate(time: try marker("time"), bins: bins, tolerance: tolerance)
        default:
            let present = ["and", "or", "not"].filter { keys[$0] != nil }
            guard present.count == 1 else { throw keys.error("a boolean gate needs exactly one of and, or, not") }
            let op = present[0]
            var operands: [(String, Bool)] = []
            for name in try keys[op]!.strings(what: "\(op) operands") {
                operands.append(name.hasPrefix("!") ? (String(name.dropFirst()), true) : (name, false))
            }
            if op == "not" && operands.count != 1 { throw keys.error("not takes one gate") }
            if op != "not" && operands.count < 2 { throw keys.error("\(op) takes at least two gates") }
            kind = .boolean(op: op, operands: operands)
        }
        return GateSpec(id: id, parent: try keys["parent"]?.string(what: "parent"), kind: kind, line: node.line, column: node.column)
    }
}
