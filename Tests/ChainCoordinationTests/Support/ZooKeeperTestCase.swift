import ChainTestSupport
import ChainCoordination
import Foundation
import XCTest

/// Base of the tests that need a real ZooKeeper. Each test class gets its own server (started in the class
/// setUp, stopped in the class tearDown) unless CHAINKV_ZK names one; each test gets a cluster name of its
/// own, and everything it opened through `client()`/`coordinator()` is closed in tearDown.
class ZooKeeperTestCase: XCTestCase {
    private nonisolated(unsafe) static var servers: [ObjectIdentifier: Result<ZooKeeperServer, any Error>] = [:]
    private static let serversLock = NSLock()

    override class func setUp() {
        super.setUp()
        let server = Result { try ZooKeeperServer.start() }
        serversLock.withLock { servers[ObjectIdentifier(self)] = server }
    }

    override class func tearDown() {
        let server = serversLock.withLock { servers.removeValue(forKey: ObjectIdentifier(self)) }
        if case .success(let server)? = server { server.stop() }
        super.tearDown()
    }

    private(set) var connectString = ""
    /// A cluster name unique to this test (ZnodePaths roots differ, so tests never see each other's znodes).
    private(set) var cluster = ""
    private var clients: [ZooKeeperClient] = []
    private var coordinators: [Coordinator] = []
    private var proxies: [TCPProxy] = []

    /// A cuttable forwarder to the server, stopped in tearDown.
    func proxy() throws -> TCPProxy {
        let proxy = try TCPProxy(forwardingTo: connectString)
        proxies.append(proxy)
        return proxy
    }

    override func setUp() async throws {
        try await super.setUp()
        let server = Self.serversLock.withLock { Self.servers[ObjectIdentifier(type(of: self))] }
        switch server {
        case .success(let server)?: connectString = server.connectString
        case .failure(let error)?: throw error
        case nil: XCTFail("no ZooKeeper fixture"); throw CancellationError()
        }
        let name = name.filter { $0.isLetter || $0.isNumber }.suffix(40)
        cluster = "t\(UUID().uuidString.prefix(8).lowercased())-\(name)"
    }

    override func tearDown() async throws {
        for coordinator in coordinators { await coordinator.close() }
        for client in clients { await client.close() }
        for proxy in proxies { proxy.stop() }
        coordinators = []
        clients = []
        proxies = []
        try await super.tearDown()
    }

    /// A connected client, closed in tearDown.
    func client(via proxy: TCPProxy? = nil, sessionTimeout: Duration = .seconds(10)) async throws -> ZooKeeperClient {
        let client = try ZooKeeperClient(
            connectString: proxy?.connectString ?? connectString, sessionTimeout: sessionTimeout)
        clients.append(client)
        try await client.waitConnected(timeout: .seconds(20))
        return client
    }

    /// A connected coordinator of this test's cluster, closed in tearDown.
    func coordinator(
        _ nodeID: String, via proxy: TCPProxy? = nil, sessionTimeout: Duration = .seconds(10)
    ) async throws -> Coordinator {
        let coordinator = try await Coordinator.connect(
            to: proxy?.connectString ?? connectString, cluster: cluster, nodeID: nodeID,
            sessionTimeout: sessionTimeout, connectTimeout: .seconds(20))
        coordinators.append(coordinator)
        return coordinator
    }

    /// A path unique to this test, for raw client tests.
    var testRoot: String { "/chainkv-test/\(cluster)" }
}
