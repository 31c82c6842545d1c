import Testing
@testable import MRD

/// The density clustering's cell bit sets (``CellBitIndex``) against the definition (every
/// coordinate within 1), and the clustering with and without them.
struct CellBitIndexTests {
    /// A reproducible generator (64-bit LCG).
    struct Draws {
        var state: UInt64
        mutating func next(_ range: ClosedRange<Int32>) -> Int32 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return range.lowerBound + Int32(truncatingIfNeeded: (state >> 33) % UInt64(range.upperBound - range.lowerBound + 1))
        }
    }

    func bruteForce(_ coordinates: [Int32], d: Int, key: [Int32]) -> [Int] {
        (0..<(coordinates.count / d)).filter { c in (0..<d).allSatisfy { abs(Int64(coordinates[c * d + $0]) - Int64(key[$0])) <= 1 } }
    }

    @Test("the cells within 1 of a key on every coordinate are those the definition gives, in increasing order", arguments: [
        (1, 40, Int32(-3)...Int32(3)), (2, 300, Int32(-4)...Int32(4)), (3, 700, Int32(-20)...Int32(20)),
        (8, 500, Int32(0)...Int32(3)), (8, 2_000, Int32(-2)...Int32(2)), (14, 300, Int32(-1)...Int32(1)),
    ])
    func matchesDefinition(d: Int, cells: Int, range: ClosedRange<Int32>) throws {
        var draws = Draws(state: UInt64(d * 7919 + cells))
        var coordinates = (0..<(cells * d)).map { _ in draws.next(range) }
        // Edge cells of non-finite values (coordinates clamped to ±10⁶) among them.
        for k in 0..<d { coordinates[k] = 1_000_000; coordinates[d + k] = -1_000_000 }
        let index = try #require(CellBitIndex(coordinates: coordinates, dimensions: d, cells: cells))
        var keys: [[Int32]] = (0..<cells).map { c in Array(coordinates[(c * d)..<(c * d + d)]) }   // every cell's own
        keys += (0..<200).map { _ in (0..<d).map { _ in draws.next((range.lowerBound - 2)...(range.upperBound + 2)) } }   // off the grid too
        keys.append([Int32](repeating: 999_999, count: d))
        keys.append([Int32](repeating: 50, count: d))
        var nonEmpty = 0
        for key in keys {
            let found = key.withUnsafeBufferPointer { index.cells(around: $0.baseAddress!) }
            let expected = bruteForce(coordinates, d: d, key: key)
            #expect(found == expected, "d \(d), key \(key)")
            if !expected.isEmpty { nonEmpty += 1 }
        }
        #expect(nonEmpty >= cells)   // every cell finds at least itself
    }

    @Test("bit sets beyond the byte limit are not built")
    func byteLimit() {
        // 3 dimensions of 128 distinct values over 128 cells: (3 × 128 + 1) sets of 2 words.
        let coordinates = (0..<128).flatMap { c in [Int32(c), Int32(c), Int32(c)] }
        let bytes = (3 * 128 + 1) * 2 * 8
        #expect(CellBitIndex(coordinates: coordinates, dimensions: 3, cells: 128, byteLimit: bytes) != nil)
        #expect(CellBitIndex(coordinates: coordinates, dimensions: 3, cells: 128, byteLimit: bytes - 1) == nil)
        #expect(CellBitIndex(coordinates: [], dimensions: 3, cells: 0) == nil)
    }

    /// Points around a few centres in `d` dimensions, plus scattered ones.
    func points(_ n: Int, d: Int, seed: UInt64) -> [Float] {
        var draws = Draws(state: seed)
        var values: [Float] = []
        for _ in 0..<n {
            let centre = Float(draws.next(0...2)) * 0.6   // drawn: the subsample takes every k-th point
            let scattered = draws.next(0...9) == 0
            for _ in 0..<d {
                let u = Float(draws.next(0...1_000_000)) / 1_000_000
                values.append(scattered ? u * 3 - 0.5 : centre + (u - 0.5) * 0.2)
            }
        }
        return values
    }

    @Test("the clustering's labels are the same with the bit sets and with the scan, exact and subsampled", arguments: [3, 8])
    func sameLabels(d: Int) {
        let values = points(6_000, d: d, seed: UInt64(d))
        for exactLimit in [1_000, 50_000] {
            let withBits = DensityClustering(radius: 0.15, minNeighbours: 5, exactLimit: exactLimit, workers: 2)
            let withScan = DensityClustering(radius: 0.15, minNeighbours: 5, exactLimit: exactLimit, workers: 2, cellIndexBytes: 0)
            let a = withBits.cluster(points: values, dimensions: d), b = withScan.cluster(points: values, dimensions: d)
            #expect(a == b, "d \(d), exact limit \(exactLimit)")
            #expect(a.sizes.count >= 3 && a.subsampled == (exactLimit < 6_000), "\(a.sizes.prefix(5)) \(a.subsampled)")
        }
    }

    @Test("attach step: each point off the subsample takes the label of a core sample point within the radius, or is noise when none is (brute force)", arguments: [3, 8])
    func attachedAgainstBruteForce(d: Int) {
        let n = 6_000, exactLimit = 1_000, r: Float = 0.15, minNeighbours = 5
        let values = points(n, d: d, seed: 40 + UInt64(d))
        let step = (n + exactLimit - 1) / exactLimit
        let sample = Array(stride(from: 0, to: n, by: step))
        func close(_ a: Int, _ b: Int) -> Bool { (0..<d).allSatisfy { abs(values[a * d + $0] - values[b * d + $0]) <= r } }
        let core = sample.filter { p in sample.filter { close(p, $0) }.count >= minNeighbours }
        for cellIndexBytes in [CellBitIndex.byteLimit, 0] {
            let result = DensityClustering(radius: 0.15, minNeighbours: minNeighbours, exactLimit: exactLimit, workers: 2, cellIndexBytes: cellIndexBytes)
                .cluster(points: values, dimensions: d)
            #expect(result.subsampled)
            var attached = 0, noise = 0, wrong = 0
            for i in 0..<n where i % step != 0 {
                let labels = Set(core.filter { close(i, $0) }.map { result.labels[$0] })
                if labels.isEmpty { noise += 1; if result.labels[i] != -1 { wrong += 1 } } else { attached += 1; if !labels.contains(result.labels[i]) { wrong += 1 } }
            }
            #expect(wrong == 0 && attached > 1_000 && noise > 100, "d \(d), bytes \(cellIndexBytes): \(wrong) wrong, \(attached) attached, \(noise) noise")
        }
    }

    @Test("the grid's hash table: every stored hash found after growing, a replaced cell returned, absent hashes absent")
    func hashTable() {
        var table = CellHashTable(capacity: 4)
        var reference: [UInt64: Int] = [:]
        var draws = Draws(state: 9)
        for cell in 0..<5_000 {
            // Hashes with equal low or high halves too, and some repeated.
            let hash = cell % 7 == 0 ? UInt64(draws.next(0...50)) : UInt64(draws.next(0...1_000_000)) << (cell % 2 == 0 ? 32 : 0)
            #expect(table.set(hash, cell: cell) == (reference[hash] ?? -1))
            reference[hash] = cell
        }
        #expect(table.count == reference.count)
        #expect(reference.allSatisfy { table.cell($0.key) == $0.value })
        #expect((0..<1_000).map { _ in UInt64(draws.next(2_000_000...3_000_000)) << 1 | 1 << 62 }.allSatisfy { table.cell($0) == nil })
    }
}

