import XCTest
@testable import ChainCheck

final class HistoryFileTests: XCTestCase {
    private func decodeError(_ text: String, limits: HistoryFile.Limits = .init(),
                             file: StaticString = #filePath, line: UInt = #line) -> HistoryFileError? {
        do {
            let ops = try HistoryFile.decode(text, limits: limits)
            XCTFail("decoded \(ops)", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    /// A valid line with `members` replaced or added (nil removes one).
    private func line(_ members: [String: String?]) -> String {
        var fields: [(String, String)] = [("id", "1"), ("client", "2"), ("key", "\"k\""), ("op", "\"put\""),
                                          ("value", "\"6131\""), ("old", "null"), ("existed", "null"),
                                          ("ok", "true"), ("invoke", "10"), ("complete", "20")]
        for (name, value) in members {
            if let index = fields.firstIndex(where: { $0.0 == name }) {
                if let value { fields[index].1 = value } else { fields.remove(at: index) }
            } else if let value {
                fields.append((name, value))
            }
        }
        return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }

    func testEncodesOneLinePerOperation() {
        let op = Operation(id: 7, client: 2, key: "k1", kind: .put(value: bytes("v1"), old: nil), invoke: 1200, complete: 1350)
        XCTAssertEqual(HistoryFile.encode(op), """
            {"id":7,"client":2,"key":"k1","op":"put","value":"7631","old":null,"existed":null,"ok":true,"invoke":1200,"complete":1350}
            """)
        XCTAssertEqual(HistoryFile.encode([op, op]), HistoryFile.encode(op) + "\n" + HistoryFile.encode(op) + "\n")
    }

    func testRoundTrip() throws {
        let ops: [Operation] = [
            Operation(id: 1, client: 1, key: "k", kind: .get(value: nil), invoke: 0, complete: 1),
            Operation(id: 2, client: 1, key: "k", kind: .get(value: [0, 255, 10]), invoke: 2, complete: 3),
            Operation(id: 3, client: 2, key: "k", kind: .get(value: []), invoke: 2, complete: 3),
            Operation(id: 4, client: 2, key: "other", kind: .put(value: bytes("x"), old: bytes("y")), invoke: 4, complete: 9),
            Operation(id: 5, client: 3, key: "k", kind: .put(value: [], old: nil), invoke: 4, complete: 4),
            Operation(id: 6, client: 3, key: "k", kind: .delete(existed: true), invoke: 5, complete: 6),
            Operation(id: 7, client: 3, key: "k", kind: .delete(existed: false), invoke: 7, complete: 8),
            Operation(id: 8, client: 4, key: "k", kind: .putUnknown(value: bytes("z")), invoke: 9, complete: nil),
            Operation(id: 9, client: 4, key: "k", kind: .putUnknown(value: bytes("z")), invoke: 10, complete: 30),
            Operation(id: 10, client: 5, key: "k", kind: .deleteUnknown, invoke: 11, complete: nil),
            Operation(id: -11, client: -5, key: "quote\" back\\slash\nnewline\u{1} é 🦊", kind: .deleteUnknown,
                      invoke: UInt64.max, complete: UInt64.max),
            Operation(id: Int.min, client: Int.max, key: "", kind: .get(value: nil), invoke: 0, complete: 0),
        ]
        let text = HistoryFile.encode(ops)
        XCTAssertEqual(try HistoryFile.decode(text), ops)
        XCTAssertEqual(try HistoryFile.decode(Array(text.utf8)), ops)
    }

    func testOperationsWithoutCompletionComeBackNormalized() throws {
        let ops = [
            Operation(id: 1, client: 1, key: "k", kind: .put(value: bytes("a"), old: bytes("b")), invoke: 0, complete: nil),
            Operation(id: 2, client: 1, key: "k", kind: .delete(existed: true), invoke: 1, complete: nil),
            Operation(id: 3, client: 1, key: "k", kind: .get(value: bytes("a")), invoke: 2, complete: nil),
        ]
        XCTAssertEqual(try HistoryFile.decode(HistoryFile.encode(ops)), ops.compactMap(\.normalized))
    }

    func testToleratesLayout() throws {
        let text = """

              { "complete" : 20 , "invoke":10,"ok":true,"old":null,"value":"6A4B","op":"put","key":"k","client":2,"id":1 }\r
            \t
            {"id":2,"client":2,"key":"k","op":"get","ok":true,"invoke":30,"complete":31}
            {"id":3,"client":2,"key":"k","op":"delete","existed":true,"ok":true,"invoke":32,"complete":33}
            """
        XCTAssertEqual(try HistoryFile.decode(text), [
            Operation(id: 1, client: 2, key: "k", kind: .put(value: [0x6A, 0x4B], old: nil), invoke: 10, complete: 20),
            Operation(id: 2, client: 2, key: "k", kind: .get(value: nil), invoke: 30, complete: 31),
            Operation(id: 3, client: 2, key: "k", kind: .delete(existed: true), invoke: 32, complete: 33),
        ])
    }

    func testSkipsRefusedRequestsAndReadsOfUnknownOutcome() throws {
        let text = [
            line(["ok": "false", "complete": "null"]),
            line(["id": "2", "op": "\"get\"", "value": "null", "ok": "null", "complete": "null"]),
            line(["id": "3", "ok": "null", "complete": "null"]),
        ].joined(separator: "\n")
        XCTAssertEqual(try HistoryFile.decode(text), [
            Operation(id: 3, client: 2, key: "k", kind: .putUnknown(value: bytes("a1")), invoke: 10, complete: nil),
        ])
    }

    func testUnknownOutcomeMayHaveACompletionTime() throws {
        XCTAssertEqual(try HistoryFile.decode(line(["ok": "null"])), [
            Operation(id: 1, client: 2, key: "k", kind: .putUnknown(value: bytes("a1")), invoke: 10, complete: 20),
        ])
    }

    func testRejectsMalformedLinesNamingTheLine() {
        let good = line([:])
        let cases: [(String, String)] = [
            ("not json", "one JSON object"),
            ("[1,2]", "one JSON object"),
            (good + " x", "text after"),
            (good + "}", "text after"),
            ("{\"id\":1", "expected ',' or '}'"),
            (line(["id": "1.5"]), "integers"),
            (line(["id": "1e3"]), "integers"),
            (line(["id": "01"]), "leading zeros"),
            (line(["id": "\"1\""]), "\"id\" must be an integer"),
            (line(["id": "99999999999999999999"]), "too large"),
            (line(["id": "9223372036854775808"]), "out of range"),
            (line(["invoke": "-1"]), "non-negative"),
            (line(["complete": "5"]), "before \"invoke\""),
            (line(["complete": nil]), "\"complete\" is required"),
            (line(["op": "\"cas\""]), "\"op\" must be"),
            (line(["ok": "1"]), "\"ok\" must be"),
            (line(["ok": nil]), "missing member \"ok\""),
            (line(["key": nil]), "missing member \"key\""),
            (line(["key": "7"]), "\"key\" must be a string"),
            (line(["value": "\"abc\""]), "hex"),
            (line(["value": "\"zz\""]), "hex"),
            (line(["value": "null"]), "\"value\" is required for a put"),
            (line(["existed": "true"]), "\"existed\" must be null for a put"),
            (line(["ok": "null", "old": "\"61\""]), "\"old\" must be null"),
            (line(["op": "\"delete\"", "value": "null"]), "\"existed\" must be true or false"),
            (line(["op": "\"delete\""]), "\"value\" must be null for a delete"),
            (line(["op": "\"get\"", "value": "\"61\"", "ok": "null", "complete": "null"]), "\"value\" must be null"),
            (line(["extra": "1"]), "unknown member \"extra\""),
            (line(["nested": "{}"]), "nested"),
            ("{\"id\":1,\"id\":2}", "duplicate member"),
            (line(["key": "\"a\\qb\""]), "unknown escape"),
            (line(["key": "\"a\\ud800b\""]), "unpaired surrogate"),
            (line(["key": "\"a\\u12\""]), "four hex digits"),
            (line(["key": "\"a\u{1}b\""]), "control character"),
            ("{\"key\":\"abc", "unterminated"),
            (line(["ok": "tru"]), "expected a string"),
        ]
        for (bad, reason) in cases {
            let text = good + "\n" + bad + "\n" + line(["id": "3"]) + "\n"
            let error = decodeError(text)
            XCTAssertEqual(error?.line, 2, bad)
            XCTAssertTrue(error?.reason.contains(reason) ?? false, "\(bad): \(error.map(\.description) ?? "no error")")
        }
    }

    func testRejectsInvalidUTF8() {
        var bytes = Array(line(["key": "\"ab\""]).utf8)
        let at = bytes.firstIndex(of: UInt8(ascii: "b"))!
        bytes[at] = 0xC0  // an overlong form's lead byte
        XCTAssertThrowsError(try HistoryFile.decode(bytes)) { error in
            XCTAssertEqual((error as? HistoryFileError)?.line, 1)
        }
    }

    func testRejectsDuplicateIds() {
        let error = decodeError(line([:]) + "\n" + line(["ok": "false"]) + "\n")
        XCTAssertEqual(error?.line, 2)
        XCTAssertTrue(error?.reason.contains("duplicate id 1") ?? false)
    }

    func testEnforcesLimits() {
        var limits = HistoryFile.Limits()
        limits.maxLineBytes = 200
        let long = line(["value": "\"" + String(repeating: "61", count: 100) + "\""])
        XCTAssertEqual(decodeError(line([:]) + "\n" + long, limits: limits)?.line, 2)

        limits = HistoryFile.Limits()
        limits.maxOperations = 2
        let three = (1...3).map { line(["id": "\($0)"]) }.joined(separator: "\n")
        let error = decodeError(three, limits: limits)
        XCTAssertEqual(error?.line, 3)
        XCTAssertTrue(error?.reason.contains("more than 2 operations") ?? false)

        limits = HistoryFile.Limits()
        limits.maxKeyBytes = 3
        XCTAssertTrue(decodeError(line(["key": "\"abcd\""]), limits: limits)?.reason.contains("longer") ?? false)
        limits = HistoryFile.Limits()
        limits.maxValueBytes = 1
        XCTAssertTrue(decodeError(line(["value": "\"6162\""]), limits: limits)?.reason.contains("longer") ?? false)
    }

    func testDecodedHistoryChecks() throws {
        let history = RandomHistory.linearizable(operations: 200, clients: 5, unknownPercent: 5, seed: 3)
        let decoded = try HistoryFile.decode(HistoryFile.encode(history))
        XCTAssertEqual(decoded, history.compactMap(\.normalized))
        XCTAssertEqual(LinearizabilityChecker.check(decoded).verdict, .linearizable)
    }

    func testErrorDescription() {
        XCTAssertEqual(HistoryFileError(line: 4, reason: "bad").description, "history file line 4: bad")
    }
}
