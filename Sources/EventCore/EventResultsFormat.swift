/// How the tools write per-event results without knowing every format: the analysis takes an
/// ``EventResultsFormat`` (and an ``EventFileOpening`` to read), and the command line hands it the
/// ones `HDF5Store` provides. The analysis libraries therefore need no storage format of their own.

/// A per-event results file being written: each event's class code and gate-membership bits,
/// then a few text attributes; complete or absent (written under a temporary name).
public protocol EventResultsWriting: AnyObject, Sendable {
    /// The final path.
    var path: String { get }
    /// Bytes of membership bits per event.
    var membershipBytes: Int { get }
    /// The classes and membership bits of events `first ..< first + classes.count`.
    func write(first: Int, classes: UnsafeBufferPointer<UInt8>, membership: UnsafeBufferPointer<UInt8>) throws
    /// Sets the class of the given events (after the whole file is written).
    func setClass(_ code: UInt8, events: [Int]) throws
    /// Writes the attributes and moves the file into place.
    func finish(attributes: [(String, String)]) throws
}

/// A format for per-event results files.
public protocol EventResultsFormat: Sendable {
    func create(path: String, eventCount: Int, gates: [String], classNames: [String]) throws -> any EventResultsWriting
}
