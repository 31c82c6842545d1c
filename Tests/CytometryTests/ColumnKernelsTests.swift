import Foundation
import Testing
import EventCore
import FCS
import CKernels
@testable import Cytometry

/// The AVX2 column kernels against the portable Swift loops: the same bits for every value.
@Suite("Column kernels: AVX2 and portable give the same bits")
struct ColumnKernelsTests {
    /// Values across the table's grid and off it: signs, zeros, the grid's ends, NaN, infinities.
    static let values: [Double] = {
        var v: [Double] = [0, -0.0, .nan, -.nan, .infinity, -.infinity, 1e-300, -1e-300, 0x1p-10, -0x1p-10, 0x1p-11, 0x1p22, -0x1p22,
                           0x1p22.nextDown, 1e9, -1e9, 262_144, -262_144, .leastNonzeroMagnitude]
        var x = 1e-5
        while x < 1e8 {
            v += [x, -x, x * 1.000_71, -x * 0.999_3]
            x *= 1.0093
        }
        // Segment starts of the table (where the AVX2 kernel derives a segment's start and width
        // from the value's bits) and their neighbours.
        for octave in stride(from: -10, to: 22, by: 3) {
            for step in stride(from: 0, to: 256, by: 17) {
                let start = (1 + Double(step) / 256) * Double(sign: .plus, exponent: octave, significand: 1)
                v += [start, start.nextDown, start.nextUp, -start]
            }
        }
        return v
    }()

    @Test("logicle and hyperlog tables over every kind of value, any count (tails of 1–3 values too)")
    func tables() throws {
        guard ColumnKernels.avx2Available else {
            Issue.record("this CPU has no AVX2: only the portable path exists here, nothing to compare")
            return
        }
        let transforms: [Transformation] = [
            .logicle(try LogicleTransform(T: 262_144, W: 0.5, M: 4.5, A: 0)), .logicle(try LogicleTransform(T: 10_000, W: 1, M: 4, A: 0.5)),
            .hyperlog(try HyperlogTransform(T: 262_144, W: 0.5, M: 4.5, A: 0)),
        ]
        for transform in transforms {
            for count in [Self.values.count, Self.values.count - 1, Self.values.count - 2, Self.values.count - 3, 3, 1] {
                var portable = Array(Self.values.prefix(count)), vector = portable
                portable.withUnsafeMutableBufferPointer { transform.apply(to: $0.baseAddress!, count: count, avx2: false) }
                vector.withUnsafeMutableBufferPointer { transform.apply(to: $0.baseAddress!, count: count, avx2: true) }
                let differing = zip(portable, vector).filter { $0.bitPattern != $1.bitPattern }
                #expect(differing.isEmpty, "\(transform), \(count) values: \(differing.prefix(3))")
            }
        }
    }

    @Test("every transform read from one column into another gives the bits it gives in place, and leaves its source as it was, on both paths")
    func outOfPlace() throws {
        let transforms: [BoundedTransformation] = [
            BoundedTransformation(.logicle(try LogicleTransform(T: 262_144, W: 0.5, M: 4.5, A: 0))),
            BoundedTransformation(.hyperlog(try HyperlogTransform(T: 262_144, W: 0.5, M: 4.5, A: 0)), boundMin: 0.1, boundMax: 0.9),
            BoundedTransformation(.linear(T: 262_144, A: 0)), BoundedTransformation(.linear(T: 10_000, A: 0)),
            BoundedTransformation(.linear(T: 0x1p-1030, A: 0)), BoundedTransformation(.log(T: 262_144, M: 4.5)),
            BoundedTransformation(.asinh(T: 262_144, M: 4.5, A: 0)), BoundedTransformation(.asinhCofactor(150)),
            BoundedTransformation(.flowJoLog(offset: 1, decades: 5)),
            BoundedTransformation(.flowJoBiex(try FlowJoBiex(negative: 0, width: -100, positive: 4.42, maximum: 262_144))),
        ]
        for transform in transforms {
            for avx2 in ColumnKernels.avx2Available ? [false, true] : [false] {
                var inPlace = Self.values, target = [Double](repeating: 7, count: Self.values.count)
                let source = Self.values
                inPlace.withUnsafeMutableBufferPointer { transform.apply(to: $0.baseAddress!, count: source.count, avx2: avx2) }
                source.withUnsafeBufferPointer { from in
                    target.withUnsafeMutableBufferPointer { transform.apply(from: from.baseAddress!, to: $0.baseAddress!, count: source.count, avx2: avx2) }
                }
                let differing = zip(inPlace, target).filter { $0.bitPattern != $1.bitPattern }
                #expect(differing.isEmpty, "\(transform), AVX2 \(avx2): \(differing.prefix(3))")
                #expect(zip(source, Self.values).allSatisfy { $0.bitPattern == $1.bitPattern })
                // The column path (a power-of-two linear divisor by its reciprocal) gives the one-value path's bits.
                let single = source.map { transform.apply($0) }
                let apart = zip(single, target).filter { $0.bitPattern != $1.bitPattern && !($0.isNaN && $1.isNaN) }
                #expect(apart.isEmpty, "\(transform), AVX2 \(avx2), one value at a time: \(apart.prefix(3))")
            }
        }
    }

