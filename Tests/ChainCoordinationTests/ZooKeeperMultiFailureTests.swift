@testable import ChainCoordination
import CZooKeeper
import XCTest

/// How a refused `multi` is reported, from the codes the C client leaves in its results (the
/// answers a real ZooKeeper gives are in `ZooKeeperClientTests`; a refusal of a whole request
/// cannot be provoked from a healthy server, so its codes are written here as zookeeper.c 3.8.0's
/// `cleanup_failed_multi` leaves them: every op gets the completion's code).
final class ZooKeeperMultiFailureTests: XCTestCase {
    private let ok = ZOK.rawValue, notRun = ZRUNTIMEINCONSISTENCY.rawValue

    func testOneRefusedOpIsNamed() {
        XCTAssertEqual(failure(.badVersion, [ok, ZBADVERSION.rawValue, notRun]) as? ZooKeeperMultiError,
                       ZooKeeperMultiError(index: 1, error: .badVersion))
        XCTAssertEqual(failure(.noNode, [ZNONODE.rawValue, notRun]) as? ZooKeeperMultiError,
                       ZooKeeperMultiError(index: 0, error: .noNode))
        XCTAssertEqual(failure(.nodeExists, [ZNODEEXISTS.rawValue]) as? ZooKeeperMultiError,
                       ZooKeeperMultiError(index: 0, error: .nodeExists), "one op: its refusal")
    }

    func testARefusalOfTheWholeRequestNamesNoOp() {
        let code = ZMARSHALLINGERROR.rawValue
        let error = ZooKeeperError(code: code)
        XCTAssertEqual(failure(error, [code, code]) as? ZooKeeperError, error)
        XCTAssertEqual(failure(.notAuthorized, [ZNOAUTH.rawValue, ZNOAUTH.rawValue, ZNOAUTH.rawValue]) as? ZooKeeperError,
                       .notAuthorized)
    }

    func testAClientSideCleanupNamesNoOp() {
        // An answer out of order makes the C client fail every request in flight with
        // ZRUNTIMEINCONSISTENCY, the code that otherwise marks ops that did not run.
        let code = ZRUNTIMEINCONSISTENCY.rawValue
        let error = ZooKeeperError(code: code)
        XCTAssertEqual(failure(error, [code, code]) as? ZooKeeperError, error)
        XCTAssertEqual(failure(error, [code]) as? ZooKeeperError, error)
    }

    func testSessionAndConnectionProblemsStayPlain() {
        for error: ZooKeeperError in [.connectionLoss, .operationTimeout, .closed, .sessionExpired, .authFailed] {
            XCTAssertEqual(failure(error, [ok, ok]) as? ZooKeeperError, error)
            XCTAssertEqual(failure(error, [ZNONODE.rawValue, notRun]) as? ZooKeeperError, error, "\(error) even with a result filled in")
        }
    }

    func testResultsNamingNoOpGiveThePlainError() {
        XCTAssertEqual(failure(.badVersion, [ok, ok]) as? ZooKeeperError, .badVersion, "no answer written")
        XCTAssertEqual(failure(.badVersion, [ok, notRun]) as? ZooKeeperError, .badVersion)
    }

    private func failure(_ error: ZooKeeperError, _ codes: [Int32]) -> any Error {
        ZooKeeperClient.multiFailure(error, results: codes)
    }
}
