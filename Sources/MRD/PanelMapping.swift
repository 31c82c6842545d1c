import Cytometry
import FCS

/// The template's markers resolved to one data set's channels.
///
/// A marker is found by its $PnS (the stain) first: equal to one of its aliases, ignoring case,
/// or starting with an alias followed by a space or dash ("CD45 APC-H7" → CD45). Only when no
/// $PnS matches is $PnN tried, against the marker's channel names and aliases, and only on a
/// channel whose $PnS is empty or repeats its name (a channel labelled with another stain is that
/// stain's: `BV510-A` with $PnS `CD3` is never used as CD38). A marker found nowhere is ``MRDError/missingMarker(file:marker:tried:available:)``.
public struct PanelMapping: Sendable {
    public struct Entry: Sendable, Equatable {
        public let marker: String
        /// The channel's $PnN.
        public let channel: String
        public let channelIndex: Int
        /// How it was found: "$PnS" or "$PnN".
        public let matchedBy: String
    }

    public let entries: [Entry]

    public init(template: GatingTemplate, dataSet: FCSDataSet, file: String) throws(MRDError) {
        var entries: [Entry] = []
        let channels = dataSet.channels
        func normalized(_ s: String) -> String { s.lowercased().trimmingCharacters(in: .whitespaces) }
        for marker in template.panel {
            let aliases = marker.aliases.map(normalized)
            var found: (Int, String)?
            for (i, channel) in channels.enumerated() {
                guard let stain = channel.marker.map(normalized), !stain.isEmpty else { continue }
                if aliases.contains(where: { stain == $0 || stain.hasPrefix($0 + " ") || stain.hasPrefix($0 + "-") || stain.hasPrefix($0 + "_") }) {
                    found = (i, "$PnS")
                    break
                }
            }
            if found == nil {
                let names = (marker.channels + marker.aliases).map(normalized)
                for (i, channel) in channels.enumerated() where names.contains(normalized(channel.name)) {
                    // A channel whose $PnS names another stain is that stain's, whatever its $PnN says.
                    if let stain = channel.marker.map(normalized), !stain.isEmpty, stain != normalized(channel.name), !names.contains(stain) { continue }
                    found = (i, "$PnN")
                    break
                }
            }
            guard let (index, how) = found else {
                let available = channels.map { c in c.marker.map { "\(c.name) (\($0))" } ?? c.name }
                throw .missingMarker(file: file, marker: marker.name, tried: marker.aliases + marker.channels, available: available)
            }
            entries.append(Entry(marker: marker.name, channel: channels[index].name, channelIndex: index, matchedBy: how))
        }
        // Two markers on one channel would silently gate one stain as another.
        for (i, a) in entries.enumerated() {
            if let b = entries[(i + 1)...].first(where: { $0.channelIndex == a.channelIndex }) {
                throw .ambiguousMarker(file: file, marker: b.marker, channel: a.channel, alreadyUsedBy: a.marker)
            }
        }
        self.entries = entries
    }

    public func entry(_ marker: String) -> Entry? { entries.first { $0.marker == marker } }
}
