import MRD

/// The JSON document `flowmrd analyze --json` prints and `--out` writes: one entry per file, in
/// the order given (docs/report-schema.md).
public struct AnalysisDocument: Encodable, Sendable {
    public let schema: Int
    public let results: [Entry]

    public init(results: [Entry]) {
        schema = MRDResult.schemaVersion
        self.results = results
    }

    /// One file: its result, or the error that kept it from being read (the other is null).
    public struct Entry: Encodable, Sendable {
        public let file: String
        @Nullable public private(set) var result: MRDResult?
        @Nullable public private(set) var error: String?

        public init(file: String, result: MRDResult?, error: String?) {
            self.file = file
            self.result = result
            self.error = error
        }


        enum CodingKeys: String, CodingKey { case file, result, error }
    }

    /// The exit status of `analyze` for these entries.
    public var exitStatus: Int32 { AnalyzeExitStatus.combined(results.map { $0.result?.call }) }
}

/// Exit codes a LIMS script can branch on.
public enum AnalyzeExitStatus {
    /// 1 unreadable, 0 negative, 10 positive, 11 positive below the LLOQ, 20 not evaluable.
    public static func code(_ call: MRDResult.Call?) -> Int32 {
        switch call {
        case nil: return 1
        case .negative: return 0
        case .positive: return 10
        case .positiveBelowLLOQ: return 11
        case .notEvaluable: return 20
        }
    }

    /// The worst: error, then not evaluable, then positive, then positive below LLOQ, then negative.
    /// - Complexity: O(calls).
    public static func combined(_ calls: [MRDResult.Call?]) -> Int32 {
        let codes = Set(calls.map(code))
        for worst in [Int32(1), 20, 10, 11] where codes.contains(worst) { return worst }
        return 0
    }

    /// The sentence every command's help ends with.
    public static let help = "Exit status: 0 every file negative; 10 at least one positive (quantifiable); 11 at least one positive below the LLOQ and none quantifiable; 20 at least one not evaluable; 1 a file or the template could not be read, or an output could not be written (the worst applies: 1, then 20, then 10, then 11)."
}
