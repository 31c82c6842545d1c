import EventCore

/// Finds and parses the spillover keywords of a data set.
///
/// Precedence: $SPILLOVER, SPILL, SPILLOVER, $COMP, then the Beckman $DFCiTOj family.
/// Channel references may be $PnN names (exact, then case-insensitive) or 1-based
/// parameter numbers (Beckman Navios, Accuri). Sizes are checked against the
/// number of fields before anything is allocated from them.
struct SpilloverParser {
    let path: String
    let keywords: DataSetKeywords
    let channels: [EventChannel]

    /// Limit on the matrix dimension: no instrument has more detectors.
    static let maximumSize = 2_000

    /// Returns the matrix, nil when the data set has none, and warnings for ignored keywords.
    func parse() throws(FCSError) -> (SpilloverMatrix?, [ReadWarning]) {
        for (key, source) in [("$SPILLOVER", SpilloverMatrix.Source.spillover), ("SPILL", .spill), ("SPILLOVER", .spilloverLowercase)] {
            if let value = keywords[key] {
                return try parseNamed(value, keyword: keywords.entries.first { $0.key.uppercased() == key }?.key ?? key, source: source)
            }
        }
        if let value = keywords["$COMP"] {
            return (try parseComp(value), [])
        }
        return (try parseDFC(), [])
    }

    private func fields(_ value: String) -> [String] {
        value.split(separator: ",", omittingEmptySubsequences: false).map { DataSetKeywords.trimmingBlanks(String($0)) }
    }

    private func parseNamed(_ value: String, keyword: String, source: SpilloverMatrix.Source) throws(FCSError) -> (SpilloverMatrix?, [ReadWarning]) {
        let parts = fields(value)
        guard let first = parts.first, let n = Int(first), n >= 0 else {
            throw FCSError(file: path, .malformedSpillover(keyword: keyword, detail: "first field \(quoted(parts.first ?? "")) is not the matrix size"))
        }
        if n == 0 { return (nil, [ReadWarning(.spilloverIgnored, "\(keyword) declares a 0 × 0 matrix; no spillover")]) }
        guard n <= Self.maximumSize, n <= parts.count else {
            throw FCSError(file: path, .malformedSpillover(keyword: keyword, detail: "declares \(n) channels but has only \(parts.count - 1) fields"))
        }
        if parts.count == 1 + n {
            return (nil, [ReadWarning(.spilloverIgnored, "\(keyword) names \(n) channels but gives no coefficients; no spillover")])
        }
        guard parts.count == 1 + n + n * n else {
            throw FCSError(file: path, .malformedSpillover(
                keyword: keyword, detail: "a \(n) × \(n) matrix needs 1 + \(n) + \(n * n) = \(1 + n + n * n) fields, found \(parts.count)"))
        }
        var names: [String] = []
        for reference in parts[1...n] {
            names.append(try resolve(reference, keyword: keyword))
        }
        if Set(names).count != names.count {
            throw FCSError(file: path, .malformedSpillover(keyword: keyword, detail: "a channel is named twice: \(names.joined(separator: ", "))"))
        }
        let values = try numbers(parts[(1 + n)...], keyword: keyword)
        return (SpilloverMatrix(unchecked: names, values: values, source: source), [])
    }

    private func numbers(_ parts: ArraySlice<String>, keyword: String) throws(FCSError) -> [Double] {
        var values: [Double] = []
        values.reserveCapacity(parts.count)
        for (offset, text) in parts.enumerated() {
            guard let value = Double(text), value.isFinite else {
                throw FCSError(file: path, .malformedSpillover(keyword: keyword, detail: "coefficient \(offset + 1) is \(quoted(text)), not a number"))
            }
            values.append(value)
        }
        return values
    }

