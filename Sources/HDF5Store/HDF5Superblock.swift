import Glibc

/// A check of an HDF5 file's superblock before libhdf5 opens it.
///
/// libhdf5 trusts the sizes and addresses in the superblock: fuzzing found a 49-byte file whose
/// superblock made `H5Fopen` allocate and touch 4 GB. Here the superblock is read with `pread`
/// and must be complete, use offset and length sizes libhdf5 supports, and point inside the
/// file; anything else is an ``HDF5Error`` naming the file and the field, before the library
/// sees it. (Structures deeper in the file remain libhdf5's to check; docs/reliability.md.)
///
/// Cost: one `pread` of at most 200 bytes (and one of 16 for a version 0/1 driver information block).
enum HDF5Superblock {
    /// Checks the superblock that follows the signature at `offset`.
    static func validate(path: String, offset: Int) throws(HDF5Error) {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw HDF5Error(file: path, operation: "open", message: "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw HDF5Error(file: path, operation: "open", message: "cannot stat the file") }
        let size = Int(status.st_size)
        var bytes = [UInt8](repeating: 0, count: 200)
        let read = pread(descriptor, &bytes, bytes.count, off_t(offset))
        guard read > 0 else { throw HDF5Error(file: path, operation: "open", message: "cannot read the superblock at byte \(offset)") }
        bytes = Array(bytes.prefix(read))
        func fail(_ detail: String) -> HDF5Error { HDF5Error(file: path, operation: "check superblock", message: detail) }
        guard bytes.count > 8 else { throw fail("the file ends inside the superblock at byte \(offset + bytes.count)") }
        let version = Int(bytes[8])
        let offsetsAt: Int, lengthsAt: Int, addressesAt: Int, addressCount: Int, total: (Int) -> Int
        switch version {
        case 0, 1:
            offsetsAt = 13; lengthsAt = 14
            addressesAt = version == 0 ? 24 : 28
            addressCount = 4
            total = { o in addressesAt + 4 * o + 2 * o + 24 }
        case 2, 3:
            offsetsAt = 9; lengthsAt = 10
            addressesAt = 12
            addressCount = 4
            total = { o in 12 + 4 * o + 4 }
        default:
            throw fail("superblock version \(version) is not 0–3")
        }
        guard bytes.count > lengthsAt else { throw fail("the file ends inside the superblock at byte \(offset + bytes.count)") }
        let o = Int(bytes[offsetsAt]), l = Int(bytes[lengthsAt])
        guard [2, 4, 8].contains(o), [2, 4, 8].contains(l) else {
            throw fail("sizes of offsets (\(o)) and lengths (\(l)) must be 2, 4 or 8 bytes")
        }
        guard bytes.count >= total(o) else {
            throw fail("the superblock needs \(total(o)) bytes from byte \(offset); the file ends after \(bytes.count)")
        }
        func address(_ at: Int) -> UInt64? {
            let field = bytes[at..<(at + o)]
            if field.allSatisfy({ $0 == 0xFF }) { return nil }  // undefined address
            return field.reversed().reduce(0) { $0 << 8 | UInt64($1) }
        }
        let names = version <= 1 ? ["base address", "free-space address", "end-of-file address", "driver information address"]
                                 : ["base address", "superblock extension address", "end-of-file address", "root object header address"]
        var values: [UInt64?] = []
        for k in 0..<addressCount { values.append(address(addressesAt + k * o)) }
        if version <= 1 { values.append(address(addressesAt + 4 * o + o)) }  // root group's object header
        let allNames = names + (version <= 1 ? ["root group object header address"] : [])
        let base = values[0] ?? 0
        guard base <= UInt64(size) else { throw fail("\(allNames[0]) \(base) lies beyond the file's \(size) bytes") }
        for (k, value) in values.enumerated().dropFirst() {
            guard let value else {
                if k == 2 || allNames[k].hasPrefix("root") { throw fail("\(allNames[k]) is undefined") }
                continue
            }
            let absolute = base.addingReportingOverflow(value)
            guard !absolute.overflow, absolute.partialValue <= UInt64(size) else {
                throw fail("\(allNames[k]) \(value) lies beyond the file's \(size) bytes" + (k == 2 ? " (truncated file?)" : ""))
            }
        }
        // Version 0/1: the driver information block's size is read into a buffer that libhdf5
        // zero-fills past the end of the file (fuzzing: 97 bytes made it touch 3 GB).
        if version <= 1, let driver = values[3] {
            let at = Int(base + driver)
            var header = [UInt8](repeating: 0, count: 16)
            guard at + 16 <= size, pread(descriptor, &header, 16, off_t(at)) == 16 else {
                throw fail("the driver information block at byte \(at) needs 16 bytes; the file ends after \(size)")
            }
            let claimed = header[4..<8].reversed().reduce(0) { $0 << 8 | Int($1) }
            guard at + 16 + claimed <= size else {
                throw fail("the driver information block at byte \(at) claims \(claimed) bytes; the file ends after \(size)")
            }
        }
    }
}
