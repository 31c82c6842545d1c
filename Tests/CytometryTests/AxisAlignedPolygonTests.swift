import Testing
import EventCore
import FCS
@testable import Cytometry

/// A polygon gate drawn as an axis-aligned box is evaluated as a rectangle gate: the same events
/// inside, checked against the polygon rule on edges, corners, neighbours of both, NaN and
/// infinities, and the outlines that must stay polygons.
@Suite("Axis-aligned polygons evaluated as rectangles")
struct AxisAlignedPolygonTests {
    /// Values on and beside every coordinate of the outlines below, signed zeros, subnormals,
    /// NaN, infinities, and a spread of ordinary values.
    static func values(around coordinates: [Double]) -> [Double] {
        var v: [Double] = [.nan, .infinity, -.infinity, 0, -0.0, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
                           .leastNormalMagnitude, -.leastNormalMagnitude, 1e-300, -1e-300]
        for c in coordinates { v += [c, c.nextUp, c.nextDown, -c, (c + 0.5) / 3] }
        var state: UInt64 = 11
        for _ in 0..<60 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            v.append(Double(state >> 40) / Double(1 << 24) * 2.4 - 0.8)
        }
        return v
    }

    /// Every (x, y) pair of `values`: the polygon rule (both kernels) against the box's two ranges.
    func expectSameEvents(xs: [Double], ys: [Double], box: AxisAlignedPolygon, sourceLocation: SourceLocation = #_sourceLocation) {
        let values = Self.values(around: xs + ys)
        var px: [Double] = [], py: [Double] = []
        for a in values { for b in values { px.append(a); py.append(b) } }
        let n = px.count
        for avx2 in ColumnKernels.avx2Available ? [false, true] : [false] {
            var mask = [UInt8](repeating: 9, count: n)
            polygonMask(x: px, y: py, xs: xs, ys: ys, into: &mask, count: n, avx2: avx2)
            let differing = (0..<n).filter { e in
                let inBox = px[e] >= box.x.lowerBound && px[e] < box.x.upperBound && py[e] >= box.y.lowerBound && py[e] < box.y.upperBound
                return (mask[e] == 1) != inBox
            }
            #expect(differing.isEmpty, "\(xs), \(ys), AVX2 \(avx2): \(differing.count) events, \(differing.prefix(4).map { (px[$0], py[$0], mask[$0]) })",
                    sourceLocation: sourceLocation)
            #expect(mask.contains(1) && mask.contains(0), sourceLocation: sourceLocation)
        }
    }

    @Test("the bundled template's plasma-cell region, in either direction, from any corner, closed or not, is the box it draws")
    func boxes() throws {
        let xs = [-0.2, 0.8, 0.8, -0.2], ys = [0.04, 0.04, 0.4, 0.4]
        let reversedXs: [Double] = xs.reversed(), reversedYs: [Double] = ys.reversed()
        let rotatedXs: [Double] = [0.8, 0.8, -0.2, -0.2], rotatedYs: [Double] = [0.04, 0.4, 0.4, 0.04]
        let closedXs: [Double] = xs + [xs[0]], closedYs: [Double] = ys + [ys[0]]
        // Repeated corners (a double click) and the closing copy of the first.
        let repeatedXs: [Double] = [-0.2, -0.2, 0.8, 0.8, 0.8, -0.2, -0.2], repeatedYs: [Double] = [0.04, 0.04, 0.04, 0.4, 0.4, 0.4, 0.04]
        let outlines: [(xs: [Double], ys: [Double])] = [
            (xs, ys), (reversedXs, reversedYs), (rotatedXs, rotatedYs), (closedXs, closedYs), (repeatedXs, repeatedYs),
        ]
        for outline in outlines {
            let box = try #require(AxisAlignedPolygon(xs: outline.xs, ys: outline.ys), "\(outline)")
            #expect(box == AxisAlignedPolygon(xs: xs, ys: ys))
            #expect(box.x == -0.2..<0.8 && box.y == 0.04..<0.4)
            expectSameEvents(xs: outline.xs, ys: outline.ys, box: box)
        }
        // An edge at x = 0 is safe once the box is more than half a unit high.
        let tall = try #require(AxisAlignedPolygon(xs: [0, 1, 1, 0], ys: [0, 0, 0.5.nextUp, 0.5.nextUp]))
        expectSameEvents(xs: [0, 1, 1, 0], ys: [0, 0, 0.5.nextUp, 0.5.nextUp], box: tall)
        // The ISAC Gating-ML 2.0 suite's Polygon2 (gml_poly2_gate.xml) is a box: the conformance
        // tests' per-event truth for it is met through the rectangle path.
        let isac = try #require(AxisAlignedPolygon(xs: [20, 120, 120, 20], ys: [10, 10, 160, 160]))
        #expect(isac.x == 20..<120 && isac.y == 10..<160)
        // Large coordinates, a short box away from zero.
        let far = try #require(AxisAlignedPolygon(xs: [1000, 1000, 5000, 5000], ys: [3, 3.25, 3.25, 3]))
        expectSameEvents(xs: [1000, 1000, 5000, 5000], ys: [3, 3.25, 3.25, 3], box: far)
    }

    @Test("outlines that are not axis-aligned boxes stay polygons")
    func notBoxes() {
        #expect(AxisAlignedPolygon(xs: [0, 1, 0.3], ys: [0, 0.2, 1]) == nil)                          // triangle
        #expect(AxisAlignedPolygon(xs: [0, 1, 0, 1], ys: [0, 1, 1, 0]) == nil)                        // bow tie
        #expect(AxisAlignedPolygon(xs: [0, 1, 0.9, 0.1], ys: [0, 0, 1, 1]) == nil)                    // trapezoid
        #expect(AxisAlignedPolygon(xs: [0, 1, 1, 0.5, 0.5, 0], ys: [0, 0, 1, 1, 0.5, 0.5]) == nil)   // L shape
        #expect(AxisAlignedPolygon(xs: [0, 1, 1, 0], ys: [0, 0, 0, 0]) == nil)                        // flat
        #expect(AxisAlignedPolygon(xs: [0, 1, 1, .nan], ys: [0, 0, 1, 1]) == nil)
        #expect(AxisAlignedPolygon(xs: [0, 1, 1], ys: [0, 0, 1]) == nil)
        #expect(AxisAlignedPolygon(xs: [0, 1], ys: [0, 0, 1]) == nil)
    }

    @Test("an edge at x = 0 at most half a unit high stays a polygon: there the polygon rule differs from the range by one subnormal")
    func underflowGuard() throws {
        let xs = [0.0, 1, 1, 0], ys = [0.04, 0.04, 0.4, 0.4]
        #expect(AxisAlignedPolygon(xs: xs, ys: ys) == nil)
        // Why: (x − 0) · 0.36 rounds to −0 for the least subnormal below zero, so the polygon
        // rule does not count the edge at 0 and the event falls inside, where x ≥ 0 says outside.
        var mask: [UInt8] = [9]
        polygonMask(x: [-Double.leastNonzeroMagnitude], y: [0.2], xs: xs, ys: ys, into: &mask, count: 1, avx2: false)
        #expect(mask == [1])
        // Half a unit high is still not enough: (−2⁻¹⁰⁷⁴) · ½ is a tie, rounded to the even −0.
        let half: [Double] = [0, 0, 0.5, 0.5]
        #expect(AxisAlignedPolygon(xs: xs, ys: half) == nil)
        polygonMask(x: [-Double.leastNonzeroMagnitude], y: [0.2], xs: xs, ys: half, into: &mask, count: 1, avx2: false)
        #expect(mask == [1])
        // The same outline moved off zero, or made taller, is a box.
        #expect(AxisAlignedPolygon(xs: [0.001, 1, 1, 0.001], ys: ys) != nil)
        #expect(AxisAlignedPolygon(xs: xs, ys: [0, 0, 0.5.nextUp, 0.5.nextUp]) != nil)
    }

    @Test("a file gated through a box-shaped polygon: the plan holds a two-dimension rectangle, and the events inside are the polygon rule's")
    func plan() throws {
        let fixture = GatingTests()
        let (path, truth, spillover) = try fixture.spilledFile(events: 20_003)
        let x = GateDimension.channel("FL1"), y = GateDimension.channel("FL2")
        let box = [Vertex(200, 300), Vertex(700, 300), Vertex(700, 900), Vertex(200, 900)]
        let triangle = [Vertex(0, 0), Vertex(1000, 200), Vertex(300, 1000)]
        let tree = try GatingTree(gates: [
            Gate(id: "box", shape: .polygon(x: x, y: y, vertices: box)),
            Gate(id: "triangle", shape: .polygon(x: x, y: y, vertices: triangle)),
        ])
        let file = try FCSFile(path: path)
        let plan = try EvaluationPlan(tree: tree, dataSet: file.dataSets[0])
        guard case .rectangle(_, let minimums, let maximums) = plan.gates[0], case .polygon = plan.gates[1] else {
            Issue.record("the box is \(plan.gates[0]), the triangle \(plan.gates[1])")
            return
        }
        #expect(minimums == [200, 300] && maximums == [700, 900])
        // The stored values, as the fixture wrote them.
        let stored = truth.map { t in
            (0...1).map { j in
                var observed = 0.0
                for i in 0..<3 { observed += t[i] * spillover[i, j] }
                return Double(Float(observed))
            }
        }
        for avx2 in ColumnKernels.avx2Available ? [false, true] : [false] {
            var evaluator = TreeEvaluator(tree: tree)
            evaluator.avx2 = avx2
            let result = try evaluator.evaluate(file: file, membership: true, workers: 2, blockSize: 1000)
            for (id, outline) in [("box", box), ("triangle", triangle)] {
                let membership = try #require(result.membership[id])
                let xs = outline.map(\.x), ys = outline.map(\.y)
                let differing = xs.withUnsafeBufferPointer { xv in
                    ys.withUnsafeBufferPointer { yv in
                        stored.indices.filter { e in
                            membership.contains(e) != (windingNumber(x: stored[e][0], y: stored[e][1], xs: xv, ys: yv) % 2 != 0)
                        }
                    }
                }
                #expect(differing.isEmpty, "\(id), AVX2 \(avx2): events \(differing.prefix(5))")
                #expect(membership.count > 1_000 && membership.count < 19_000, "\(id): \(membership.count)")
            }
        }
    }
}