    @Test("polygon masks: the same bytes both ways, on vertices, edges, horizontal edges, NaN and infinities, any count")
    func polygons() throws {
        guard ColumnKernels.avx2Available else {
            Issue.record("this CPU has no AVX2: only the portable path exists here, nothing to compare")
            return
        }
        let shapes: [(xs: [Double], ys: [Double])] = [
            ([-0.2, 0.8, 0.8, -0.2], [0.04, 0.04, 0.4, 0.4]),                          // a box with horizontal edges
            ([0, 1, 0.3], [0, 0.2, 1]),                                                 // a triangle
            ([0.5, 0.6, 1, 0.65, 0.8, 0.5, 0.2, 0.35, 0, 0.4], [1, 0.6, 0.6, 0.4, 0, 0.25, 0, 0.4, 0.6, 0.6]),  // a star
            ([0, 1, 0, 1], [0, 1, 1, 0]),                                               // a bow tie (self-intersecting)
        ]
        var xs: [Double] = [], ys: [Double] = []
        for shape in shapes { xs += shape.xs; ys += shape.ys }           // every vertex exactly
        for (a, b) in zip(xs, ys) { xs.append((a + b) / 2); ys.append(b) }   // on horizontal lines through vertices
        let special: [Double] = [.nan, .infinity, -.infinity, 0, -0.0, 1, 0.04, 0.4, 0.8, -0.2]
        for a in special { for b in special { xs.append(a); ys.append(b) } }
        var state: UInt64 = 7
        for _ in 0..<4_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            xs.append(Double(state >> 40) / Double(1 << 24) * 1.6 - 0.3)
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            ys.append(Double(state >> 40) / Double(1 << 24) * 1.4 - 0.2)
        }
        for shape in shapes {
            for count in [xs.count, xs.count - 1, xs.count - 2, xs.count - 3, 5, 3, 1] {
                var portable = [UInt8](repeating: 9, count: count), vector = [UInt8](repeating: 7, count: count)
                polygonMask(x: xs, y: ys, xs: shape.xs, ys: shape.ys, into: &portable, count: count, avx2: false)
                polygonMask(x: xs, y: ys, xs: shape.xs, ys: shape.ys, into: &vector, count: count, avx2: true)
                let differing = (0..<count).filter { portable[$0] != vector[$0] }
                #expect(differing.isEmpty, "\(shape.xs.count) vertices, \(count) values: events \(differing.prefix(5))")
                #expect(!portable.contains(9) && (count < 100 || (portable.contains(1) && portable.contains(0))))
            }
        }
    }

    @Test("a tree with compensation, logicle (bounded too), ratio, rectangles and a polygon: the same membership both ways")
    func tree() throws {
        guard ColumnKernels.avx2Available else {
            Issue.record("this CPU has no AVX2: only the portable path exists here, nothing to compare")
            return
        }
        let fixture = GatingTests()
        let (path, _, _) = try fixture.spilledFile(events: 20_003)
        let logicle = NamedTransformation(id: "l", BoundedTransformation(.logicle(try LogicleTransform(T: 1000, W: 0.5, M: 4.5, A: 0))))
        let fl1 = GateDimension.channel("FL1", compensation: .file, transform: logicle)
        let fl2 = GateDimension.channel("FL2", compensation: .file, transform: logicle)
        let fl3 = GateDimension.channel("FL3", compensation: .file)
        // Bounds clamp the transformed values: events above 0.7 pile up at 0.7, inside "top" only when clamped.
        let bounded = NamedTransformation(id: "b", BoundedTransformation(.logicle(try LogicleTransform(T: 1000, W: 0.5, M: 4.5, A: 0)),
                                                                         boundMin: 0.35, boundMax: 0.7))
        let fl2b = GateDimension.channel("FL2", compensation: .file, transform: bounded)
        let gates = [
            Gate(id: "top", shape: .rectangle(dimensions: [fl2b], minimums: [0.7], maximums: [0.700_001])),
            Gate(id: "bottom", shape: .rectangle(dimensions: [fl2b], minimums: [0.35], maximums: [0.350_001])),
            Gate(id: "box", shape: .rectangle(dimensions: [fl1, fl2, fl3], minimums: [0.3, nil, 100], maximums: [0.9, 0.8, nil])),
            Gate(id: "poly", parentID: "box", shape: .polygon(x: fl1, y: fl2, vertices: [Vertex(0.2, 0.1), Vertex(0.9, 0.2), Vertex(0.7, 0.9), Vertex(0.3, 0.6)])),
            Gate(id: "one", shape: .rectangle(dimensions: [fl3], minimums: [250], maximums: [nil])),
            Gate(id: "both", shape: .boolean(.and, operands: [BooleanOperand("poly"), BooleanOperand("one", complement: true)])),
        ]
        let tree = try GatingTree(gates: gates)
        let file = try FCSFile(path: path)
        var results: [GatingResult] = []
        for avx2 in [false, true] {
            var evaluator = TreeEvaluator(tree: tree)
            evaluator.avx2 = avx2
            results.append(try evaluator.evaluate(file: file, membership: true, workers: 2, blockSize: 1000))
        }
        #expect(results[0].gates == results[1].gates)
        #expect(results[0].membership == results[1].membership)
        #expect((results[0].count("poly") ?? 0) > 100 && (results[0].count("both") ?? 0) > 10, "\(results[0].gates)")
        #expect((results[0].count("top") ?? 0) > 10_000 && (results[0].count("bottom") ?? 0) > 10, "\(results[0].gates)")
    }

    @Test("the finite range of a channel: the same low, high and non-finite count both ways, and the true ones")
    func finiteRange() throws {
        var values = (0..<1_001).map { Double($0 % 97) * 3.5 - 40 }
        values[5] = .nan
        values[600] = .infinity
        values[999] = -.infinity
        values[1_000] = .nan
        var paths = [false]
        if ColumnKernels.avx2Available { paths.append(true) } else { Issue.record("this CPU has no AVX2: only the portable path is checked") }
        for count in [1_001, 1_000, 998, 7, 1] {
            let finite = values.prefix(count).filter(\.isFinite)
            for avx2 in paths {
                var low = Double.infinity, high = -Double.infinity
                let bad = values.withUnsafeBufferPointer { ColumnKernels.finiteRange($0.baseAddress!, count: count, low: &low, high: &high, avx2: avx2) }
                #expect(bad == count - finite.count, "avx2 \(avx2), \(count) values")
                #expect(low == finite.min()! && high == finite.max()!, "avx2 \(avx2), \(count) values: \(low)…\(high)")
            }
        }
        // Running values carry over from earlier blocks.
        var low = -100.0, high = 1e6
        _ = values.withUnsafeBufferPointer { ColumnKernels.finiteRange($0.baseAddress!, count: 1_001, low: &low, high: &high) }
        #expect(low == -100 && high == 1e6)
    }

    @Test("finishing a gate's mask: complement and parent applied, the same bytes and count both ways, and the true count")
    func finishMasks() {
        // A deterministic pattern of 0/1 bytes; parents with long runs of zeros and ones.
        let shape = (0..<1_000).map { UInt8(($0 * 7 + $0 / 13) % 3 == 0 ? 1 : 0) }
        let parentBytes = (0..<1_000).map { UInt8(($0 / 40) % 2 == 0 || $0 % 5 == 0 ? 1 : 0) }
        for count in [1_000, 999, 64, 33, 32, 31, 1] {
            for complement in [false, true] {
                for withParent in [false, true] {
                    let expected = (0..<count).map { e -> UInt8 in
                        let x = complement ? 1 - shape[e] : shape[e]
                        return withParent ? x & parentBytes[e] : x
                    }
                    var portable = shape, kernel = shape
                    let portableCount = parentBytes.withUnsafeBufferPointer { p in
                        portable.withUnsafeMutableBufferPointer {
                            finishMask($0.baseAddress!, complement: complement, parent: withParent ? p.baseAddress : nil, count: count)
                        }
                    }
                    #expect(Array(portable.prefix(count)) == expected && portableCount == expected.reduce(0) { $0 + Int($1) })
                    guard ColumnKernels.avx2Available else { continue }
                    let kernelCount = parentBytes.withUnsafeBufferPointer { p in
                        kernel.withUnsafeMutableBufferPointer {
                            ckernels_finish_mask_avx2($0.baseAddress!, withParent ? p.baseAddress : nil, complement ? 1 : 0, count)
                        }
                    }
                    #expect(kernel == portable, "count \(count), complement \(complement), parent \(withParent)")
                    #expect(kernelCount == portableCount)
                }
            }
        }
    }

    @Test("rectangle gates in one pass: the bytes and count of a range mask per dimension then the finished mask, on bounds, NaN and infinities")
    func rectangleMasks() {
        guard ColumnKernels.avx2Available else {
            Issue.record("this CPU has no AVX2: the one-pass rectangle kernel is not checked")
            return
        }
        let specials: [Double] = [0, 1, 2, -1, .nan, .infinity, -.infinity, 1.nextDown, 2.nextDown, 2.nextUp, -0.0]
        let x: [Double] = (0..<203).map { (e: Int) -> Double in
            let offset: Double = e % 5 == 0 ? 0 : Double(e % 7) * 0.25
            return specials[e % specials.count] + offset
        }
        let y: [Double] = (0..<203).map { (e: Int) -> Double in specials[(e * 3) % specials.count] }
        let parentBytes: [UInt8] = (0..<203).map { (e: Int) -> UInt8 in e % 9 == 0 ? 0 : 1 }
        let boxes: [(lows: [Double], highs: [Double])] = [([], []), ([1], [2]), ([1, -.infinity], [.infinity, 2]), ([0, 0], [2, 1])]
        for box in boxes {
            for count in [203, 32, 17, 16, 15, 1] {
                for complement in [false, true] {
                    for withParent in [false, true] {
                        // The path the plan took before: one range mask per dimension, then finishMask.
                        var expected = [UInt8](repeating: 1, count: count)
                        for (k, column) in [x, y].prefix(box.lows.count).enumerated() {
                            for e in 0..<count { expected[e] &= (column[e] >= box.lows[k] && column[e] < box.highs[k]) ? 1 : 0 }
                        }
                        let expectedCount = parentBytes.withUnsafeBufferPointer { p in
                            expected.withUnsafeMutableBufferPointer {
                                finishMask($0.baseAddress!, complement: complement, parent: withParent ? p.baseAddress : nil, count: count)
                            }
                        }
                        let (mask, inside) = Self.rectangleKernel(columns: Array([x, y].prefix(box.lows.count)), lows: box.lows, highs: box.highs,
                                                                  parent: withParent ? parentBytes : nil, complement: complement, count: count)
                        #expect(mask == expected, "box \(box), count \(count), complement \(complement), parent \(withParent)")
                        #expect(inside == expectedCount && inside == expected.reduce(0) { $0 + Int($1) })
                    }
                }
            }
        }
    }

    /// `ckernels_rectangle_mask_avx2` over copies of the columns; the mask and the count.
    static func rectangleKernel(columns: [[Double]], lows: [Double], highs: [Double], parent: [UInt8]?, complement: Bool, count: Int) -> ([UInt8], Int) {
        let pointers = columns.map { column -> UnsafeMutablePointer<Double> in
            let p = UnsafeMutablePointer<Double>.allocate(capacity: column.count)
            p.initialize(from: column, count: column.count)
            return p
        }
        defer { pointers.forEach { $0.deallocate() } }
        let columnPointers: [UnsafePointer<Double>?] = pointers.map { UnsafePointer($0) }
        var mask = [UInt8](repeating: 7, count: count)
        let parentCopy = parent ?? []
        let inside = columnPointers.withUnsafeBufferPointer { c in
            lows.withUnsafeBufferPointer { lo in
                highs.withUnsafeBufferPointer { hi in
                    parentCopy.withUnsafeBufferPointer { p in
                        mask.withUnsafeMutableBufferPointer { m in
                            ckernels_rectangle_mask_avx2(c.baseAddress, lo.baseAddress, hi.baseAddress, lows.count,
                                                         parent == nil ? nil : p.baseAddress, complement ? 1 : 0, m.baseAddress, count)
                        }
                    }
                }
            }
        }
        return (mask, inside)
    }
}
