import ChainCore

/// The outcomes of one commit in one blob: the body of an `outcome_batches` row.
///
/// One row per commit instead of one per write: a row insert, and later its deletion by the
/// window's pruning, cost SQLite about the same whatever the row holds, and with one row per
/// write they were 11 µs of the 80 µs of server CPU per write under 8 × 32 writes (issue 18,
/// cut 29). Each entry, big-endian: seq (8 bytes), client (8), request (8), kind (1), and for a
/// kind that carries an old value its length (4) and bytes. Entries are in seq order.
enum OutcomeBatch {
    /// Bytes of an entry before its old value: seq, client, request, kind.
    static let fixedBytes = 25

    static func append(_ outcome: WriteOutcome, to body: inout [UInt8]) {
        appendBigEndian(outcome.seq, to: &body)
        appendBigEndian(outcome.request.client, to: &body)
        appendBigEndian(outcome.request.seq, to: &body)
        body.append(outcome.kind.rawValue)
        if let old = outcome.old {
            precondition(old.count <= Int(UInt32.max), "an outcome's old value is bounded by the value limit")
            appendBigEndian(UInt32(old.count), to: &body)
            body.append(contentsOf: old)
        }
    }

    /// The entries of `body`, in order. A damaged body (cut short, an unknown kind, an old value
    /// where its kind has none) throws: a row read from disk must not crash the server.
    static func decode(_ body: [UInt8]) throws -> [WriteOutcome] {
        var outcomes: [WriteOutcome] = []
        var at = 0
        while at < body.count {
            guard body.count - at >= fixedBytes else { throw damaged("an entry is cut short") }
            let seq = readBigEndian(UInt64.self, body, at)
            let request = RequestID(client: readBigEndian(UInt64.self, body, at + 8), seq: readBigEndian(UInt64.self, body, at + 16))
            guard let kind = WriteOutcome.Kind(rawValue: body[at + 24]) else { throw damaged("unknown kind \(body[at + 24])") }
            at += fixedBytes
            var old: [UInt8]?
            if kind.carriesOld {
                guard body.count - at >= 4 else { throw damaged("an old value's length is cut short") }
                let count = Int(readBigEndian(UInt32.self, body, at))
                at += 4
                guard body.count - at >= count else { throw damaged("an old value is cut short") }
                old = Array(body[at..<at + count])
                at += count
            }
            guard let outcome = WriteOutcome(seq: seq, request: request, kind: kind, old: old) else {
                throw damaged("an outcome of kind \(kind) with an old value of the wrong size")
            }
            outcomes.append(outcome)
        }
        return outcomes
    }

    private static func damaged(_ what: String) -> StorageError {
        StorageError.misuse("damaged outcome_batches row: \(what)")
    }

    private static func appendBigEndian<T: FixedWidthInteger>(_ value: T, to body: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { body.append(contentsOf: $0) }
    }

    private static func readBigEndian<T: FixedWidthInteger>(_: T.Type, _ body: [UInt8], _ at: Int) -> T {
        var value: T = 0
        for i in 0..<MemoryLayout<T>.size { value = value << 8 | T(body[at + i]) }
        return value
    }
}
