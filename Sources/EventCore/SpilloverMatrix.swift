/// A square spillover matrix over named channels (FCS 3.1 $SPILLOVER semantics).
///
/// Row i is the fluorochrome whose primary detector is `channels[i]`, column j
/// is detector `channels[j]`, and the diagonal is normally 1. With events as row
/// vectors, observed = true · S, so compensated = observed · S⁻¹ (done by the
/// `Cytometry` target). Values are row-major.
public struct SpilloverMatrix: Sendable, Equatable {
    /// Which keyword the matrix came from.
    public enum Source: String, Sendable, Equatable, Codable {
        case spillover = "$SPILLOVER"
        case spill = "SPILL"
        case spilloverLowercase = "SPILLOVER"
        case comp = "$COMP"
        case dfc = "$DFCiTOj"
        case caller = "caller"
    }

    /// The $PnN names of the channels, in matrix order.
    public let channels: [String]
    /// n × n values, row-major.
    public let values: [Double]
    /// Where the matrix came from.
    public let source: Source

    /// The matrix dimension n.
    public var size: Int { channels.count }

    /// Creates a matrix; `values.count` must be `channels.count²`.
    public init(channels: [String], values: [Double], source: Source = .caller) throws(SpilloverMatrix.ShapeError) {
        guard !channels.isEmpty, values.count == channels.count * channels.count else {
            throw ShapeError(source: source, channels: channels.count, values: values.count)
        }
        self.channels = channels
        self.values = values
        self.source = source
    }

    /// A matrix whose shape the caller has checked (`values.count == channels.count²`).
    public init(unchecked channels: [String], values: [Double], source: Source) {
        self.channels = channels
        self.values = values
        self.source = source
    }

    /// The value in row `row`, column `column`.
    public subscript(row: Int, column: Int) -> Double { values[row * size + column] }

    /// The matrix as an FCS 3.1 $SPILLOVER value: `n,name1,…,namen,s11,…,snn`.
    public var keywordValue: String {
        ([String(size)] + channels + values.map(DataSetKeywords.value(of:))).joined(separator: ",")
    }
}

extension SpilloverMatrix {
    /// A matrix whose values do not fill n × n.
    public struct ShapeError: Error, Equatable, CustomStringConvertible {
        public let source: Source
        public let channels: Int
        public let values: Int
        public init(source: Source, channels: Int, values: Int) {
            self.source = source
            self.channels = channels
            self.values = values
        }
        public var description: String {
            "\(source.rawValue): \(channels) channel(s) need \(channels * channels) values, got \(values)"
        }
    }
}
