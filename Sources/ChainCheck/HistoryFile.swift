/// The history file: what a fault runner records and the checker replays. JSON lines, one
/// operation per line, every member always written:
///
///     {"id":7,"client":2,"key":"k1","op":"put","value":"7631","old":null,"existed":null,"ok":true,"invoke":1200,"complete":1350}
///
/// - `op`: "get", "put", "delete", or "scan": one key's observation in a scan page, a get with one
///   more member, `page`, the page's number (`Operation.page`), written only on these lines (so
///   histories without scans read and write as before):
///
///     {"id":9,"client":1,"key":"k2","op":"scan","value":null,"old":null,"existed":null,"ok":true,"invoke":1400,"complete":1500,"page":3}
///
/// - `value`: for get, the value read; for put, the value written. `old`: for put, the old value
///   it reported. Values are lower-case hex (values are bytes; hex is the simplest exact text
///   form); null means absent. `existed`: for delete, whether the key existed.
/// - `ok`: true when the client saw the result; null when the outcome is unknown (a timeout, a
///   lost connection, an error after which the write may still apply); false when the store
///   refused the request for sure (it had no effect: such a line is validated, then skipped).
///   Results (`value` of a get, `old`, `existed`) are only allowed when `ok` is true.
/// - `invoke`, `complete`: times on one monotonic clock; `complete` is null if the client never
///   saw an answer, and is required when `ok` is true.
///
/// Decoding accepts any member order, spaces, blank lines, upper-case hex, "\r\n" line ends and
/// members left out when they would be null; it rejects everything else with the line's number.
/// A decoded history round-trips exactly through `encode` for operations in the form `normalized`
/// gives (a get, put or delete with an outcome has a completion time); others come back in that
/// form, which the checker treats the same, and gets of unknown outcome are skipped.
public enum HistoryFile {
    /// Bounds that keep a damaged file from exhausting memory.
    public struct Limits: Equatable, Sendable {
        /// Longest line, in bytes, newline excluded. The default fits a put of two 1 MiB values.
        public var maxLineBytes: Int
        public var maxOperations: Int
        public var maxKeyBytes: Int
        public var maxValueBytes: Int

        public init(maxLineBytes: Int = 4 << 20 + 64 << 10, maxOperations: Int = 50_000_000,
                    maxKeyBytes: Int = 1024, maxValueBytes: Int = 1 << 20) {
            self.maxLineBytes = maxLineBytes
            self.maxOperations = maxOperations
            self.maxKeyBytes = maxKeyBytes
            self.maxValueBytes = maxValueBytes
        }
    }

    /// One operation as one line, without a newline.
    public static func encode(_ op: Operation) -> String {
        var value: [UInt8]?, old: [UInt8]?, existed: Bool?
        let name: String, ok: Bool?
        let known = op.outcomeIsKnown
        switch op.kind {
        case .get(let read):
            name = op.page == nil ? "get" : "scan"
            value = known ? read : nil
        case .put(let written, let reported):
            name = "put"
            value = written
            old = known ? reported : nil
        case .delete(let reported):
            name = "delete"
            existed = known ? reported : nil
        case .putUnknown(let written):
            name = "put"
            value = written
        case .deleteUnknown:
            name = "delete"
        }
        ok = known ? true : nil
        func hex(_ bytes: [UInt8]?) -> String { bytes.map { "\"" + Hex.encode($0) + "\"" } ?? "null" }
        func json(_ flag: Bool?) -> String { flag.map { $0 ? "true" : "false" } ?? "null" }
        return "{\"id\":\(op.id),\"client\":\(op.client),\"key\":\(JSONLine.quote(op.key)),\"op\":\"\(name)\","
            + "\"value\":\(hex(value)),\"old\":\(hex(old)),\"existed\":\(json(existed)),\"ok\":\(json(ok)),"
            + "\"invoke\":\(op.invoke),\"complete\":\(op.complete.map { String($0) } ?? "null")"
            + (op.page.map { ",\"page\":\($0)" } ?? "") + "}"
    }

    /// A whole history, one line per operation, each ending in a newline.
    public static func encode(_ history: [Operation]) -> String {
        var text = ""
        for op in history {
            text += encode(op)
            text += "\n"
        }
        return text
    }

    public static func decode(_ text: String, limits: Limits = Limits()) throws(HistoryFileError) -> [Operation] {
        try decode(Array(text.utf8), limits: limits)
    }

    /// The operations of a history file, in file order. Throws on the first bad line.
    public static func decode(_ bytes: [UInt8], limits: Limits = Limits()) throws(HistoryFileError) -> [Operation] {
        var operations: [Operation] = []
        var ids = Set<Int>()
        var lineStart = 0
        var lineNumber = 0
        while lineStart < bytes.count {
            lineNumber += 1
            var lineEnd = lineStart
            while lineEnd < bytes.count && bytes[lineEnd] != UInt8(ascii: "\n") {
                lineEnd += 1
                // Checked while scanning so an endless line costs no more than the limit.
                if lineEnd - lineStart > limits.maxLineBytes + 1 { break }
            }
            var contentEnd = lineEnd
            if contentEnd > lineStart && bytes[contentEnd - 1] == UInt8(ascii: "\r") { contentEnd -= 1 }
            guard contentEnd - lineStart <= limits.maxLineBytes else {
                throw HistoryFileError(line: lineNumber, reason: "line longer than \(limits.maxLineBytes) bytes")
            }
            let line = bytes[lineStart..<contentEnd]
            lineStart = lineEnd + 1
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            do throws(LineError) {
                guard let record = try decodeLine(line, limits: limits) else { continue }
                guard ids.insert(record.id).inserted else { throw LineError("duplicate id \(record.id)") }
                guard let op = record.operation else { continue }
                guard operations.count < limits.maxOperations else {
                    throw LineError("more than \(limits.maxOperations) operations")
                }
                operations.append(op)
            } catch {
                throw HistoryFileError(line: lineNumber, reason: error.message)
            }
        }
        return operations
    }

