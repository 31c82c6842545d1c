import EventCore
import FCS

/// The LEGEND-2 ten-colour panel as an 18-bit instrument writes it: channel names in $PnN,
/// markers in $PnS, and a spillover matrix over the ten fluorescence detectors.
public enum LegendPanel {
    /// Scatter and time first, then one detector per ``Marker``.
    public static let channels: [FCSChannelDescription] = [
        ("FSC-A", nil), ("FSC-H", nil), ("SSC-A", nil), ("Time", nil),
        ("APC-H7-A", "CD45"), ("BV510-A", "CD38"), ("APC-A", "CD138"), ("PE-Cy7-A", "CD19"), ("APC-A700-A", "CD56"),
        ("PE-Cy5.5-A", "CD117"), ("Pacific Blue-A", "CD81"), ("BV605-A", "CD27"), ("FITC-A", "cyKappa"), ("PE-A", "cyLambda"),
    ].map { FCSChannelDescription(name: $0.0, marker: $0.1, range: 262_144) }

    /// Index of the first fluorescence channel.
    public static let firstMarkerChannel = 4

    /// Each fluorochrome spills a few percent into the neighbouring detectors.
    public static var spillover: SpilloverMatrix {
        let names = channels.dropFirst(firstMarkerChannel).map(\.name)
        let n = names.count
        var values = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            values[i * n + i] = 1
            if i + 1 < n { values[i * n + i + 1] = 0.08 + 0.01 * Double(i) }
            if i > 0 { values[i * n + i - 1] = 0.03 }
            if i + 2 < n { values[i * n + i + 2] = 0.01 }
        }
        return try! SpilloverMatrix(channels: names, values: values, source: .spillover)
    }
}
