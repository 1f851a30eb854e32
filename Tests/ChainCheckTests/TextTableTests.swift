import XCTest
@testable import ChainCheck

final class TextTableTests: XCTestCase {
    func testPadsColumnsAndRulesTheHeader() {
        let text = TextTable.render([["a", "bb", "c"], ["long", "x", ""], ["1", "22", "333"]])
        XCTAssertEqual(text, """
            a     bb  c
            ----  --  ---
            long  x
            1     22  333
            """)
    }
}
