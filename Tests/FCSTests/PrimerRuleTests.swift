import Foundation
import Testing
import TestSupport
@testable import FCS

/// The FCS rules of the domain primer broken one at a time, each on an otherwise valid file:
/// every case gets the exact typed error (naming the file and the keyword or offset) or the
/// exact warning for a tolerated repair.
@Suite("FCS primer rules broken one at a time")
struct PrimerRuleTests {
    let directory = TemporaryDirectory()

    struct Case: Sendable, CustomTestStringConvertible {
        let rule: String
        let changes: [(String, String?)]
        let expected: String
        var testDescription: String { rule }
    }

    static let cases: [Case] = [
        Case(rule: "F data needs $PnB = 32", changes: [("$DATATYPE", "F")], expected: "error: FILE: keyword $P1B is \"16\"; expected 32 for $DATATYPE F"),
        Case(rule: "D data needs $PnB = 64", changes: [("$DATATYPE", "D"), ("$P1B", "32"), ("$P2B", "32")], expected: "error: FILE: keyword $P1B is \"32\"; expected 64 for $DATATYPE D"),
        Case(rule: "$PnR missing: no masking, reported", changes: [("$P2R", nil)], expected: "warnings: [range-missing] missing or unreadable range: $P2R; integer values are not masked there"),
        Case(rule: "$PnE is two numbers", changes: [("$P1E", "4")], expected: "error: FILE: keyword $P1E is \"4\"; expected two numbers f1,f2 such as 0,0 or 4,1"),
        Case(rule: "$PnE with decades needs a non-negative offset", changes: [("$P1E", "4,-1")], expected: "error: FILE: keyword $P1E is \"4,-1\"; expected a non-negative offset f2 with log decades f1 > 0"),
        Case(rule: "$NEXTDATA not a number: the chain ends, reported", changes: [("$NEXTDATA", "next")], expected: "warnings: [data-offset-rejected] $NEXTDATA \"next\" of data set 0 not a non-negative integer; the chain ends there"),
        Case(rule: "$BEGINSTEXT past the end of the file", changes: [("$BEGINSTEXT", "900000"), ("$ENDSTEXT", "900100")], expected: "warnings: [data-offset-rejected] supplemental TEXT at bytes 900000-900100 lies outside the file or overlaps TEXT; ignored"),
        Case(rule: "$PnB not a multiple of 8 on unpacked data", changes: [("$P1B", "12")], expected: "warnings: [storage-width] $P1B=12 is not a whole number of bytes; DATA (12 bytes for 3 events) holds 4-byte events, so values are read from 16-bit words"),
    ]

    @Test("typed error or stated repair", arguments: cases)
    func rule(_ c: Case) throws {
        var builder = FCSBuilder.integers(events: 3)
        for (key, value) in c.changes {
            builder.keywords.removeAll { $0.0 == key }
            if let value { builder.keywords.append((key, value)) }
        }
        let path = builder.write(to: directory, name: "rule.fcs")
        let outcome: String
        do {
            let file = try FCSFile(path: path)
            outcome = "warnings: " + (file.warnings + file.dataSets.flatMap(\.warnings)).map { "\($0)" }.joined(separator: " | ")
        } catch {
            outcome = "error: \(error)"
        }
        #expect(outcome == c.expected.replacingOccurrences(of: "FILE", with: path))
    }
}
