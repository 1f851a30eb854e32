import FoundationEssentials

/// JSON encoding of znode data. Compact, one line, sorted keys: `zkCli.sh get` prints it as the last line, and
/// the same content always gives the same bytes (so a retried write can be recognized by comparing bytes).
@usableFromInline
enum ZnodeJSON {
    /// Decoding limit. ZooKeeper itself refuses requests above about 1 MiB, so anything larger did not come
    /// from us; refusing it before parsing bounds the work a corrupted or hostile znode can cause.
    static let maxSize = 1 << 20

    static func encode<Value: Encodable>(_ value: Value) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }

    static func decode<Value: Decodable>(_ type: Value.Type, from bytes: [UInt8]) throws -> Value {
        guard bytes.count <= maxSize else {
            throw CoordinationError.dataTooLarge(size: bytes.count, limit: maxSize)
        }
        guard !bytes.isEmpty else {
            throw CoordinationError.malformedData("empty")
        }
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch let error as DecodingError {
            throw CoordinationError.malformedData(describe(error))
        } catch {
            throw CoordinationError.malformedData("\(error)")
        }
    }

    /// "Now" as ISO-8601 with milliseconds: a restarted server gets a different `startedAt` even within a second.
    /// (`@usableFromInline`: it is the default argument of public initializers.)
    @usableFromInline
    static func timestamp(_ date: Date = Date()) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return keys.isEmpty ? "top level" : keys.joined(separator: ".")
        }
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "\(path(context)): \(context.debugDescription)"
        case .keyNotFound(let key, let context):
            return "\(path(context)): missing key \(String(reflecting: key.stringValue))"
        @unknown default:
            return "\(error)"
        }
    }
}