    private struct LineError: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }

    /// A valid line: its id (unique in a file, even for lines that are skipped) and the operation
    /// it records, if it records one the checker needs.
    private struct Record {
        let id: Int
        let operation: Operation?
    }

    private static func decodeLine(_ line: ArraySlice<UInt8>, limits: Limits) throws(LineError) -> Record? {
        let members: [(name: String, value: JSONScalar)]
        do {
            members = try JSONLine.parseObject(line)
        } catch {
            throw LineError(error.message)
        }
        let known: Set<String> = ["id", "client", "key", "op", "value", "old", "existed", "ok", "invoke", "complete", "page"]
        if let unknown = members.first(where: { !known.contains($0.name) }) {
            throw LineError("unknown member \"\(unknown.name)\"")
        }
        func member(_ name: String) -> JSONScalar {
            members.first { $0.name == name }?.value ?? .null
        }
        func required(_ name: String) throws(LineError) -> JSONScalar {
            guard let value = members.first(where: { $0.name == name })?.value else {
                throw LineError("missing member \"\(name)\"")
            }
            return value
        }
        func int(_ name: String) throws(LineError) -> Int {
            guard case .integer(let negative, let magnitude) = try required(name) else {
                throw LineError("\"\(name)\" must be an integer")
            }
            if negative {
                guard magnitude <= UInt64(Int.max) + 1 else { throw LineError("\"\(name)\" out of range") }
                return magnitude == UInt64(Int.max) + 1 ? Int.min : -Int(magnitude)
            }
            guard magnitude <= UInt64(Int.max) else { throw LineError("\"\(name)\" out of range") }
            return Int(magnitude)
        }
        func time(_ value: JSONScalar, _ name: String) throws(LineError) -> UInt64 {
            guard case .integer(false, let magnitude) = value else {
                throw LineError("\"\(name)\" must be a non-negative integer")
            }
            return magnitude
        }
        func bytes(_ name: String) throws(LineError) -> [UInt8]? {
            switch member(name) {
            case .null: return nil
            case .string(let text):
                guard text.utf8.count <= 2 * limits.maxValueBytes else {
                    throw LineError("\"\(name)\" longer than \(limits.maxValueBytes) bytes")
                }
                guard let decoded = Hex.decode(text.utf8) else { throw LineError("\"\(name)\" must be a hex string or null") }
                return decoded
            default: throw LineError("\"\(name)\" must be a hex string or null")
            }
        }
        func mustBeNull(_ name: String, _ why: String) throws(LineError) {
            guard member(name) == .null else { throw LineError("\"\(name)\" must be null \(why)") }
        }

        let id = try int("id")
        let client = try int("client")
        guard case .string(let key) = try required("key") else { throw LineError("\"key\" must be a string") }
        guard key.utf8.count <= limits.maxKeyBytes else { throw LineError("\"key\" longer than \(limits.maxKeyBytes) bytes") }
        guard case .string(let name) = try required("op"), ["get", "put", "delete", "scan"].contains(name) else {
            throw LineError("\"op\" must be \"get\", \"put\", \"delete\" or \"scan\"")
        }
        let page: Int? = name == "scan" ? try int("page") : nil
        if name != "scan" { try mustBeNull("page", "unless \"op\" is \"scan\"") }
        let ok: Bool?
        switch try required("ok") {
        case .bool(let flag): ok = flag
        case .null: ok = nil
        default: throw LineError("\"ok\" must be true, false or null")
        }
        let invoke = try time(try required("invoke"), "invoke")
        let complete: UInt64? = member("complete") == .null ? nil : try time(member("complete"), "complete")
        if let complete, complete < invoke { throw LineError("\"complete\" is before \"invoke\"") }
        if ok == true && complete == nil { throw LineError("\"complete\" is required when \"ok\" is true") }

        let noResult = "unless \"ok\" is true"
        let kind: Operation.Kind
        switch name {
        case "get", "scan":
            try mustBeNull("old", "for a \(name)")
            try mustBeNull("existed", "for a \(name)")
            if ok != true { try mustBeNull("value", "for a \(name) " + noResult) }
            kind = .get(value: try bytes("value"))
        case "put":
            try mustBeNull("existed", "for a put")
            guard let value = try bytes("value") else { throw LineError("\"value\" is required for a put") }
            if ok == true {
                kind = .put(value: value, old: try bytes("old"))
            } else {
                try mustBeNull("old", "for a put " + noResult)
                kind = .putUnknown(value: value)
            }
        default:
            try mustBeNull("value", "for a delete")
            try mustBeNull("old", "for a delete")
            if ok == true {
                guard case .bool(let existed) = member("existed") else {
                    throw LineError("\"existed\" must be true or false for a delete whose \"ok\" is true")
                }
                kind = .delete(existed: existed)
            } else {
                try mustBeNull("existed", "for a delete " + noResult)
                kind = .deleteUnknown
            }
        }
        // A refused request had no effect, and a read of unknown outcome observed nothing.
        if ok == false || (ok == nil && (name == "get" || name == "scan")) { return Record(id: id, operation: nil) }
        return Record(id: id, operation: Operation(id: id, client: client, key: key, kind: kind, invoke: invoke, complete: complete,
                                                   page: page))
    }
}

/// A history file line that could not be read: its number (from 1) and why.
public struct HistoryFileError: Error, Equatable, Sendable, CustomStringConvertible {
    public let line: Int
    public let reason: String

    public var description: String { "history file line \(line): \(reason)" }
}
