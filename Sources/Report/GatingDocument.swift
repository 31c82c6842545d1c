import Cytometry
import MRD

/// The JSON `flowmrd gate --json` prints: one shape for one file and for several — a list with
/// one entry per file, each with its event count and gates, or the error that kept it from being
/// gated (docs/gating.md).
public struct GatingDocument: Encodable, Sendable {
    public let files: [File]

    public init(files: [File]) { self.files = files }

    public struct File: Encodable, Sendable {
        public let file: String
        @Nullable public private(set) var events: Int?
        @Nullable public private(set) var gates: [Gate]?
        @Nullable public private(set) var error: String?

        public init(file: String, result: GatingResult) {
            self.file = file
            events = result.eventCount
            gates = result.gates.map(Gate.init)
            error = nil
        }

        public init(file: String, error: String) {
            self.file = file
            events = nil
            gates = nil
            self.error = error
        }


        enum CodingKeys: String, CodingKey { case file, events, gates, error }
    }

    /// One gate's count, its parent's, and the percentage rounded to 4 decimals (the count is exact).
    public struct Gate: Encodable, Sendable {
        public let id: String
        public let path: String
        @Nullable public private(set) var parent: String?
        public let count: Int
        public let parentCount: Int
        public let percentOfParent: Double

        init(_ gate: GatingResult.GateCount) {
            id = gate.id
            path = gate.path
            parent = gate.parent
            count = gate.count
            parentCount = gate.parentCount
            percentOfParent = (gate.percentOfParent * 10_000).rounded() / 10_000
        }


        enum CodingKeys: String, CodingKey {
            case id, path, parent, count, parentCount = "parent_count", percentOfParent = "percent_of_parent"
        }
    }
}
