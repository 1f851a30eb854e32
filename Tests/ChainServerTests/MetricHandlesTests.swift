import XCTest
@testable import ChainServer

final class MetricHandlesTests: XCTestCase {
    final class Handle {
        let name: String
        var count = 0
        init(_ name: String) { self.name = name }
    }

    /// Every label set gets one handle, made once, whether it is among the first `recentMax`
    /// (searched in order) or past them (found in the dictionary), and label sets that differ
    /// in any one value get different handles.
    func testEachLabelSetHasOneHandleMadeOnce() {
        var handles = MetricHandles<Handle>()
        var made = 0
        let sets = (0..<(MetricHandles<Handle>.recentMax * 2 + 3)).map { i in
            MetricHandles<Handle>.Labels(first: i % 2 == 0 ? "get" : "put", second: "s\(i / 4)", third: "c\(i % 4)")
        }
        XCTAssertEqual(Set(sets).count, sets.count, "the test's label sets are distinct")
        // Round 0 uses every set, round 1 skips those with i % 3 == 1, round 2 those with i % 3 == 2.
        for round in 0..<3 {
            for (i, labels) in sets.enumerated() where round == 0 || i % 3 != round {
                let handle = handles.handle(labels) { made += 1; return Handle("\(labels)") }
                XCTAssertEqual(handle.name, "\(labels)")
                handle.count += 1
            }
        }
        XCTAssertEqual(made, sets.count)
        XCTAssertEqual(handles.count, sets.count)
        for (i, labels) in sets.enumerated() {
            let handle = handles.handle(labels) { XCTFail("\(labels) made twice"); return Handle("") }
            XCTAssertEqual(handle.count, i % 3 == 0 ? 3 : 2, "\(labels)")
        }
        XCTAssertEqual(handles.handle(.init(first: "get")) { Handle("get alone") }.name, "get alone")
        XCTAssertEqual(handles.count, sets.count + 1)
    }
}
