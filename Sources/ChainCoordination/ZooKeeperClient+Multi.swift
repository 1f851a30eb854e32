@preconcurrency import CZooKeeper
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One operation of a `ZooKeeperClient.multi` transaction.
public enum ZooKeeperOp: Sendable, Hashable {
    case create(path: String, data: [UInt8], mode: CreateMode)
    /// Deletes the znode if its data version is `version` (-1: any).
    case delete(path: String, version: Int32)
    /// Replaces the data if the version is `version` (-1: any); the version moves on either way.
    case setData(path: String, data: [UInt8], version: Int32)
    /// Fails the transaction unless the znode exists with data version `version`.
    case check(path: String, version: Int32)
}

/// A `multi` that ZooKeeper refused (none of its ops was applied) for the reason of the op at
/// `index`. Connection problems, a closed client, an expired session and a refusal of the request
/// as a whole are thrown as the plain `ZooKeeperError` instead: those say nothing about any one op
/// (and a connection loss leaves open whether the transaction was applied, as for any other write).
public struct ZooKeeperMultiError: Error, Sendable, Hashable, CustomStringConvertible {
    public var index: Int
    public var error: ZooKeeperError

    public init(index: Int, error: ZooKeeperError) {
        self.index = index
        self.error = error
    }

    public var description: String { "ZooKeeper multi refused at op \(index): \(error)" }
}

extension ZooKeeperClient {
    /// Most ops one `multi` may carry (ours carry two). The data of all of them together is bound
    /// by `maxDataSize`, as one znode's is: ZooKeeper's request limit is for the whole request.
    public static let multiOpsMax = 8

    /// Applies `ops` atomically: all of them, in order, or none (ZooKeeper's `multi`). With digest
    /// credentials, a created znode below the top level is protected as by `create`.
    public func multi(_ ops: [ZooKeeperOp]) async throws {
        guard !ops.isEmpty, ops.count <= Self.multiOpsMax, ops.allSatisfy({ Self.isValidPath($0.path) }) else {
            throw ZooKeeperError.badArguments
        }
        var dataBytes = 0
        for op in ops {
            switch op {
            case .create(_, let data, _), .setData(_, let data, _): dataBytes += data.count
            case .delete, .check: break
            }
        }
        try checkSize(byteCount: dataBytes)
        // The C client writes each op's result here when the answer arrives, before it calls the
        // completion, and never after: so this must live until `submit` returns, and then holds
        // the whole answer.
        let results = MultiResults(count: ops.count)
        defer { withExtendedLifetime(results) {} }
        do {
            let _: Void = try await submit { zh, box in
                // zoo_amulti must not refuse an op on the spot: once one op's check failed, it
                // frees the uninitialized path of every op after it (3.8.0, zookeeper.c). The
                // paths were checked above; a dead session is refused here instead. (The C
                // client's thread could still end the session between this check and the call:
                // a window of a few instructions, at a moment the server exits anyway.)
                guard zoo_state(zh) >= 0 else { return ZINVALIDSTATE.rawValue }
                let request = MultiRequest(ops, protects: protects)
                defer { request.release() }
                return zoo_amulti(zh, Int32(ops.count), request.ops, results.pointer, voidCompletion, box)
            }
        } catch let error as ZooKeeperError {
            throw Self.multiFailure(error, results: results.codes)
        }
    }

    /// What a refused `multi` throws, from the completion's error and the per-op result codes.
    /// Connection problems, a closed client or an expired session: the plain error. A refusal of
    /// one op: ZooKeeper reports ZOK for the ops before it and ZRUNTIMEINCONSISTENCY (not run) for
    /// those after it, so the first other code names it. A refusal of the whole request (the
    /// server's error header, e.g. a request it could not read): the C client gives every op the
    /// completion's code, which names no op, so that is the plain error too. (With one op the two
    /// cannot be told apart, and need not be.)
    static func multiFailure(_ error: ZooKeeperError, results codes: [Int32]) -> any Error {
        if error.isConnectionProblem || [.closed, .sessionExpired, .authFailed].contains(error) { return error }
        if codes.count > 1, codes.allSatisfy({ ZooKeeperError(code: $0) == error }) { return error }
        let notRun = ZRUNTIMEINCONSISTENCY.rawValue
        guard let index = codes.firstIndex(where: { $0 != ZOK.rawValue && $0 != notRun }) else { return error }
        return ZooKeeperMultiError(index: index, error: ZooKeeperError(code: codes[index]))
    }

