#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A FlowJo ellipse gate as the polygon FlowJo itself evaluates.
///
/// FlowJo stores an ellipse as two foci and four edge points in its 256-channel display space,
/// which is linear in each axis's *transformed* scale (0…1 for linear, log, logicle and asinh
/// scales; 0…4096 for biex). The polygon follows FlowKit's conversion step by step, so that a
/// workspace gives FlowKit's counts: the centre and tilt from the foci, the semi-major axis from
/// the larger of the first and third edge points once rotated, the semi-minor axis from the
/// foci and that axis (FlowJo's second edge point is not reliable), then `vertexCount` points
/// on the ellipse, rotated back and scaled to each axis's range.
///
/// - Complexity: O(vertexCount).
enum FlowJoEllipse {
    static let vertexCount = 128

    /// - Parameters:
    ///   - scales: each axis's transformed range (1, or 4096 for biex).
    /// - Returns: the polygon's vertices in transformed values, or a reason it cannot be built.
    static func polygon(foci: [Vertex], edges: [Vertex], scales: (x: Double, y: Double)) -> Result<[Vertex], EllipseError> {
        let f0 = (x: foci[0].x / 256, y: foci[0].y / 256), f1 = (x: foci[1].x / 256, y: foci[1].y / 256)
        let center = (x: (f0.x + f1.x) / 2, y: (f0.y + f1.y) / 2)
        let theta = atan((f1.y - f0.y) / (f1.x - f0.x))
        let c = cos(theta), s = sin(theta)
        // A row vector times [[c, −s], [s, c]].
        func rotate(_ p: (x: Double, y: Double)) -> (x: Double, y: Double) { (p.x * c + p.y * s, -p.x * s + p.y * c) }
        func fromCenter(_ v: Vertex) -> (x: Double, y: Double) { (v.x / 256 - center.x, v.y / 256 - center.y) }
        let focus = rotate((f0.x - center.x, f0.y - center.y))
        let r1 = rotate(fromCenter(edges[0])), r3 = rotate(fromCenter(edges[2]))
        let a1 = (abs(r1.x), abs(r1.y)), a3 = (abs(r3.x), abs(r3.y))
        let major1 = a1.1 > a1.0 ? 1 : 0, major3 = a3.1 > a3.0 ? 1 : 0
        guard major1 != major3 else { return .failure(.noMajorAxis) }
        let value1 = major1 == 0 ? a1.0 : a1.1, value3 = major3 == 0 ? a3.0 : a3.1
        let a = value1 >= value3 ? value1 : value3
        let b = sqrt(abs(focus.x * focus.x - a * a))
        guard a.isFinite, b.isFinite, a > 0 else { return .failure(.degenerate) }
        var vertices: [Vertex] = []
        vertices.reserveCapacity(vertexCount)
        for i in 0..<vertexCount {
            let angle = 2 * Double.pi * (Double(i) / Double(vertexCount))
            let (x, y) = major1 == 0 ? (a * cos(angle), b * sin(angle)) : (b * cos(angle), a * sin(angle))
            // Back by the inverse rotation [[c, s], [−s, c]], then to the centre.
            let px = x * c - y * s + center.x, py = x * s + y * c + center.y
            vertices.append(Vertex(px * scales.x, py * scales.y))
        }
        return .success(vertices)
    }

    enum EllipseError: Error, CustomStringConvertible {
        case noMajorAxis, degenerate
        var description: String {
            switch self {
            case .noMajorAxis: return "its edge points give no major axis (the first and third lie along the same axis)"
            case .degenerate: return "its foci and edge points give no ellipse"
            }
        }
    }
}
