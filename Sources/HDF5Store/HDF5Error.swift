import CHDF5
import CHDF5Shim

/// A typed error from the HDF5 store: the file, what was being done, and HDF5's own message.
/// The library's error printing is silenced; its innermost message is kept here instead.
public struct HDF5Error: Error, Equatable, Sendable, CustomStringConvertible {
    public let file: String
    public let operation: String
    public let message: String

    public var description: String { "\(file): \(operation) failed" + (message.isEmpty ? "" : ": \(message)") }

    /// The error for a failed call, with the message on top of HDF5's error stack.
    static func current(file: String, _ operation: String) -> HDF5Error {
        var buffer = [CChar](repeating: 0, count: 512)
        chdf5_last_error(&buffer, buffer.count)
        return HDF5Error(file: file, operation: operation, message: String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
}

/// Opens the library once per process and silences its error printing on each calling thread
/// (it would otherwise write its error stack to stderr; the printer is per thread in HDF5's
/// thread-safe build). Every entry point reads `ready` first.
enum HDF5Library {
    private static let opened: Bool = {
        _ = H5open()
        return true
    }()

    static var ready: Bool {
        _ = opened
        chdf5_silence_errors()
        return true
    }

    /// Checks an identifier or status; negative means failure.
    @discardableResult
    static func check<T: BinaryInteger>(_ value: T, file: String, _ operation: String) throws(HDF5Error) -> T {
        if value < 0 { throw HDF5Error.current(file: file, operation) }
        return value
    }
}
