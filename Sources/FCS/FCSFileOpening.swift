import EventCore

/// Opens FCS files, for ``EventFileDispatch`` or an analysis that reads FCS only.
public struct FCSFileOpening: EventFileOpening {
    public init() {}
    public func open(_ path: String, options: ReadOptions) throws -> any EventSource { try FCSFile(path: path, options: options) }
}
