import EventCore
import FCS

/// Opens an event file of either format the tools read, by its content rather than its name
/// (``EventFileKind``): an HDF5 signature opens an ``HDF5EventFile``, anything else is read as
/// FCS (and gets the FCS reader's error when it is not FCS either).
public enum EventFile {
    /// The file-kind dispatch over both adapters, for analyses that take an `EventFileOpening`.
    public static let dispatch = EventFileDispatch([.fcs: FCSFileOpening(), .hdf5: HDF5FileOpening()])

    /// The file at `path` as an `EventSource`.
    ///
    /// - Throws: `FCSError` for an FCS file that cannot be read (or a file that is neither
    ///   format), ``HDF5Error`` for an HDF5 file that is not an event store.
    public static func open(_ path: String, options: ReadOptions = ReadOptions()) throws -> any EventSource {
        try dispatch.open(path, options: options)
    }

    /// True when the file carries the HDF5 signature where the format allows it.
    public static func isHDF5(_ path: String) -> Bool { EventFileKind.of(path: path) == .hdf5 }
}

/// Opens HDF5 event stores (``HDF5EventFile``).
public struct HDF5FileOpening: EventFileOpening {
    public init() {}
    public func open(_ path: String, options: ReadOptions) throws -> any EventSource { try HDF5EventFile(path: path) }
}
