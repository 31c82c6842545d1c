import FCS

/// Opens FCS files and HDF5 event stores (``EventFile``), for analyses that take an ``EventFileOpening``.
public struct EventFileOpener: EventFileOpening {
    public init() {}
    public func open(_ path: String, options: FCSReadOptions) throws -> any EventSource { try EventFile.open(path, options: options) }
}

/// Per-event results as an HDF5 file (``HDF5EventResultsWriter``).
public struct HDF5EventResultsFormat: EventResultsFormat {
    public init() {}
    public func create(path: String, eventCount: Int, gates: [String], classNames: [String]) throws -> any EventResultsWriting {
        try HDF5EventResultsWriter(path: path, eventCount: eventCount, gates: gates, classNames: classNames)
    }
}

extension HDF5EventResultsWriter: EventResultsWriting {}
