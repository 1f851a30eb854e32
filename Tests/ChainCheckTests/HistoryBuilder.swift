@testable import ChainCheck

/// XCTest imports Foundation, whose `Operation` (NSOperation) would make the name ambiguous; a
/// declaration in this module wins over both imports.
typealias Operation = ChainCheck.Operation

/// Writes test histories tersely: values are strings, ids are given in order of creation.
final class HistoryBuilder {
    private(set) var operations: [Operation] = []
    let defaultKey: String

    init(key: String = "k") {
        defaultKey = key
    }

    @discardableResult
    func get(_ client: Int, _ value: String?, _ invoke: UInt64, _ complete: UInt64?, key: String? = nil) -> Int {
        add(client, key, .get(value: value.map(bytes)), invoke, complete)
    }

    @discardableResult
    func put(_ client: Int, _ value: String, old: String?, _ invoke: UInt64, _ complete: UInt64?, key: String? = nil) -> Int {
        add(client, key, .put(value: bytes(value), old: old.map(bytes)), invoke, complete)
    }

    @discardableResult
    func delete(_ client: Int, existed: Bool, _ invoke: UInt64, _ complete: UInt64?, key: String? = nil) -> Int {
        add(client, key, .delete(existed: existed), invoke, complete)
    }

    @discardableResult
    func putUnknown(_ client: Int, _ value: String, _ invoke: UInt64, _ complete: UInt64? = nil, key: String? = nil) -> Int {
        add(client, key, .putUnknown(value: bytes(value)), invoke, complete)
    }

    @discardableResult
    func deleteUnknown(_ client: Int, _ invoke: UInt64, _ complete: UInt64? = nil, key: String? = nil) -> Int {
        add(client, key, .deleteUnknown, invoke, complete)
    }

    private func add(_ client: Int, _ key: String?, _ kind: Operation.Kind, _ invoke: UInt64, _ complete: UInt64?) -> Int {
        let id = operations.count + 1
        operations.append(Operation(id: id, client: client, key: key ?? defaultKey, kind: kind, invoke: invoke, complete: complete))
        return id
    }
}

func bytes(_ text: String) -> [UInt8] {
    Array(text.utf8)
}
