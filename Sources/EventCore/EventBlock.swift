/// A block of consecutive events stored as one contiguous column per channel.
///
/// Column c occupies `storage[c * capacity ..< c * capacity + count]`, so a
/// stage that works on one channel walks contiguous memory. Blocks are made
/// once and refilled: reading into an existing block allocates nothing.
///
/// Memory: `channelCount × capacity × MemoryLayout<Scalar>.size` bytes.
public struct EventBlock<Scalar: EventScalar>: Sendable {
    /// Channels (columns) in the block.
    public let channelCount: Int
    /// The most events the block can hold.
    public let capacity: Int
    /// Events currently held.
    public private(set) var count: Int = 0
    /// The index in the data set of the block's first event.
    public var firstEvent: Int = 0
    @usableFromInline var storage: [Scalar]

    /// Creates an empty block. Capacity and channel count must be positive.
    public init(channelCount: Int, capacity: Int) {
        precondition(channelCount > 0 && capacity > 0, "a block needs at least one channel and one event")
        self.channelCount = channelCount
        self.capacity = capacity
        self.storage = [Scalar](repeating: 0, count: channelCount * capacity)
    }

    /// Sets how many events the block holds (0…capacity); values beyond the old count are whatever was there.
    public mutating func setCount(_ newCount: Int) {
        precondition(newCount >= 0 && newCount <= capacity, "block count \(newCount) outside 0...\(capacity)")
        count = newCount
    }

    /// The value of `channel` for event `event` (0-based within the block).
    @inlinable
    public subscript(channel: Int, event: Int) -> Scalar {
        get { storage[channel * capacity + event] }
        set { storage[channel * capacity + event] = newValue }
    }

    /// A copy of one column's current values.
    public func column(_ channel: Int) -> [Scalar] {
        Array(storage[(channel * capacity)..<(channel * capacity + count)])
    }

    /// Calls `body` with the `count` values of one column.
    @inlinable
    public func withColumn<R>(_ channel: Int, _ body: (UnsafeBufferPointer<Scalar>) throws -> R) rethrows -> R {
        precondition(channel >= 0 && channel < channelCount, "channel \(channel) outside 0..<\(channelCount)")
        return try storage.withUnsafeBufferPointer { all in
            try body(UnsafeBufferPointer(rebasing: all[(channel * capacity)..<(channel * capacity + count)]))
        }
    }

    /// Calls `body` with the `count` values of one column, for writing.
    @inlinable
    public mutating func withMutableColumn<R>(_ channel: Int, _ body: (UnsafeMutableBufferPointer<Scalar>) throws -> R) rethrows -> R {
        precondition(channel >= 0 && channel < channelCount, "channel \(channel) outside 0..<\(channelCount)")
        let start = channel * capacity, end = start + count
        return try storage.withUnsafeMutableBufferPointer { all in
            try body(UnsafeMutableBufferPointer(rebasing: all[start..<end]))
        }
    }

    /// Calls `body` with the base of the whole channel-major storage for reading: column c starts at `c × capacity`.
    @inlinable
    public func withUnsafeStorage<R>(_ body: (UnsafePointer<Scalar>) throws -> R) rethrows -> R {
        try storage.withUnsafeBufferPointer { try body($0.baseAddress!) }
    }

    /// Calls `body` with the base of the whole channel-major storage (`channelCount × capacity` values).
    @inlinable
    public mutating func withUnsafeMutableStorage<R>(_ body: (UnsafeMutablePointer<Scalar>) throws -> R) rethrows -> R {
        try storage.withUnsafeMutableBufferPointer { try body($0.baseAddress!) }
    }
}

/// A floating-point type that events can be decoded into: `Float` (the default,
/// exact for float32 data and integers up to 24 bits) or `Double`. Each format's reader
/// decodes its stored values into columns of this type.
public protocol EventScalar: BinaryFloatingPoint, Sendable {}

extension Float: EventScalar {}
extension Double: EventScalar {}
