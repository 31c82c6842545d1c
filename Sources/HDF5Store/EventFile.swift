import CHDF5
import FCS
import Glibc

/// Opens an event file of either format the tools read, by its content rather than its name:
/// an HDF5 signature (at byte 0, 512, 1024, … as HDF5 allows) opens an ``HDF5EventFile``,
/// anything else is read as FCS (and gets the FCS reader's error when it is not FCS either).
public enum EventFile {
    /// The file at `path` as an ``EventSource``.
    ///
    /// - Throws: ``FCSError`` for an FCS file that cannot be read (or a file that is neither
    ///   format), ``HDF5Error`` for an HDF5 file that is not an event store.
    public static func open(_ path: String, options: FCSReadOptions = FCSReadOptions()) throws -> any EventSource {
        if isHDF5(path) { return try HDF5EventFile(path: path) }
        return try FCSFile(path: path, options: options)
    }

    /// The HDF5 format signature, found at byte 0 or at a power of two from 512 on (after a user block).
    static let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]

    /// True when the file carries the HDF5 signature where the format allows it. Read with plain
    /// `pread`, without the library (which would open, and lock, the file to answer).
    public static func isHDF5(_ path: String) -> Bool { signatureOffset(path) != nil }

    /// Where the HDF5 signature (and so the superblock) starts, if anywhere.
    static func signatureOffset(_ path: String) -> Int? {
        let descriptor = Glibc.open(path, O_RDONLY)
        guard descriptor >= 0 else { return nil }
        defer { Glibc.close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return nil }
        let size = Int(status.st_size)
        var offset = 0
        var bytes = [UInt8](repeating: 0, count: 8)
        while offset + 8 <= size {
            if pread(descriptor, &bytes, 8, off_t(offset)) == 8 && bytes == signature { return offset }
            if offset == 0 && bytes.prefix(3) == [0x46, 0x43, 0x53] { return nil }  // "FCS"
            offset = offset == 0 ? 512 : offset * 2
        }
        return nil
    }
}
