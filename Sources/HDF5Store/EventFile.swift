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

    /// True when the file starts with FCS's magic "FCS" is absent and HDF5 recognises it.
    public static func isHDF5(_ path: String) -> Bool {
        let handle = fopen(path, "rb")
        guard let handle else { return false }
        var magic = [UInt8](repeating: 0, count: 3)
        let got = fread(&magic, 1, 3, handle)
        fclose(handle)
        if got == 3 && magic == Array("FCS".utf8) { return false }
        _ = HDF5Library.ready
        return H5Fis_hdf5(path) > 0
    }
}
