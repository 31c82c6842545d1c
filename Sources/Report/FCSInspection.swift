import EventCore

/// What `flowmrd inspect` reports about one event file (FCS or an HDF5 event store): versions,
/// data sets, channels, spillover and every warning — or the error that stopped reading it.
/// For an HDF5 store the data set is the one its kept FCS keywords describe; its events are
/// stored as float32 (`format` says which container was read).
///
/// Codable with stable key names; the JSON form is what `inspect --json` prints.
public struct FCSInspection: Codable, Sendable, Equatable {
    public struct Channel: Codable, Sendable, Equatable {
        public let number: Int
        public let name: String
        public let marker: String?
        public let range: Double?
        public let bits: Int
        public let amplification: String
        public let gain: Double?
    }

    public struct DataSet: Codable, Sendable, Equatable {
        public let index: Int
        public let offset: Int
        public let version: String
        public let cytometer: String?
        public let events: Int
        public let declaredEvents: Int?
        public let dataType: String
        public let byteOrder: String
        public let bytesPerEvent: Int
        public let dataBegin: Int
        public let timestep: Double?
        public let channels: [Channel]
        /// "absent", or the keyword it came from.
        public let spillover: String
        public let spilloverChannels: [String]?
        public let spilloverError: String?
        public let warnings: [ReadWarning]
        public let isDefault: Bool
    }

    public let file: String
    /// "FCS" or "HDF5"; nil when the file could not be read.
    public let format: String?
    public let size: Int?
    public let dataSets: [DataSet]
    public let warnings: [ReadWarning]
    /// The error that stopped reading, when the file could not be read.
    public let error: String?

    /// Describes a readable file.
    public init(file: any EventSource) {
        self.file = file.path
        self.format = file.formatName
        self.size = file.size
        self.warnings = file.warnings
        self.error = nil
        let defaultIndex = file.defaultDataSetIndex
        self.dataSets = file.dataSets.map { set in
            let (spillover, spilloverChannels, spilloverError): (String, [String]?, String?)
            switch set.spillover {
            case .success(let matrix?): (spillover, spilloverChannels, spilloverError) = (matrix.source.rawValue, matrix.channels, nil)
            case .success(nil): (spillover, spilloverChannels, spilloverError) = ("absent", nil, nil)
            case .failure(let error): (spillover, spilloverChannels, spilloverError) = ("malformed", nil, error.reasonWithoutFileName)
            }
            return DataSet(
                index: set.index, offset: set.storage.offset, version: set.version, cytometer: set.cytometer,
                events: set.eventCount, declaredEvents: set.declaredEventCount, dataType: set.storage.dataType,
                byteOrder: set.storage.byteOrder, bytesPerEvent: set.storage.bytesPerEvent, dataBegin: set.storage.dataBegin,
                timestep: set.timestep,
                channels: set.channels.map { channel in
                    Channel(number: channel.number, name: channel.name, marker: channel.marker, range: channel.range,
                            bits: channel.bits,
                            amplification: channel.amplification.decades == 0 ? "linear"
                                : "log \(Self.number(channel.amplification.decades)),\(Self.number(channel.amplification.offset))",
                            gain: channel.gain)
                },
                spillover: spillover, spilloverChannels: spilloverChannels, spilloverError: spilloverError,
                warnings: set.warnings, isDefault: set.index == defaultIndex)
        }
    }

    /// Describes a file that could not be read.
    public init(path: String, error: any Error) {
        self.file = path
        self.format = nil
        self.size = nil
        self.dataSets = []
        self.warnings = []
        self.error = "\(error)"
    }

    static func number(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    /// A human-readable, aligned description.
    public var text: String {
        var lines: [String] = []
        lines.append("File: \(file)")
        if let error {
            lines.append("  ERROR: \(error)")
            return lines.joined(separator: "\n")
        }
        if let size { lines.append("  Size: \(size) bytes, \(dataSets.count) data set(s)") }
        if format == "HDF5" { lines.append("  Format: HDF5 event store; events stored as float32 in /events, described by the FCS keywords kept in /keywords") }
        for set in dataSets {
            lines.append("")
            lines.append("  Data set \(set.index)\(set.isDefault ? " (default)" : "")\(format == "HDF5" ? "" : " at byte \(set.offset)"): \(set.version)")
            lines.append("    Instrument:  \(set.cytometer ?? "-")")
            var events = "\(set.events)"
            if let declared = set.declaredEvents, declared != set.events { events += " (of $TOT \(declared))" }
            lines.append("    Events:      \(events)")
            if format == "HDF5" {
                lines.append("    Data:        float32 [events × \(set.channels.count)] (source $DATATYPE \(set.dataType))")
            } else {
                lines.append("    Data:        $DATATYPE \(set.dataType), \(set.byteOrder), \(set.bytesPerEvent) bytes/event from byte \(set.dataBegin)")
            }
            if let timestep = set.timestep { lines.append("    Timestep:    \(timestep) s") }
            var spill = "Spillover:   \(set.spillover)"
            if let channels = set.spilloverChannels { spill += " (\(channels.count) channels: \(channels.joined(separator: ", ")))" }
            if let error = set.spilloverError { spill += " — \(error)" }
            lines.append("    " + spill)
            lines.append("    Channels (\(set.channels.count)):")
            let rows = set.channels.map { c in
                ["P\(c.number)", c.name, c.marker ?? "", c.range.map(Self.number) ?? "?", "\(c.bits)", c.amplification,
                 c.gain.map(Self.number) ?? ""]
            }
            lines += table(header: ["#", "$PnN", "$PnS", "range", "bits", "amplification", "gain"], rows: rows).map { "      " + $0 }
            if !set.warnings.isEmpty {
                lines.append("    Warnings (\(set.warnings.count)):")
                lines += set.warnings.map { "      - \($0)" }
            }
        }
        if !warnings.isEmpty {
            lines.append("  File warnings:")
            lines += warnings.map { "    - \($0)" }
        }
        return lines.joined(separator: "\n")
    }
}

/// Left-aligned columns separated by two spaces.
public func table(header: [String], rows: [[String]]) -> [String] {
    let all = [header] + rows
    var widths = [Int](repeating: 0, count: header.count)
    for row in all { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
    return all.map { row in
        row.enumerated().map { i, cell in
            i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count)
        }.joined(separator: "  ")
    }
}
