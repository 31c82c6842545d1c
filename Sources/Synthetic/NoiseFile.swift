import EventCore
import FCS

/// A float32 FCS 3.1 file of uniform noise from a fixed-seed generator: the benchmarks' input
/// (`flowmrd bench make-file`), so `cat`, FlowKit and FlowMRD can be timed on the same bytes.
/// Same arguments give identical bytes.
public enum NoiseFile {
    /// `events` × `channels` values uniform in [0, 262144), channels named CH1…CHn.
    /// - Complexity: O(events × channels), one 65,536-event block of memory.
    public static func write(path: String, events: Int, channels: Int) throws {
        try write(path: path, events: events, channels: (1...max(1, channels)).map { FCSChannelDescription(name: "CH\($0)", range: 262_144) })
    }

    /// The same noise under the given channel descriptions (e.g. ``LegendPanel/channels``), with an optional $SPILLOVER.
    /// - Complexity: O(events × channels).
    public static func write(path: String, events: Int, channels descriptions: [FCSChannelDescription], spillover: SpilloverMatrix? = nil) throws {
        let channels = descriptions.count
        let writer = try FCSWriter(path: path, channels: descriptions, eventCount: events, spillover: spillover, durable: false)
        var block = EventBlock<Float>(channelCount: channels, capacity: 65_536)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var written = 0
        while written < events {
            let n = min(block.capacity, events - written)
            block.setCount(n)
            for c in 0..<channels {
                block.withMutableColumn(c) { column in
                    for e in 0..<n {
                        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                        column[e] = Float(state >> 40) / Float(1 << 24) * 262_144
                    }
                }
            }
            try writer.append(block)
            written += n
        }
        try writer.finish()
    }
}
