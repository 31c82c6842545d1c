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
}
