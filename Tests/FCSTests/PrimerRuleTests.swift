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
        Case(rule: "$BYTEORD is 1,2,3,4 or 4,3,2,1 (or 1,2 / 2,1 for 16-bit data)", changes: [("$BYTEORD", "3,4,1,2")], expected: "error: FILE: keyword $BYTEORD is \"3,4,1,2\"; expected an order for 2-byte values of $P1 (mixed orders apply only to values of their own width)"),
        Case(rule: "$BYTEORD names each byte once", changes: [("$BYTEORD", "1,1")], expected: "error: FILE: keyword $BYTEORD is \"1,1\"; expected a permutation of 1..2"),
        Case(rule: "$DATATYPE A: $PnB counts characters, so binary DATA holds no complete event", changes: [("$DATATYPE", "A")], expected: "error: FILE: DATA from byte 222 is 12 bytes, but $TOT=3 events × 32 bytes per event ($PAR and $PnB) = 96 bytes; the keywords do not describe the data (the segment is not a whole number of events); only a partial read (inspect --partial, qc --allow-partial) takes what fits"),
        Case(rule: "$MODE is L (list mode)", changes: [("$MODE", "H")], expected: "error: FILE: keyword $MODE is \"H\"; expected L (list mode); histogram modes C and U are not supported"),
        Case(rule: "$PAR agrees with the $Pn keywords", changes: [("$PAR", "3")], expected: "error: FILE: required keyword $P3B is missing"),
        Case(rule: "keywords are case-insensitive: one given twice is reported", changes: [("$tot", "3")], expected: "warnings: [duplicate-keyword] keyword(s) written more than once: $tot; the primary TEXT's last value is used"),
        Case(rule: "keywords are case-insensitive: a lower-case required keyword counts", changes: [("$TOT", nil), ("$tot", "3")], expected: "warnings: "),
        Case(rule: "a value with trailing spaces is trimmed", changes: [("$TOT", "3  ")], expected: "warnings: "),
        Case(rule: "$TOT disagreeing with DATA is an error", changes: [("$TOT", "5")], expected: "error: FILE: DATA from byte 222 is 12 bytes, but $TOT=5 events × 4 bytes per event ($PAR and $PnB) = 20 bytes; the keywords do not describe the data (the segment holds 3 whole events); only a partial read (inspect --partial, qc --allow-partial) takes what fits"),
        Case(rule: "two channels with one $PnN are reported", changes: [("$P2N", "CH1")], expected: "warnings: [duplicate-channel-name] $PnN repeats: CH1; such channels are named \"name [Pn]\""),
        Case(rule: "$PnG with log amplification: the gain is ignored, reported", changes: [("$P1E", "4,1"), ("$P1G", "2")], expected: "warnings: [gain-ignored] gain ignored: $P1G=2 (log amplified)"),
        Case(rule: "$PnG of 0 is ignored, reported", changes: [("$P1G", "0")], expected: "warnings: [gain-ignored] gain ignored: $P1G=0 (not positive)"),
        Case(rule: "$TIMESTEP that is not a number is reported", changes: [("$P1N", "Time"), ("$TIMESTEP", "fast")], expected: "warnings: [timestep-invalid] $TIMESTEP is \"fast\", not a positive number; time is left in ticks"),
        Case(rule: "$PnE of 0,0 on linear data scales nothing", changes: [("$P1E", "0,0")], expected: "warnings: "),
        Case(rule: "$PnE f2 = 0 with decades is taken as 1", changes: [("$P1E", "4,0")], expected: "warnings: [amplification-ignored] log amplification with offset 0 read as offset 1 (10^(f1·x/R)): $P1E=4,0"),
        Case(rule: "$PnR not a number", changes: [("$P1R", "big")], expected: "warnings: [range-missing] missing or unreadable range: $P1R=\"big\"; integer values are not masked there"),
        Case(rule: "$NEXTDATA 0000 (zero, padded) ends the chain with no warning", changes: [("$NEXTDATA", "0000")], expected: "warnings: "),
        Case(rule: "$NEXTDATA past the end of the file ends the chain", changes: [("$NEXTDATA", "99999")], expected: "warnings: [data-offset-rejected] $NEXTDATA \"99999\" of data set 0 points to byte 99999, past the end of the 238-byte file; the chain ends there"),
        Case(rule: "$NEXTDATA negative ends the chain", changes: [("$NEXTDATA", "-58")], expected: "warnings: [data-offset-rejected] $NEXTDATA \"-58\" of data set 0 not a non-negative integer; the chain ends there"),
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
