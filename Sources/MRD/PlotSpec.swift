/// One dot plot of the reviewer's report, from the template's `plots` list: two markers, the
/// population whose events it shows, the gates drawn on it, and whether normal and aberrant
/// plasma cells are told apart in two colours.
///
/// The analysis bins the events into a ``PlotDensity`` during its full pass, so a report costs
/// one histogram increment per shown event, not a second read of the file.
public struct PlotSpec: Sendable, Equatable {
    public let title: String
    public let x: String
    public let y: String
    /// Gate whose events are shown; nil for every event in the file.
    public let population: String?
    /// Gates drawn on the plot (those with a boundary in x or y).
    public let gates: [String]
    /// Draw the aberrancy-rule thresholds of x and y.
    public let rules: Bool
    /// Show the population as normal plasma cells (density) and aberrant ones (dots on top);
    /// the population must be the template's plasma-cell gate.
    public let aberrantOverlay: Bool
    /// Axis ranges in transformed units; nil: 0…1 (Time: first to last event).
    public let xRange: ClosedRange<Double>?
    public let yRange: ClosedRange<Double>?
    let line: Int
    let column: Int

    public static func == (a: PlotSpec, b: PlotSpec) -> Bool { String(describing: a) == String(describing: b) }

    static func parse(_ node: TemplateNode, markers: Set<String>) throws(MRDError) -> PlotSpec {
        let k = try node.mapping(allowed: ["title", "x", "y", "population", "gates", "rules", "aberrant_overlay", "x_range", "y_range"], what: "plot")
        func marker(_ key: String) throws(MRDError) -> String {
            try k.marker(key, in: markers, label: "plot \(key)", owner: "plot \(key)")
        }
        func flag(_ key: String) throws(MRDError) -> Bool {
            guard let n = k[key] else { return false }
            guard let value = Bool(try n.string(what: key).lowercased()) else { throw n.error("\(key) must be true or false") }
            return value
        }
        let x = try marker("x"), y = try marker("y")
        let population = try k["population"].flatMap { n throws(MRDError) in n.isNull ? nil : try n.string(what: "plot population") }
        return PlotSpec(title: try k["title"]?.string(what: "plot title") ?? "\(x) vs \(y)", x: x, y: y, population: population,
                        gates: try k["gates"]?.strings(what: "plot gates") ?? [], rules: try flag("rules"),
                        aberrantOverlay: try flag("aberrant_overlay"),
                        xRange: try k["x_range"].map { n throws(MRDError) in try ThresholdSpec.range(n, what: "x_range") },
                        yRange: try k["y_range"].map { n throws(MRDError) in try ThresholdSpec.range(n, what: "y_range") },
                        line: node.line, column: node.column)
    }

    /// Gates this plot refers to.
    var references: [String] { (population.map { [$0] } ?? []) + gates }
}
