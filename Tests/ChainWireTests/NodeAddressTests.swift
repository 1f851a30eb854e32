import XCTest
@testable import ChainWire

final class NodeAddressTests: XCTestCase {
    func testParsesHostAndPort() {
        XCTAssertEqual(NodeAddress(id: "n1", parsing: "127.0.0.1:7001"), NodeAddress(id: "n1", host: "127.0.0.1", port: 7001))
        XCTAssertEqual(NodeAddress(id: "n1", parsing: "db.example:65535")?.port, 65535)
        XCTAssertEqual(NodeAddress(id: "n1", parsing: "localhost", defaultPort: 7001), NodeAddress(id: "n1", host: "localhost", port: 7001))
    }

    func testRefusesWhatCannotBeDialed() {
        for bad in ["", ":7001", "host:", "host:0", "host:65536", "host:x", "[::1]:7001"] {
            XCTAssertNil(NodeAddress(id: "n", parsing: bad, defaultPort: 7001), bad)
        }
        XCTAssertNil(NodeAddress(id: "n", parsing: "localhost"), "no port and no default")
    }

    func testHostPortRoundTrips() {
        let a = NodeAddress(id: "n", host: "10.0.0.1", port: 9)
        XCTAssertEqual(NodeAddress(id: "n", parsing: a.hostPort), a)
    }
}

final class ErrorCodeTests: XCTestCase {
    func testLabelsAreSnakeCase() {
        XCTAssertEqual(ErrorCode.notHead.label, "not_head")
        XCTAssertEqual(ErrorCode.oldValueNotKept.label, "old_value_not_kept")
        XCTAssertEqual(ErrorCode.unavailable.label, "unavailable")
    }

    func testEveryCodeIsClassifiedOnce() {
        for code in ErrorCode.allCases {
            XCTAssertFalse(code.isTransient && code.isRequestFault, "\(code) is both transient and the request's fault")
        }
        XCTAssertTrue(ErrorCode.chainChanged.isTransient)
        XCTAssertTrue(ErrorCode.valueTooLarge.isRequestFault)
        XCTAssertFalse(ErrorCode.unauthorized.isTransient, "a wrong secret does not heal by retrying")
    }
}
