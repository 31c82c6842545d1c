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
        /// The FlowJo workspace sample applied ("ID (name)"); null for a Gating-ML file.
        @Nullable public private(set) var sample: String?
        @Nullable public private(set) var events: Int?
        @Nullable public private(set) var gates: [Gate]?
        @Nullable public private(set) var error: String?

        /// - Parameters:
        ///   - storedCounts: FlowJo's stored count per gate id, for a workspace's gates.
        public init(file: String, result: GatingResult, sample: String? = nil, storedCounts: [String: Int]? = nil) {
            self.file = file
            self.sample = sample
            events = result.eventCount
            gates = result.gates.map { Gate($0, storedCount: storedCounts?[$0.id]) }
            error = nil
        }

        public init(file: String, error: String, sample: String? = nil) {
            self.file = file
            self.sample = sample
            events = nil
            gates = nil
            self.error = error
        }


        enum CodingKeys: String, CodingKey { case file, sample, events, gates, error }
    }

    /// One gate's count, its parent's, the percentage rounded to 4 decimals (the count is exact),
    /// and for a FlowJo workspace the count FlowJo stored (null otherwise, or when it stored none).
    public struct Gate: Encodable, Sendable {
        public let id: String
        public let path: String
        @Nullable public private(set) var parent: String?
        public let count: Int
        public let parentCount: Int
        public let percentOfParent: Double
        @Nullable public private(set) var flowjoCount: Int?

        init(_ gate: GatingResult.GateCount, storedCount: Int?) {
            id = gate.id
            path = gate.path
            parent = gate.parent
            count = gate.count
            parentCount = gate.parentCount
            percentOfParent = (gate.percentOfParent * 10_000).rounded() / 10_000
            flowjoCount = storedCount
        }


        enum CodingKeys: String, CodingKey {
            case id, path, parent, count, parentCount = "parent_count", percentOfParent = "percent_of_parent", flowjoCount = "flowjo_count"
        }
    }
}
