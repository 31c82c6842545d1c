import EventCore
import FCS
import Foundation
import Testing
import TestSupport
@testable import MRD
@testable import Synthetic

/// The flow-rate gate's bins without a pass of their own: estimated by binary search on a time
/// channel in order, checked by the full pass, and counted exactly when the channel is not in order.
@Suite("Time bins")
struct TimeBinningTests {
    let directory = TemporaryDirectory()
    let analyzer = MRDAnalyzer(template: AnalysisTests.template, workers: 2)

    /// Every event's time (scale values) and the bins the time gate uses: start = the first
    /// block's smallest time, end = the last block's largest, 60 bins for 60,000 events.
    func exactBins(_ path: String) throws -> (TimeBinning, [Int]) {
        let file = try FCSFile(path: path)
        var reader = try file.eventReader(dataSet: nil, blockSize: EventStreaming.defaultBlockSize)
        reader.values = .scaled
        let channel = try #require(file.dataSets[0].channels.firstIndex { $0.name == "Time" })
        var times: [Double] = []
        var block = reader.makeBlock(of: Double.self)
        var buffer: [UInt8] = []
        for b in 0..<reader.blockCount {
            try reader.readBlock(b, into: &block, buffer: &buffer)
            for e in 0..<block.count { times.append(block[channel, e]) }
        }
        let lastFirst = (reader.blockCount - 1) * reader.blockSize
        let binning = TimeBinning(channel: channel, start: times[0..<reader.blockSize].min()!, end: times[lastFirst...].max()!, binCount: 60)
        var counts = [Int](repeating: 0, count: 61)
        for t in times { counts[t >= binning.start && t <= binning.end ? min(59, Int((t - binning.start) / binning.width)) : 60] += 1 }
        return (binning, counts)
    }

    func estimate(_ path: String, _ binning: TimeBinning) throws -> [Int] {
        var probe = try FCSFile(path: path).eventReader(dataSet: nil, blockSize: TimeBinning.probeBlock)
        probe.values = .scaled
        return try binning.estimatedCounts(reader: probe)
    }

    @Test("a block's count equals every event's slot counted: in order (by bisection), with ties, bin edges, out of order, NaN, infinities and times outside the range")
    func blockCount() {
        let binning = TimeBinning(channel: 0, start: 10, end: 70, binCount: 60)
        var state: UInt64 = 42
        func uniform() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        var blocks: [[Double]] = []
        var ordered = (0..<4_096).map { _ in 10 + 60 * uniform() }.sorted()
        blocks.append(ordered)                                                          // in order, inside
        ordered[100...140] = ArraySlice(repeating: ordered[100], count: 41)              // ties
        blocks.append(ordered)
        blocks.append((0..<4_096).map { 10 + Double($0 / 64) })                          // exactly on the bin edges
        blocks.append((0..<4_096).map { 10 + 60 * Double($0) / 4_095 })                  // first start, last end
        blocks.append((0..<4_096).map { _ in 5 + 70 * uniform() }.sorted())              // straddles start and end
        blocks.append((0..<4_096).map { _ in 10 + 60 * uniform() })                      // out of order
        var withNaN = blocks[0]; withNaN[2_000] = .nan
        blocks.append(withNaN)
        var withInfinity = blocks[0]; withInfinity[4_095] = .infinity
        blocks.append(withInfinity)
        blocks.append([30, 30, 30])
        blocks.append([69.999_999, 70, 70.000_001])
        blocks.append([])
        for (k, times) in blocks.enumerated() {
            var expected = [Int](repeating: 0, count: 61)
            for t in times { expected[t >= 10 && t <= 70 ? min(59, Int((t - 10) / binning.width)) : 60] += 1 }
            var counted = [Int](repeating: 0, count: 61)
            times.withUnsafeBufferPointer { t in counted.withUnsafeMutableBufferPointer { binning.count(t.baseAddress ?? UnsafePointer(bitPattern: 8)!, count: t.count, into: $0.baseAddress!) } }
            #expect(counted == expected, "block \(k)")
        }
    }