    /// Maps a channel reference to the channel's $PnN.
    private func resolve(_ reference: String, keyword: String) throws(FCSError) -> String {
        if let channel = channels.first(where: { $0.name == reference }) { return channel.name }
        if let channel = channels.first(where: { $0.name.caseInsensitiveEquals(reference) }) { return channel.name }
        if let number = Int(reference), number >= 1, number <= channels.count { return channels[number - 1].name }
        throw FCSError(file: path, .malformedSpillover(
            keyword: keyword, detail: "channel \(quoted(reference)) is neither a $PnN of this data set nor a parameter number 1-\(channels.count)"))
    }

    /// $COMP (FCS 3.0): `n,c11,…,cnn` over parameters 1…n. Read like a spillover matrix
    /// when its diagonal is 1 (as Beckman writes it).
    private func parseComp(_ value: String) throws(FCSError) -> SpilloverMatrix? {
        let parts = fields(value)
        guard let first = parts.first, let n = Int(first), n > 0, n <= Self.maximumSize, n <= channels.count else {
            throw FCSError(file: path, .malformedSpillover(keyword: "$COMP", detail: "first field \(quoted(parts.first ?? "")) is not a matrix size between 1 and $PAR (\(channels.count))"))
        }
        guard parts.count == 1 + n * n else {
            throw FCSError(file: path, .malformedSpillover(keyword: "$COMP", detail: "a \(n) × \(n) matrix needs 1 + \(n * n) fields, found \(parts.count)"))
        }
        let values = try numbers(parts[1...], keyword: "$COMP")
        return SpilloverMatrix(unchecked: channels.prefix(n).map(\.name), values: values, source: .comp)
    }

    /// Beckman FCS 2.0: `$DFCiTOj` = percent of detector i's signal spilling into detector j,
    /// where i and j are FL numbers; channels are found by $PnN starting with "FLi".
    private func parseDFC() throws(FCSError) -> SpilloverMatrix? {
        var entries: [(from: Int, to: Int, percent: Double)] = []
        for entry in keywords.entries {
            let upper = entry.key.uppercased()
            guard upper.hasPrefix("$DFC") else { continue }
            let numbers = upper.dropFirst(4).split(separator: "TO", maxSplits: 1, omittingEmptySubsequences: false)
            guard numbers.count == 2, let from = Int(numbers[0]), let to = Int(numbers[1]) else { continue }
            guard let percent = Double(DataSetKeywords.trimmingBlanks(entry.value)), percent.isFinite else {
                throw FCSError(file: path, .malformedSpillover(keyword: entry.key, detail: "value \(quoted(entry.value)) is not a number"))
            }
            entries.append((from, to, percent))
        }
        if entries.isEmpty { return nil }
        // Map FL numbers to channels: the first channel whose $PnN is "FLn" followed by a non-digit.
        func channelIndex(forFL number: Int) -> Int? {
            channels.firstIndex { channel in
                let upper = channel.name.uppercased()
                let prefix = "FL\(number)"
                guard upper.hasPrefix(prefix) else { return false }
                let rest = upper.dropFirst(prefix.count)
                return rest.first.map { !$0.isNumber } ?? true
            }
        }
        let detectorNumbers = Set(entries.flatMap { [$0.from, $0.to] }).sorted()
        let present = detectorNumbers.compactMap { number in channelIndex(forFL: number).map { (number, $0) } }
        if present.isEmpty { return nil }
        let n = present.count
        var values = [Double](repeating: 0, count: n * n)
        for i in 0..<n { values[i * n + i] = 1 }
        let position = Dictionary(uniqueKeysWithValues: present.enumerated().map { ($0.element.0, $0.offset) })
        for entry in entries where entry.from != entry.to {
            if let row = position[entry.from], let column = position[entry.to] {
                values[row * n + column] = entry.percent / 100
            }
        }
        return SpilloverMatrix(unchecked: present.map { channels[$0.1].name }, values: values, source: .dfc)
    }
}

extension String {
    func caseInsensitiveEquals(_ other: String) -> Bool { uppercased() == other.uppercased() }
}
