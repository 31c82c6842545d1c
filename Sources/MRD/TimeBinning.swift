import EventCore

/// The time bins of the flow-rate gate, and how their event counts are found without a pass of
/// their own over the file.
///
/// An event's bin is `⌊(t − start) / width⌋` (the last bin closed at `end`); a time outside
/// `start…end`, or NaN, goes to the extra slot `binCount` ("out of order"). Because that bin
/// number never decreases as time advances, a file whose time channel is in acquisition order
/// holds each bin's events as one run of consecutive events, and the runs' boundaries can be
/// found by binary search, reading a few thousand events instead of all of them
/// (``estimatedCounts(reader:)``). The full pass then counts every event's bin anyway
/// (``count(_:count:into:)``); when the two disagree (the time channel was not in order) the
/// analysis places its gates again from the counted bins, so the result never rests on the estimate.
struct TimeBinning: Sendable, Equatable {
    /// The time channel's index in the data set (values on its linear scale, as the gates read them).
    let channel: Int
    let start: Double
    let end: Double
    let binCount: Int
    var width: Double { (end - start) / Double(binCount) }

    /// Events per probe read during the estimate.
    static let probeBlock = 64

    /// The slot of time `t`: its bin, or `binCount` when `t` is outside `start…end` or NaN.
    /// - Complexity: O(1).
    @inline(__always)
    func slot(_ t: Double) -> Int {
        t >= start && t <= end ? min(binCount - 1, Int((t - start) / width)) : binCount
    }

    /// A key that never decreases along a time channel in acquisition order: −1 before `start`,
    /// the bin inside, `binCount` after `end` (and for NaN, which only the full count places).
    @inline(__always)
    private func orderKey(_ t: Double) -> Int { t < start ? -1 : slot(t) }

    /// Adds the slots of `count` times to `counts` (`binCount + 1` entries).
    /// - Complexity: O(count), no allocation.
    /// A block whose times never decrease and lie within [start, end] (every block but the
    /// first and last of an ordinary acquisition) is counted by bisection: the slot never
    /// decreases with the time there, so a run whose ends share a slot is wholly in it. The
    /// others are counted event by event. Both give the same counts.
    func count(_ times: UnsafePointer<Double>, count: Int, into counts: UnsafeMutablePointer<Int>) {
        guard count > 0 else { return }
        var ordered = true
        for i in 1..<count where !(times[i - 1] <= times[i]) { ordered = false; break }   // NaN too
        if ordered && times[0] >= start && times[count - 1] <= end {
            countRun(times, 0, count - 1, slot(times[0]), slot(times[count - 1]), into: counts)
        } else {
            for i in 0..<count { counts[slot(times[i])] += 1 }
        }
    }

    /// Counts events `low…high` of a run whose slots never decrease, the ends' slots given.
    private func countRun(_ times: UnsafePointer<Double>, _ low: Int, _ high: Int, _ lowSlot: Int, _ highSlot: Int,
                          into counts: UnsafeMutablePointer<Int>) {
        if lowSlot == highSlot {
            counts[lowSlot] += high - low + 1
        } else if high - low < 8 {
            for i in low...high { counts[slot(times[i])] += 1 }
        } else {
            let middle = (low + high) / 2
            countRun(times, low, middle, lowSlot, slot(times[middle]), into: counts)
            countRun(times, middle + 1, high, slot(times[middle + 1]), highSlot, into: counts)
        }
    }

    /// Events per slot (`binCount` bins, then out of order) on the assumption that the time
    /// channel never decreases: each bin's first event found by search, reading blocks of
    /// ``probeBlock`` events. Exact for a channel in acquisition order; for any other the full
    /// pass's count differs and replaces it.
    ///
    /// Each search starts where the bin's start time lies between the last boundary's time and
    /// the last event's (the events' times interpolated), gallops from there in steps that
    /// double until the boundary is bracketed, then bisects the bracket. Under a steady flow the
    /// guess is within a few hundred events and the last steps read the same block; under any
    /// flow the search takes at most about twice a bisection's reads.
    /// - Complexity: O(binCount × log(events)) probe reads of ``probeBlock`` events at most;
    ///   O(binCount) under a steady flow.
    func estimatedCounts(reader: any EventReader) throws -> [Int] {
        let n = reader.eventCount
        var counts = [Int](repeating: 0, count: binCount + 1)
        guard n > 0 else { return counts }
        var block = reader.makeBlock(of: Double.self)
        var buffer: [UInt8] = []
        var loaded = -1
        func time(_ event: Int) throws -> Double {
            let b = event / reader.blockSize
            if b != loaded {
                try reader.readBlock(b, into: &block, buffer: &buffer)
                loaded = b
            }
            return block[channel, event - b * reader.blockSize]
        }
        func key(_ event: Int) throws -> Int { orderKey(try time(event)) }
        let lastTime = try time(n - 1)
        // first[k]: the first event whose key is ≥ k − 1, for k = 0 … binCount + 1 (every key is ≥ −1).
        var first = [Int](repeating: n, count: binCount + 2)
        first[0] = 0
        var low = 0
        for k in 1...(binCount + 1) {
            let target = k - 1
            guard low < n else { break }
            // The guess: where the bin's start time falls between time(low) and the last event's.
            let startTime = target < binCount ? start + Double(target) * width : end
            let lowTime = try time(low)
            var guess = low
            if lowTime.isFinite, lastTime.isFinite, lastTime > lowTime, startTime > lowTime {
                let fraction = min(1, (startTime - lowTime) / (lastTime - lowTime))
                guess = low + Int(fraction * Double(n - 1 - low))
            }
            // Bracket [lo, hi): the keys before lo are below target, those from hi on are not.
            var lo = low, hi = n
            var step = reader.blockSize
            if try key(guess) >= target {
                hi = guess
                while hi - step >= lo {
                    if try key(hi - step) >= target { hi -= step } else { lo = hi - step + 1; break }
                    step *= 2
                }
            } else {
                lo = guess + 1
                while lo + step <= hi {
                    if try key(lo + step - 1) >= target { hi = lo + step - 1; break } else { lo += step }
                    step *= 2
                }
            }
            while lo < hi {
                let middle = (lo + hi) / 2
                if try key(middle) >= target { hi = middle } else { lo = middle + 1 }
            }
            first[k] = lo
            low = lo
        }
        for b in 0..<binCount { counts[b] = first[b + 2] - first[b + 1] }
        counts[binCount] = first[1] + (n - first[binCount + 1])
        return counts
    }
}