    @Test("the estimate equals every event's count on in-order times of any flow: steady, clumped, with gaps and pauses, ties on bin edges, and times that stop short of the end")
    func estimateShapes() throws {
        let events = 50_000
        var state: UInt64 = 7
        func uniform() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        let shapes: [(String, [Double])] = [
            ("steady", (0..<events).map { _ in 100 * uniform() }.sorted()),
            ("clumped", (0..<events).map { _ in let u = uniform(); return 100 * u * u * u }.sorted()),
            ("gaps", (0..<events).map { _ in let u = 100 * uniform(); return u < 40 ? u : u < 60 ? 40 : u }.sorted()),
            ("edges", (0..<events).map { e in Double(e / 1_000) }),
            ("one tick", (0..<events).map { e in e < 10 ? 0 : 1 }),
        ]
        for (name, times) in shapes {
            let path = directory.path("\(name).fcs")
            let writer = try FCSWriter(path: path, channels: [FCSChannelDescription(name: "Time")], eventCount: events)
            var block = EventBlock<Float>(channelCount: 1, capacity: events)
            block.setCount(events)
            for (e, t) in times.enumerated() { block[0, e] = Float(t) }
            try writer.append(block)
            try writer.finish()
            let stored = times.map { Double(Float($0)) }
            for bins in [1, 7, 200] {
                // The estimate reads blocks of 64 events; the range ends below the last time
                // for some bins, so that events after `end` go to the out-of-order slot.
                let end = bins == 7 ? stored[events * 9 / 10] : stored[events - 1]
                let binning = TimeBinning(channel: 0, start: stored[0], end: end, binCount: bins)
                guard binning.width > 0 else { continue }
                var expected = [Int](repeating: 0, count: bins + 1)
                for t in stored { expected[binning.slot(t)] += 1 }
                #expect(try estimate(path, binning) == expected, "\(name), \(bins) bins")
            }
        }
    }

    @Test("time in order: the estimate is every event's count, and the time gate judges those counts")
    func inOrder() throws {
        let path = directory.path("burst.fcs")
        _ = try MarrowGenerator(MarrowSpecification(events: 60_000, seed: 62, flow: .burst)).write(fcsPath: path)
        let (binning, exact) = try exactBins(path)
        #expect(try estimate(path, binning) == exact)
        #expect(exact[60] == 0 && exact.reduce(0, +) == 60_000)
        let stability = try analyzer.analyze(path: path).qc.timeStability
        #expect(stability.eventsPerBin == Array(exact[0..<60]))
        #expect(stability.excludedEvents > 0, "the burst is excluded")
    }

    @Test("time out of order: the estimate is wrong, the full pass's count replaces it, the verdict is the in-order file's")
    func outOfOrder() throws {
        let path = directory.path("burst.fcs"), shuffled = directory.path("shuffled.fcs")
        _ = try MarrowGenerator(MarrowSpecification(events: 60_000, seed: 62, flow: .burst)).write(fcsPath: path)
        // The same events with the rows between the first and the last block in a random order:
        // the same times, so the same bins and the same counts per bin, but no longer in order.
        let set = try FCSFile(path: path).fcsDataSets[0]
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let width = set.bytesPerEvent, keep = EventStreaming.defaultBlockSize
        let rows = Array(keep..<(60_000 - keep))
        var generator = RandomSource(seed: 99)
        let original = bytes
        for (target, source) in zip(rows, rows.shuffled(using: &generator)) {
            let t = set.dataBegin + target * width, s = set.dataBegin + source * width
            bytes.replaceSubrange(t..<(t + width), with: original[s..<(s + width)])
        }
        try Data(bytes).write(to: URL(fileURLWithPath: shuffled))
        let (binning, exact) = try exactBins(shuffled)
        let (ordered, orderedCounts) = try exactBins(path)
        #expect(binning == ordered && exact == orderedCounts)
        #expect(try estimate(shuffled, binning) != exact, "the binary search cannot be right on shuffled times")
        let inOrder = try analyzer.analyze(path: path).qc.timeStability
        let outOfOrder = try analyzer.analyze(path: shuffled).qc.timeStability
        #expect(outOfOrder.eventsPerBin == Array(exact[0..<60]))
        #expect(outOfOrder.excludedEvents == inOrder.excludedEvents && outOfOrder.excludedStretches == inOrder.excludedStretches)
        #expect(outOfOrder.verdict == inOrder.verdict)
        // The checksum comes from the first full pass only, and is the whole file's.
        #expect(try analyzer.analyze(path: shuffled).fileSHA256 == SHA256.hex(bytes))
    }
}
