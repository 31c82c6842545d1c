/// One parameter (channel) of a data set, as the FCS $Pn keywords describe it. Every format the
/// tools read keeps those keywords (an HDF5 event store keeps the source file's), so a channel is
/// described the same way whatever holds its events.
public struct EventChannel: Sendable, Equatable {
    /// 1-based parameter number n of the $Pn keywords.
    public let number: Int
    /// $PnN, the short name (e.g. "FL1-A"); "P<n>" when the file has none.
    public let name: String
    /// A name unique within the data set: `name`, or `name [Pn]` where $PnN repeats.
    public let uniqueName: String
    /// $PnS, the marker or stain (e.g. "CD45 APC-H7"), when present and not blank.
    public let marker: String?
    /// $PnR, the range; nil when missing or unreadable.
    public let range: Double?
    /// $PnB, bits per value as declared (characters for ASCII data).
    public let bits: Int
    /// $PnE, log amplification (decades f1, offset f2); (0, 0) for linear.
    public let amplification: (decades: Double, offset: Double)
    /// $PnG, linear gain, when present.
    public let gain: Double?
    /// How a stored value becomes a scale value, after the reader's checks ($PnE on float data ignored, gain 0 ignored, …).
    public let scale: ChannelScale

    public init(number: Int, name: String, uniqueName: String, marker: String?, range: Double?, bits: Int,
                amplification: (decades: Double, offset: Double), gain: Double?, scale: ChannelScale) {
        self.number = number
        self.name = name
        self.uniqueName = uniqueName
        self.marker = marker
        self.range = range
        self.bits = bits
        self.amplification = amplification
        self.gain = gain
        self.scale = scale
    }

    public static func == (lhs: EventChannel, rhs: EventChannel) -> Bool {
        lhs.number == rhs.number && lhs.name == rhs.name && lhs.uniqueName == rhs.uniqueName
            && lhs.marker == rhs.marker && lhs.range == rhs.range && lhs.bits == rhs.bits
            && lhs.amplification == rhs.amplification && lhs.gain == rhs.gain && lhs.scale == rhs.scale
    }

    /// True for a time channel ($PnN "Time", "TIME", "HDR-T", …).
    public var isTime: Bool { Self.isTimeName(name) }

    /// True for the names instruments give the time channel.
    public static func isTimeName(_ name: String) -> Bool {
        let upper = name.uppercased()
        return upper == "TIME" || upper == "HDR-T" || upper.hasPrefix("TIME ")
    }
}

/// The conversion from a stored value to a linear scale value (FCS $PnE/$PnG rules).
///
/// Cost: one multiply (gain) or one `exp10` (log amplification) per value.
public enum ChannelScale: Sendable, Equatable {
    /// The stored value is already linear.
    case identity
    /// `value / gain` ($PnG on linear data).
    case gain(Double)
    /// `10^(decades · value / range) · offset` ($PnE on integer data).
    case logarithmic(decades: Double, offset: Double, range: Double)
    /// `value · timestep`: time ticks to seconds ($TIMESTEP on the time channel).
    case seconds(timestep: Double)

    /// Applies the scale to one stored value.
    @inlinable
    public func apply(_ value: Double) -> Double {
        switch self {
        case .identity:
            return value
        case .gain(let gain):
            return value / gain
        case .logarithmic(let decades, let offset, let range):
            return pow10(decades * value / range) * offset
        case .seconds(let timestep):
            return value * timestep
        }
    }
}

@usableFromInline
func pow10(_ x: Double) -> Double {
    pow(10.0, x)
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
