/// How many values a column of a block (or a worker's scratch) is given for a number of events,
/// so that consecutive columns do not start the same distance into a 4 KiB page.
///
/// A block stores column c at `c × capacity`. With blocks of 4,096 events that stride is
/// exactly 32 KiB of `Double` (4 KiB of mask bytes), so the same event of every column falls in
/// one first-level cache set: a kernel that walks 10–14 columns side by side (the decoder
/// writing each channel, the compensation reading every input) then evicts its own lines, as
/// soon as the columns outnumber the cache's ways (8 or 12), and its loads wait on stores to
/// addresses that match in their low 12 bits. Seventy-two spare values per column move each
/// column's start by 9 cache lines of `Double` (576 bytes; 9 is odd, so 64 columns start in 64
/// different sets), 288 bytes of `Float` and 72 bytes of mask.
///
/// Measured (10M events, release build, 2 cores, file in /dev/shm; docs/analysis-speed.md):
/// the full pass's CPU fell 0.62 → 0.56 s with the same results byte for byte.
public enum ColumnPadding {
    /// Spare values at the end of each column.
    public static let spare = 72

    /// The column capacity for blocks of `events` events.
    /// - Complexity: O(1).
    public static func capacity(forEvents events: Int) -> Int { events + spare }
}