    /// What the C client accepts as a path (its `isValidPath`, for znodes without a sequence
    /// suffix), a little stricter: absolute, no empty, "." or ".." component, no trailing "/", no
    /// control characters.
    static func isValidPath(_ path: String) -> Bool {
        guard path.hasPrefix("/") else { return false }
        if path == "/" { return true }
        guard !path.hasSuffix("/"), !path.utf8.contains(where: { $0 < 0x20 || $0 == 0x7f }) else { return false }
        return path.dropFirst().split(separator: "/", omittingEmptySubsequences: false).allSatisfy {
            !$0.isEmpty && $0 != "." && $0 != ".."
        }
    }
}

extension ZooKeeperOp {
    var path: String {
        switch self {
        case .create(let path, _, _), .delete(let path, _), .setData(let path, _, _), .check(let path, _): return path
        }
    }
}

/// The per-op results of one `zoo_amulti`, zeroed (`err` = ZOK) until the answer fills them in.
private final class MultiResults {
    let pointer: UnsafeMutablePointer<zoo_op_result_t>
    let count: Int

    init(count: Int) {
        self.count = count
        pointer = .allocate(capacity: count)
        pointer.initialize(repeating: zoo_op_result_t(), count: count)
    }

    deinit { pointer.deallocate() }

    /// Each op's result code, in order (ZOK for an op the answer has not filled in).
    var codes: [Int32] { (0..<count).map { pointer[$0].err } }
}

/// The C form of a multi's ops. Paths and data are copied to C memory that lives until `release()`;
/// `zoo_amulti` serializes everything into its request before it returns, so that is right after it.
private struct MultiRequest {
    let ops: UnsafeMutablePointer<zoo_op_t>
    private let count: Int
    private var copies: [UnsafeMutableRawPointer] = []

    /// `protects`: whether a znode created at a path gets the protected ACL (`ZooKeeperClient.protects`).
    init(_ swiftOps: [ZooKeeperOp], protects: (String) -> Bool) {
        count = swiftOps.count
        ops = .allocate(capacity: count)
        ops.initialize(repeating: zoo_op_t(), count: count)
        for (index, op) in swiftOps.enumerated() {
            switch op {
            case .create(let path, let data, let mode):
                zoo_create_op_init(&ops[index], copy(path), copy(data), Int32(data.count),
                                   protects(path) ? czk_protected_acl() : UnsafePointer(czk_open_acl_unsafe()), mode.flags, nil, 0)
            case .delete(let path, let version):
                zoo_delete_op_init(&ops[index], copy(path), version)
            case .setData(let path, let data, let version):
                zoo_set_op_init(&ops[index], copy(path), copy(data), Int32(data.count), version, nil)
            case .check(let path, let version):
                zoo_check_op_init(&ops[index], copy(path), version)
            }
        }
    }

    private mutating func copy(_ text: String) -> UnsafePointer<CChar> {
        let pointer = strdup(text)!
        copies.append(UnsafeMutableRawPointer(pointer))
        return UnsafePointer(pointer)
    }

    /// At least one byte: `malloc(0)` may return NULL.
    private mutating func copy(_ bytes: [UInt8]) -> UnsafePointer<CChar> {
        let pointer = malloc(max(bytes.count, 1))!
        bytes.withUnsafeBytes { if let base = $0.baseAddress { pointer.copyMemory(from: base, byteCount: $0.count) } }
        copies.append(pointer)
        return UnsafePointer(pointer.assumingMemoryBound(to: CChar.self))
    }

    func release() {
        for pointer in copies { free(pointer) }
        ops.deinitialize(count: count)
        ops.deallocate()
    }
}
