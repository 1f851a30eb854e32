import XCTest
@testable import ChainCheck

final class CheckResultTests: XCTestCase {
    private func key(_ name: String, _ verdict: CheckResult.Verdict, window: FailingWindow? = nil) -> CheckResult.KeyResult {
        CheckResult.KeyResult(key: name, verdict: verdict, operationCount: 3, steps: 7, window: window)
    }

    func testVerdictIsTheWorstOfTheKeys() {
        XCTAssertEqual(CheckResult(keys: []).verdict, .linearizable)
        XCTAssertEqual(CheckResult(keys: [key("a", .linearizable), key("b", .linearizable)]).verdict, .linearizable)
        XCTAssertEqual(CheckResult(keys: [key("a", .linearizable), key("b", .unknown)]).verdict, .unknown)
        XCTAssertEqual(CheckResult(keys: [key("a", .notLinearizable), key("b", .unknown)]).verdict, .notLinearizable)
        XCTAssertTrue(CheckResult(keys: [key("a", .linearizable)]).isLinearizable)
        XCTAssertFalse(CheckResult(keys: [key("a", .unknown)]).isLinearizable)
    }

    func testLookupAndFailingKeys() {
        let result = CheckResult(keys: [key("a", .notLinearizable), key("b", .linearizable), key("c", .notLinearizable)])
        XCTAssertEqual(result.failingKeys, ["a", "c"])
        XCTAssertEqual(result["b"]?.verdict, .linearizable)
        XCTAssertNil(result["z"])
    }

    func testDescribeLinearizable() {
        XCTAssertEqual(CheckResult(keys: [key("a", .linearizable), key("b", .linearizable)]).describe(),
                       "linearizability: linearizable (2 keys: 2 linearizable, 0 not linearizable, 0 unknown; 6 operations)")
    }

    func testDescribeShowsUnknownKeysAndWindows() {
        let h = HistoryBuilder()
        h.put(1, "a", old: nil, 0, 1, key: "good")
        h.get(2, "a", 2, 3, key: "good")
        h.put(1, "v1", old: nil, 0, 1, key: "bad")
        h.put(1, "v2", old: "v1", 2, 3, key: "bad")
        h.get(2, "v1", 4, 5, key: "bad")
        var history = h.operations
        for i in 0..<30 {  // a key too hard for the budget below
            history.append(Operation(id: 100 + i, client: i, key: "hard", kind: .get(value: nil), invoke: UInt64(i), complete: 100))
        }
        history.append(Operation(id: 200, client: 0, key: "hard", kind: .get(value: bytes("x")), invoke: 200, complete: 201))
        let text = LinearizabilityChecker.check(history, maxStepsPerKey: 10_000).describe()
        let expected = """
            linearizability: not linearizable (3 keys: 1 linearizable, 1 not linearizable, 1 unknown; 36 operations)

            key "bad": not linearizable (3 operations, 6 search steps)
            smallest failing window: 2 operations; the key's value at its start: one of absent, "v1"
            id  client  op   value             invoke  complete
            --  ------  ---  ----------------  ------  --------
            4   1       put  "v2" (old: "v1")  2       3
            5   2       get  "v1"              4       5

            key "hard": unknown (31 operations, 10000 search steps)
            """
        XCTAssertEqual(text, expected)
    }
}
