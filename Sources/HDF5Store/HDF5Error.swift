import CHDF5
import CHDF5Shim
import EventCore

/// A typed error from the HDF5 store: the file, what was being done, and HDF5's own message.
/// The library's error printing is silenced; its innermost message is kept here instead.
public struct HDF5Error: FileError, Equatable, Sendable {
    public let file: String
    public let operation: String
    public let message: String

    public var description: String { "\(file): \(reasonDescription)" }
    public var reasonDescription: String { "\(operation) failed" + (message.isEmpty ? "" : ": \(message)") }

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
        // No cleanup at process exit: every file is closed explicitly (finish, or the writer's
        // deinit), and libhdf5's exit-time close of a file whose last write failed (disk full)
        // crashes in H5F__close_cb (libhdf5 1.10). Must precede the library's initialisation.
        _ = H5dont_atexit()
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

    /// A creation property list (`H5P_FILE_CREATE`, `H5P_GROUP_CREATE`, `H5P_DATASET_CREATE`)
    /// that records no object times, so the same content gives a byte-identical file. The caller closes it.
    static func untimed(_ propertyClass: hid_t, file: String) throws(HDF5Error) -> hid_t {
        let list = try check(H5Pcreate(propertyClass), file: file, "create properties")
        guard H5Pset_obj_track_times(list, false) >= 0 else {
            H5Pclose(list)
            throw HDF5Error.current(file: file, "set object times off")
        }
        return list
    }

    /// A file-access property list with libhdf5's `flock` locking off. The caller closes it.
    ///
    /// FlowMRD writes every store under a temporary name and renames it when complete, so no
    /// reader ever sees a file being written. The lock itself did harm: libhdf5 opens files
    /// without close-on-exec, so a child process started while a store was being written kept
    /// the writer's exclusive lock after the file was closed, and opening the finished store
    /// failed with "unable to lock file, errno = 11" until that child exited.
    static func unlockedAccess(file: String) throws(HDF5Error) -> hid_t {
        let access = try check(H5Pcreate(chdf5_p_file_access()), file: file, "create file-access properties")
        guard H5Pset_file_locking(access, false, true) >= 0 else {
            H5Pclose(access)
            throw HDF5Error.current(file: file, "turn file locking off")
        }
        return access
    }

    /// Creates a file (truncating) whose root group records no times.
    static func createFile(_ name: String, file: String) throws(HDF5Error) -> hid_t {
        let creation = try untimed(chdf5_p_file_create(), file: file)
        defer { H5Pclose(creation) }
        let access = try unlockedAccess(file: file)
        defer { H5Pclose(access) }
        return try check(H5Fcreate(name, chdf5_f_acc_trunc(), creation, access), file: file, "create")
    }

    /// Opens an existing file read-only.
    static func openReadOnly(_ path: String) throws(HDF5Error) -> hid_t {
        let access = try unlockedAccess(file: path)
        defer { H5Pclose(access) }
        return try check(H5Fopen(path, chdf5_f_acc_rdonly(), access), file: path, "open")
    }
}
