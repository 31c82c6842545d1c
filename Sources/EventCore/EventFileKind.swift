#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The kind of an event file, told from its content rather than its name (the file-kind dispatch):
/// FCS files begin with "FCS"; HDF5 files carry the HDF5 signature at byte 0 or at a power of two
/// from 512 on (after a user block).
public enum EventFileKind: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case fcs = "FCS"
    case hdf5 = "HDF5"

    public var description: String {
        switch self {
        case .fcs: return "an FCS file"
        case .hdf5: return "an HDF5 file"
        }
    }

    /// The HDF5 format signature.
    public static let hdf5Signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]

    /// The kind of the file at `path`: `.hdf5` when it carries the HDF5 signature where the format
    /// allows it, `.fcs` otherwise (a file that is neither then gets the FCS reader's exact error).
    /// Read with plain `pread`, without any format library.
    ///
    /// - Complexity: at most log₂(size) reads of 8 bytes.
    public static func of(path: String) -> EventFileKind {
        hdf5SignatureOffset(path) == nil ? .fcs : .hdf5
    }

    /// Where the HDF5 signature (and so the superblock) starts, if anywhere.
    public static func hdf5SignatureOffset(_ path: String) -> Int? {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return nil }
        let size = Int(status.st_size)
        var offset = 0
        var bytes = [UInt8](repeating: 0, count: 8)
        while offset + 8 <= size {
            if pread(descriptor, &bytes, 8, off_t(offset)) == 8 && bytes == hdf5Signature { return offset }
            if offset == 0 && bytes.prefix(3) == [0x46, 0x43, 0x53] { return nil }  // "FCS"
            offset = offset == 0 ? 512 : offset * 2
        }
        return nil
    }
}

/// Opens the event file at a path.
public protocol EventFileOpening: Sendable {
    func open(_ path: String, options: ReadOptions) throws -> any EventSource
}

/// Opens a file with the opener given for its kind (``EventFileKind/of(path:)``). The format
/// adapters provide the openers; whoever assembles the tool (the command line) passes the ones it has.
public struct EventFileDispatch: EventFileOpening {
    public let openers: [EventFileKind: any EventFileOpening]

    public init(_ openers: [EventFileKind: any EventFileOpening]) {
        self.openers = openers
    }

    /// - Throws: ``EventFileError/Reason/kindNotSupported(kind:supported:)`` for a kind with no
    ///   opener; otherwise whatever the kind's reader throws.
    public func open(_ path: String, options: ReadOptions) throws -> any EventSource {
        let kind = EventFileKind.of(path: path)
        guard let opener = openers[kind] else {
            throw EventFileError(file: path, .kindNotSupported(kind: kind, supported: EventFileKind.allCases.filter { openers[$0] != nil }))
        }
        return try opener.open(path, options: options)
    }
}
