/// Markers the user maps to channels by hand (`--channel CD45=APC-H7-A`), for a file whose labels
/// the template's aliases do not match. Checked against the template when made; each file is then
/// checked for the named channels (``PanelMapping``). Recorded in every result.
public struct ChannelAssignments: Sendable, Equatable {
    /// Marker name (as the template spells it) → channel $PnN.
    public let channels: [String: String]

    public static let none = ChannelAssignments(validated: [:])

    private init(validated: [String: String]) { channels = validated }

    /// Parses `MARKER=CHANNEL` items for `template`.
    ///
    /// - Throws: ``MRDError/channelAssignment(_:)`` naming the item: not `MARKER=CHANNEL`, a marker
    ///   the template does not have (with the nearest name), one marker given twice with different
    ///   channels, or one channel given to two markers.
    /// - Complexity: O(items × panel markers).
    public init(_ items: [String], template: GatingTemplate) throws(MRDError) {
        var channels: [String: String] = [:]
        for item in items {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw .channelAssignment("--channel \(item): expected MARKER=CHANNEL, e.g. CD45=APC-H7-A")
            }
            let names = template.panel.map(\.name)
            guard let marker = names.first(where: { $0 == parts[0] }) ?? names.first(where: { $0.lowercased() == parts[0].lowercased() }) else {
                let nearest = names.min { editDistance($0.lowercased(), parts[0].lowercased()) < editDistance($1.lowercased(), parts[0].lowercased()) }
                throw .channelAssignment("--channel \(item): template \(template.name) has no marker \"\(parts[0])\""
                                         + (nearest.map { "; did you mean \"\($0)\"?" } ?? "") + " (its markers: \(names.joined(separator: ", ")))")
            }
            if let earlier = channels[marker], earlier != parts[1] {
                throw .channelAssignment("--channel \(item): \(marker) is already assigned to \(earlier)")
            }
            if let other = channels.first(where: { $0.key != marker && $0.value == parts[1] }) {
                throw .channelAssignment("--channel \(item): channel \(parts[1]) is already assigned to \(other.key)")
            }
            channels[marker] = parts[1]
        }
        self.channels = channels
    }

    public var isEmpty: Bool { channels.isEmpty }
}
