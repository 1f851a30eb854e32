@preconcurrency import CZooKeeper
import Logging

/// The continuation of one `zoo_a*` call, passed to the C client as its `data` pointer (retained), and taken
/// back (released) by the completion, which the C client calls exactly once: with the answer, with
/// `ZCONNECTIONLOSS` when the connection drops, or with `ZCLOSING` from `zookeeper_close`.
final class CompletionBox<Value: Sendable>: Sendable {
    let continuation: CheckedContinuation<Value, any Error>

    init(_ continuation: CheckedContinuation<Value, any Error>) {
        self.continuation = continuation
    }

    static func take(_ data: UnsafeRawPointer?) -> CompletionBox<Value>? {
        guard let data else { return nil }
        return Unmanaged<CompletionBox<Value>>.fromOpaque(data).takeRetainedValue()
    }

    func fail(_ rc: Int32) {
        continuation.resume(throwing: ZooKeeperError(code: rc))
    }
}

/// The data and metadata of a znode.
struct ZnodeData: Sendable {
    var data: [UInt8]
    var stat: ZnodeStat
}

// The completions are global constants for the same reason as `sessionWatcher`: they run on the C client's
// completion thread and must not inherit any actor isolation.

let createCompletion: string_completion_t = { rc, value, data in
    guard let box = CompletionBox<String>.take(data) else { return }
    guard rc == ZOK.rawValue, let value else { return box.fail(rc) }
    box.continuation.resume(returning: String(cString: value))
}

let getCompletion: data_completion_t = { rc, value, length, stat, data in
    guard let box = CompletionBox<ZnodeData>.take(data) else { return }
    guard rc == ZOK.rawValue, let stat else { return box.fail(rc) }
    // A znode created with NULL data reports length -1.
    let bytes: [UInt8]
    if let value, length > 0 {
        bytes = Array(UnsafeRawBufferPointer(start: value, count: Int(length)))
    } else {
        bytes = []
    }
    box.continuation.resume(returning: ZnodeData(data: bytes, stat: ZnodeStat(stat.pointee)))
}

let setCompletion: stat_completion_t = { rc, stat, data in
    guard let box = CompletionBox<ZnodeStat>.take(data) else { return }
    guard rc == ZOK.rawValue, let stat else { return box.fail(rc) }
    box.continuation.resume(returning: ZnodeStat(stat.pointee))
}

/// For `exists`: a missing znode is an answer (nil), not an error.
let existsCompletion: stat_completion_t = { rc, stat, data in
    guard let box = CompletionBox<ZnodeStat?>.take(data) else { return }
    if rc == ZNONODE.rawValue { return box.continuation.resume(returning: nil) }
    guard rc == ZOK.rawValue, let stat else { return box.fail(rc) }
    box.continuation.resume(returning: ZnodeStat(stat.pointee))
}

let childrenCompletion: strings_stat_completion_t = { rc, strings, stat, data in
    guard let box = CompletionBox<([String], ZnodeStat)>.take(data) else { return }
    guard rc == ZOK.rawValue, let stat else { return box.fail(rc) }
    var names: [String] = []
    if let vector = strings?.pointee, let items = vector.data, vector.count > 0 {
        names.reserveCapacity(Int(vector.count))
        for index in 0..<Int(vector.count) {
            if let name = items[index] { names.append(String(cString: name)) }
        }
    }
    box.continuation.resume(returning: (names, ZnodeStat(stat.pointee)))
}

let syncCompletion: string_completion_t = { rc, _, data in
    guard let box = CompletionBox<Void>.take(data) else { return }
    guard rc == ZOK.rawValue else { return box.fail(rc) }
    box.continuation.resume(returning: ())
}

/// For `delete` and `multi`: no value, only whether it worked.
let voidCompletion: void_completion_t = { rc, data in
    guard let box = CompletionBox<Void>.take(data) else { return }
    guard rc == ZOK.rawValue else { return box.fail(rc) }
    box.continuation.resume(returning: ())
}

/// Where the C client's own log lines go (through `zookeeper_init2`), instead of straight to stderr.
let cClientLogger = Logger(label: "chainkv.zookeeper.c")

let cClientLog: log_callback_fn = { message in
    guard let message else { return }
    let line = String(cString: message)
    // Lines look like "<time>:<pid>(<thread>):ZOO_ERROR@<function>@<line>: <text>"; keep from the level on.
    let text = line.firstRange(of: "ZOO_").map { String(line[$0.lowerBound...]) } ?? line
    if text.hasPrefix("ZOO_ERROR") {
        cClientLogger.error("\(text)")
    } else if text.hasPrefix("ZOO_WARN") {
        cClientLogger.warning("\(text)")
    } else if text.hasPrefix("ZOO_INFO") {
        cClientLogger.info("\(text)")
    } else {
        cClientLogger.debug("\(text)")
    }
}
