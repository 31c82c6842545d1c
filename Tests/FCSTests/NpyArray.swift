import Foundation

/// A minimal reader for NumPy `.npy` files holding a C-order little-endian float64 matrix,
/// used to compare against FlowIO's truth arrays.
struct NpyMatrix {
    let rows: Int
    let columns: Int
    let values: [Double]

    init?(path: String) {
        guard let data = FileManager.default.contents(atPath: path), data.count > 10,
              data.prefix(6) == Data([0x93]) + Data("NUMPY".utf8) else { return nil }
        let major = data[6]
        let headerLength: Int, headerStart: Int
        if major == 1 {
            headerLength = Int(data[8]) | Int(data[9]) << 8
            headerStart = 10
        } else {
            headerLength = Int(data[8]) | Int(data[9]) << 8 | Int(data[10]) << 16 | Int(data[11]) << 24
            headerStart = 12
        }
        let header = String(decoding: data[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        guard header.contains("'<f8'"), header.contains("'fortran_order': False"),
              let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")") else { return nil }
        let dims = header[open.upperBound..<close].split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard dims.count == 2 else { return nil }
        let (r, c) = (dims[0], dims[1])
        let body = data[(headerStart + headerLength)...]
        guard body.count == r * c * 8 else { return nil }
        rows = r
        columns = c
        values = body.withUnsafeBytes { raw in
            (0..<(r * c)).map { Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self))) }
        }
    }

    subscript(row: Int, column: Int) -> Double { values[row * columns + column] }
}
