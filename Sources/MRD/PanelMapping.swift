import Cytometry
import EventCore
import FCS

/// The template's markers resolved to one data set's channels.
///
/// A marker assigned by the user (``ChannelAssignments``, `--channel CD45=APC-H7-A`) takes that
/// channel, found by $PnN. Otherwise it is found by its $PnS (the stain): equal to one of its
/// aliases, ignoring case, or starting with an alias followed by a space, dash or underscore
/// ("CD45 APC-H7" → CD45). Only when no $PnS matches is $PnN tried, against the marker's channel
/// names and aliases, and only on a channel whose $PnS is empty or repeats its name (a channel
/// labelled with another stain is that stain's: `BV510-A` with $PnS `CD3` is never used as CD38).
///
/// Every problem is collected before anything is refused, so one error names them all once
/// (``MRDError/panel(file:problems:available:)``): markers found nowhere, a marker whose stain two
/// channels carry (which one holds it cannot be known), two markers on one channel, an assigned
/// channel the file lacks.
public struct PanelMapping: Sendable {
    public struct Entry: Sendable, Equatable {
        public let marker: String
        /// The channel's $PnN.
        public let channel: String
        public let channelIndex: Int
        /// How it was found: "$PnS", "$PnN" or "--channel".
        public let matchedBy: String
    }

    public let entries: [Entry]
    /// Repairs to report: an assignment that overrides a channel's own stain label.
    public let warnings: [String]

    /// - Complexity: O(panel markers × channels).
    public init(template: GatingTemplate, dataSet: EventDataSet, file: String, assignments: ChannelAssignments = .none) throws(MRDError) {
        var entries: [Entry] = [], problems: [PanelProblem] = [], warnings: [String] = []
        let channels = dataSet.channels
        func normalized(_ s: String) -> String { s.lowercased().trimmingCharacters(in: .whitespaces) }
        func label(_ i: Int) -> String { channels[i].marker.map { "\(channels[i].name) ($PnS \($0))" } ?? channels[i].name }
        for marker in template.panel {
            if let wanted = assignments.channels[marker.name] {
                guard let i = channels.firstIndex(where: { $0.name == wanted }) ?? channels.firstIndex(where: { normalized($0.name) == normalized(wanted) }) else {
                    problems.append(.assignedChannelAbsent(marker: marker.name, channel: wanted))
                    continue
                }
                if let stain = channels[i].marker, !stain.isEmpty, normalized(stain) != normalized(channels[i].name),
                   !marker.aliases.map(normalized).contains(where: { normalized(stain) == $0 || normalized(stain).hasPrefix($0 + " ") }) {
                    warnings.append("--channel \(marker.name)=\(wanted): the channel's own label ($PnS \(stain)) is overridden")
                }
                entries.append(Entry(marker: marker.name, channel: channels[i].name, channelIndex: i, matchedBy: "--channel"))
                continue
            }
            let aliases = marker.aliases.map(normalized)
            let byStain = channels.indices.filter { i in
                guard let stain = channels[i].marker.map(normalized), !stain.isEmpty else { return false }
                return aliases.contains { stain == $0 || stain.hasPrefix($0 + " ") || stain.hasPrefix($0 + "-") || stain.hasPrefix($0 + "_") }
            }
            if byStain.count > 1 {
                problems.append(.claimedTwice(marker: marker.name, channels: byStain.map(label)))
                continue
            }
            if let i = byStain.first {
                entries.append(Entry(marker: marker.name, channel: channels[i].name, channelIndex: i, matchedBy: "$PnS"))
                continue
            }
            let names = (marker.channels + marker.aliases).map(normalized)
            let byName = channels.indices.first { i in
                guard names.contains(normalized(channels[i].name)) else { return false }
                // A channel whose $PnS names another stain is that stain's, whatever its $PnN says.
                if let stain = channels[i].marker.map(normalized), !stain.isEmpty, stain != normalized(channels[i].name), !names.contains(stain) { return false }
                return true
            }
            guard let i = byName else {
                problems.append(.missing(marker: marker.name, tried: marker.aliases + marker.channels))
                continue
            }
            entries.append(Entry(marker: marker.name, channel: channels[i].name, channelIndex: i, matchedBy: "$PnN"))
        }
        // Two markers on one channel would silently gate one stain as another.
        var byChannel: [Int: [String]] = [:]
        for entry in entries { byChannel[entry.channelIndex, default: []].append(entry.marker) }
        for (index, markers) in byChannel.sorted(by: { $0.key < $1.key }) where markers.count > 1 {
            problems.append(.sharedChannel(channel: label(index), markers: markers))
        }
        guard problems.isEmpty else {
            throw .panel(file: file, problems: problems, available: channels.indices.map(label))
        }
        self.entries = entries
        self.warnings = warnings
    }

    public func entry(_ marker: String) -> Entry? { entries.first { $0.marker == marker } }
}

/// Why a template's marker cannot be taken from a file.
public enum PanelProblem: Sendable, Equatable, CustomStringConvertible {
    /// No channel's $PnS or $PnN matches.
    case missing(marker: String, tried: [String])
    /// Two or more channels carry the marker's stain label.
    case claimedTwice(marker: String, channels: [String])
    /// Two or more markers resolve to one channel.
    case sharedChannel(channel: String, markers: [String])
    /// `--channel MARKER=CHANNEL` names a channel the file does not have.
    case assignedChannelAbsent(marker: String, channel: String)

    public var description: String {
        switch self {
        case .missing(let marker, let tried):
            return "marker \"\(marker)\" not found (looked for $PnS or $PnN \(tried.map { "\"\($0)\"" }.joined(separator: ", ")))"
        case .claimedTwice(let marker, let channels):
            return "marker \"\(marker)\" is claimed by \(channels.count) channels: \(channels.joined(separator: " and ")) (choose one with --channel \(marker)=CHANNEL)"
        case .sharedChannel(let channel, let markers):
            return "channel \(channel) resolves to \(markers.count) markers: \(markers.map { "\"\($0)\"" }.joined(separator: ", "))"
        case .assignedChannelAbsent(let marker, let channel):
            return "--channel \(marker)=\(channel): the file has no channel \(channel)"
        }
    }

    /// How a user maps what the template's aliases did not find.
    static let howToMap = "; map a channel with --channel MARKER=CHANNEL ($PnN), or add the file's label to the marker's aliases in the template"
}
