/// A trait of a normal plasma-cell subset: one departure from the majority phenotype of
/// normal plasma cells (CD19+ CD45+ CD56− CD27 bright CD81+). Normal marrow holds all of these
/// subsets, and every one of them is polyclonal (domain primer §1a).
public enum NormalPlasmaCellTrait: Int, CaseIterable, Sendable, Codable, Comparable {
    case cd19Negative, cd45Low, cd56Positive, cd27Dim, cd81Dim

    /// The name used in options, truth files and documentation.
    public var key: String {
        ["CD19-", "CD45dim", "CD56+", "CD27dim", "CD81dim"][rawValue]
    }

    /// The marker the trait changes.
    public var marker: Marker {
        [Marker.cd19, .cd45, .cd56, .cd27, .cd81][rawValue]
    }

    /// The trait named `key` (case-insensitive; `CD45-` and `CD45low` are accepted for `CD45dim`).
    public init?(key: String) {
        let lower = key.lowercased()
        let aliases: [String: NormalPlasmaCellTrait] = [
            "cd19-": .cd19Negative, "cd19neg": .cd19Negative, "cd45dim": .cd45Low, "cd45-": .cd45Low, "cd45low": .cd45Low,
            "cd56+": .cd56Positive, "cd56pos": .cd56Positive, "cd27dim": .cd27Dim, "cd27-": .cd27Dim, "cd81dim": .cd81Dim, "cd81-": .cd81Dim,
        ]
        guard let trait = aliases[lower] else { return nil }
        self = trait
    }

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// The label of one event in a truth file: one byte per event, in file order.
///
/// Codes 1–14 are ``CellPopulation`` raw values, except that normal plasma cells are never
/// written as 10: a normal plasma cell is `0x80 | (λ ? 0x40 : 0) | traits`, where bit *k* of
/// `traits` is ``NormalPlasmaCellTrait`` with raw value *k*. So a label tells every normal
/// subset, its light chain, and the clone (11) apart.
///
/// - Complexity: O(1) for every member.
public struct EventLabel: Hashable, Sendable, CustomStringConvertible {
    public let code: UInt8

    public init(code: UInt8) { self.code = code }

    /// A label for an event that is not a normal plasma cell.
    public init(_ population: CellPopulation) {
        precondition(population != .normalPlasmaCell, "normal plasma cells carry traits and a light chain")
        code = population.rawValue
    }

    /// A normal plasma cell with these subset traits and light chain.
    public static func normalPlasmaCell(traits: Set<NormalPlasmaCellTrait>, lightChain: LightChain) -> EventLabel {
        let bits = traits.reduce(UInt8(0)) { $0 | (1 << UInt8($1.rawValue)) }
        return EventLabel(code: 0x80 | (lightChain == .lambda ? 0x40 : 0) | bits)
    }

    /// Whether the code is one the generator writes.
    public var isValid: Bool {
        code >= 0x80 ? code & 0x20 == 0 : (CellPopulation(rawValue: code).map { $0 != .normalPlasmaCell } ?? false)
    }

    public var population: CellPopulation? {
        code >= 0x80 ? .normalPlasmaCell : CellPopulation(rawValue: code).flatMap { $0 == .normalPlasmaCell ? nil : $0 }
    }

    /// The subset traits of a normal plasma cell (empty for every other event).
    public var traits: Set<NormalPlasmaCellTrait> {
        guard code >= 0x80 else { return [] }
        return Set(NormalPlasmaCellTrait.allCases.filter { code & (1 << UInt8($0.rawValue)) != 0 })
    }

    /// The light chain of a normal plasma cell (nil for every other event; the clone's is in the truth file).
    public var lightChain: LightChain? { code >= 0x80 ? (code & 0x40 != 0 ? .lambda : .kappa) : nil }

    /// e.g. `normal-plasma-cell[CD19-,CD45dim]/lambda`, `aberrant-plasma-cell`.
    public var description: String {
        guard let population else { return "invalid(\(code))" }
        guard population == .normalPlasmaCell else { return population.name }
        let names = traits.sorted().map(\.key)
        return "normal-plasma-cell" + (names.isEmpty ? "" : "[\(names.joined(separator: ","))]") + "/" + lightChain!.rawValue
    }
}
