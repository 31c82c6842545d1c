/// Which workspace sample an FCS file is: by `--sample-id`, else by the file's name against the
/// sample's data-set URI or `SampleNode` name, then by the file's `$FIL` and `$TOT` against the
/// keywords FlowJo stored. With a group, only that group's samples are candidates. No match, or
/// more than one left, is an error that lists what was tried.
public struct FlowJoSampleMatch: Sendable {
    public let workspace: FlowJoWorkspace
    public let group: String?
    public let sampleID: String?

    /// - Throws: ``CytometryError/flowJo(file:line:detail:)`` for an unknown group or sample id.
    public init(workspace: FlowJoWorkspace, group: String? = nil, sampleID: String? = nil) throws(CytometryError) {
        if let group, workspace.group(group) == nil {
            throw .flowJo(file: workspace.file, line: 0, detail: "no sample group \"\(group)\"; the groups are: \(workspace.groups.map(\.name).joined(separator: ", "))")
        }
        if let sampleID, workspace.sample(id: sampleID) == nil {
            throw .flowJo(file: workspace.file, line: 0, detail: "no sample with sampleID \"\(sampleID)\"; the samples are: "
                          + workspace.samples.map { "\($0.id) (\($0.name))" }.joined(separator: ", "))
        }
        self.workspace = workspace
        self.group = group
        self.sampleID = sampleID
    }

    /// The samples a file may be.
    public var candidates: [FlowJoWorkspace.Sample] {
        guard let group, let members = workspace.group(group)?.sampleIDs else { return workspace.samples }
        return workspace.samples.filter { members.contains($0.id) }
    }

    /// - Parameters:
    ///   - fileName: the FCS file's name without its folder.
    ///   - fil, total: its `$FIL` and `$TOT` keywords.
    /// - Returns: the sample, or a sentence saying why none could be chosen.
    public func sample(fileName: String, fil: String?, total: String?) -> Result<FlowJoWorkspace.Sample, MatchFailure> {
        if let sampleID, let sample = workspace.sample(id: sampleID) { return .success(sample) }
        let pool = candidates
        func keywordsAgree(_ sample: FlowJoWorkspace.Sample) -> Bool {
            (fil == nil || sample.keywords["$FIL"] == nil || sample.keywords["$FIL"] == fil)
                && (total == nil || sample.keywords["$TOT"] == nil || sample.keywords["$TOT"] == total)
        }
        let byName = pool.filter { $0.uriFileName == fileName || $0.name == fileName }
        let narrowed = byName.count > 1 ? byName.filter(keywordsAgree) : byName
        if narrowed.count == 1 { return .success(narrowed[0]) }
        if narrowed.count > 1 { return .failure(.ambiguous(narrowed.map(\.id))) }
        if byName.isEmpty, let fil {
            let byKeywords = pool.filter { $0.keywords["$FIL"] == fil && (total == nil || $0.keywords["$TOT"] == total) }
            if byKeywords.count == 1 { return .success(byKeywords[0]) }
            if byKeywords.count > 1 { return .failure(.ambiguous(byKeywords.map(\.id))) }
        }
        return .failure(.none(pool.map { "\($0.id) (\($0.uriFileName ?? $0.name))" }))
    }

    public enum MatchFailure: Error, Sendable, Equatable, CustomStringConvertible {
        /// No sample matched; the candidates, as "ID (file name)".
        case none([String])
        /// Several matched; their ids.
        case ambiguous([String])

        public var description: String {
            switch self {
            case .none(let candidates):
                return "matches no sample of the workspace by file name (data-set URI or sample name), nor by $FIL and $TOT; "
                    + "the candidates are: \(candidates.isEmpty ? "none" : candidates.joined(separator: ", ")); choose one with --sample-id"
            case .ambiguous(let ids):
                return "matches samples \(ids.joined(separator: ", ")) alike (same file name, $FIL and $TOT); choose one with --sample-id or --group"
            }
        }
    }
}
