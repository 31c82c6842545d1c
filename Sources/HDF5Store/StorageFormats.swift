import EventCore
/// Per-event results as an HDF5 file (``HDF5EventResultsWriter``).
public struct HDF5EventResultsFormat: EventResultsFormat {
    public init() {}
    public func create(path: String, eventCount: Int, gates: [String], classNames: [String]) throws -> any EventResultsWriting {
        try HDF5EventResultsWriter(path: path, eventCount: eventCount, gates: gates, classNames: classNames)
    }
}

extension HDF5EventResultsWriter: EventResultsWriting {}
