#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Positional, read-only access to the bytes of a file, or of bytes already in memory.
///
/// Reads use `pread`, so one `ByteSource` can serve several threads at once:
/// each reads into its own buffer at its own offset. Opening costs one `open`
/// and one `fstat`; a read costs one system call and a copy from the page cache.
/// A source made from bytes in memory (``init(bytes:name:)``, for fuzzing and for
/// callers that already hold a file) costs a copy per read and no system call.
public final class ByteSource: @unchecked Sendable {
    /// The path the source was opened from, or the name given to bytes in memory (used in
    /// error messages).
    public let path: String
    /// The file size in bytes, taken when the file was opened.
    public let size: Int
    private let descriptor: Int32
    private let memory: [UInt8]?

    /// Opens `path` for reading.
    /// - Throws: ``FCSError`` with reason `.io` when the file cannot be opened or is not a regular file.
    public init(path: String) throws(FCSError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            throw FCSError(file: path, .io("cannot open: \(String(cString: strerror(errno)))"))
        }
        var info = stat()
        if fstat(fd, &info) != 0 {
            let message = String(cString: strerror(errno))
            close(fd)
            throw FCSError(file: path, .io("cannot stat: \(message)"))
        }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw FCSError(file: path, .io("is a directory, not an FCS file"))
        }
        self.descriptor = fd
        self.size = Int(info.st_size)
        self.memory = nil
    }

    /// Serves `bytes` as if they were a file called `name`.
    public init(bytes: [UInt8], name: String) {
        self.path = name
        self.size = bytes.count
        self.descriptor = -1
        self.memory = bytes
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    /// Reads exactly `count` bytes at `offset` into `buffer`.
    /// - Returns: the number of bytes read; fewer than `count` only at the end of the file.
    public func read(into buffer: UnsafeMutableRawPointer, count: Int, at offset: Int) throws(FCSError) -> Int {
        if let memory {
            guard offset >= 0 else { throw FCSError(file: path, .io("read of \(count) bytes at byte \(offset) failed: negative offset")) }
            let available = max(0, min(count, memory.count - offset))
            if available > 0 {
                memory.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress! + offset, byteCount: available) }
            }
            return available
        }
        var done = 0
        while done < count {
            let n = pread(descriptor, buffer + done, count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw FCSError(file: path, .io("read of \(count) bytes at byte \(offset) failed: \(String(cString: strerror(errno)))"))
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// Reads the bytes `range` into a new array, clamped to the end of the file.
    public func bytes(_ range: Range<Int>) throws(FCSError) -> [UInt8] {
        let lower = max(0, min(range.lowerBound, size))
        let upper = max(lower, min(range.upperBound, size))
        var result = [UInt8](repeating: 0, count: upper - lower)
        var failure: FCSError?
        result.withUnsafeMutableBytes { raw in
            guard let base = raw.baseAddress, raw.count > 0 else { return }
            do throws(FCSError) { _ = try read(into: base, count: raw.count, at: lower) } catch { failure = error }
        }
        if let failure { throw failure }
        return result
    }
}
