import Foundation
import Testing
@testable import MRD

@Suite("SHA-256")
struct SHA256Tests {
    func digest(_ bytes: [UInt8], portable: Bool, pieces: Int = 1) -> String {
        var hash = SHA256()
        hash.portable = portable
        let size = max(1, bytes.count / pieces)
        var start = 0
        while start < bytes.count {
            hash.update(bytes[start..<min(bytes.count, start + size)])
            start += size
        }
        return hash.finalize().map { String(format: "%02x", $0) }.joined()
    }

    @Test("FIPS 180-4 vectors, with the hardware and the portable rounds, whole and in odd pieces", arguments: [false, true])
    func vectors(portable: Bool) {
        #expect(digest([], portable: portable) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(digest(Array("abc".utf8), portable: portable) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let two = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        #expect(digest(two, portable: portable) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        let million = [UInt8](repeating: 0x61, count: 1_000_000)
        #expect(digest(million, portable: portable, pieces: 7) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test("a file's digest, read in 4 MiB pieces: the FIPS million-a vector, an empty file, a file of several pieces with a tail, and none for a missing file")
    func files() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("flowmrd-sha256-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func write(_ bytes: [UInt8], _ name: String) throws -> String {
            let path = directory.appendingPathComponent(name).path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            return path
        }
        #expect(SHA256.hex(ofFileAt: try write([UInt8](repeating: 0x61, count: 1_000_000), "million"))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        #expect(SHA256.hex(ofFileAt: try write([], "empty")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        // Two whole pieces and a tail that is not a multiple of the 64-byte block.
        let long = (0..<(2 * (1 << 22) + 1_000_003)).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ $0 >> 9) }
        #expect(SHA256.hex(ofFileAt: try write(long, "long")) == SHA256.hex(long))
        #expect(SHA256.hex(ofFileAt: directory.appendingPathComponent("absent").path) == nil)
    }
}
