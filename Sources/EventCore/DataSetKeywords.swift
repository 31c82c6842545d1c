/// The keyword/value pairs that describe a data set (an FCS TEXT segment, or the FCS keywords an
/// HDF5 event store keeps), in file order, with case-insensitive lookup.
///
/// Keywords are case-insensitive in FCS ("$tot" is "$TOT"); values are kept
/// exactly as written, including surrounding spaces (use ``trimmed(_:)`` for
/// numbers). Lookup is O(1) through an index of upper-cased keys; when a keyword
/// occurs twice the later value wins and the parser records a warning.
public struct DataSetKeywords: Sendable, Equatable, Sequence {
    /// One keyword and its value as written.
    public struct Entry: Sendable, Equatable, Hashable {
        public let key: String
        public let value: String
        public init(key: String, value: String) {
            self.key = key
            self.value = value
        }
    }

    /// All entries in file order (a repeated keyword appears once, at its first place, with its last value).
    public private(set) var entries: [Entry] = []
    private var index: [String: Int] = [:]

    public init() {}

    /// Creates keywords from pairs in order; later duplicates replace earlier values.
    public init(_ pairs: [(String, String)]) {
        for (key, value) in pairs { self[key] = value }
    }

    /// The number of distinct keywords.
    public var count: Int { entries.count }

    /// The value of `key`, compared case-insensitively; nil when absent.
    /// Setting nil removes the keyword.
    public subscript(key: String) -> String? {
        get { index[key.uppercased()].map { entries[$0].value } }
        set {
            let upper = key.uppercased()
            if let newValue {
                if let position = index[upper] {
                    entries[position] = Entry(key: entries[position].key, value: newValue)
                } else {
                    index[upper] = entries.count
                    entries.append(Entry(key: key, value: newValue))
                }
            } else if let position = index.removeValue(forKey: upper) {
                entries.remove(at: position)
                for (k, v) in index where v > position { index[k] = v - 1 }
            }
        }
    }

    /// Whether `key` is present (case-insensitive).
    public func contains(_ key: String) -> Bool { index[key.uppercased()] != nil }

    /// The value of `key` with leading and trailing blanks removed; nil when absent.
    public func trimmed(_ key: String) -> String? {
        self[key].map(Self.trimmingBlanks)
    }

    public func makeIterator() -> IndexingIterator<[Entry]> { entries.makeIterator() }

    public static func == (lhs: DataSetKeywords, rhs: DataSetKeywords) -> Bool { lhs.entries == rhs.entries }

    /// `value` without the spaces, tabs, NULs and line breaks at both ends.
    public static func trimmingBlanks(_ value: String) -> String {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\0" || $0 == "\r" || $0 == "\n" }
        guard let first = value.firstIndex(where: { !blank($0) }) else { return "" }
        let last = value.lastIndex(where: { !blank($0) })!
        return String(value[first...last])
    }

    /// A number as a keyword value, the shortest way that reads back identically ("1", "0.25", "1e-05").
    public static func value(of number: Double) -> String {
        if number.rounded() == number && abs(number) < 1e15 { return String(Int64(number)) }
        return String(number)
    }
}
