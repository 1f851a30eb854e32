import ChainCore
import NIOCore

/// Range reads: the scan request (a chain, a map version, a key range, a limit) and its page.
extension MessageCodec {
    static func encodeRangeBody(_ message: Message, into b: inout ByteBuffer) {
        switch message {
        case .scan(let chain, let mapVersion, let range, let limit):
            writeShort(chain, &b)
            b.writeInteger(mapVersion)
            writeRange(range, &b)
            b.writeInteger(limit)
        case .scanPage(let rows, let next):
            b.writeInteger(UInt32(rows.count))
            for row in rows {
                writeKey(row.key, &b)
                writeValue(row.value.value, &b)
                b.writeInteger(row.value.version)
            }
            writeBool(next != nil, &b)
            if let next { writeRange(next, &b) }
        default:
            preconditionFailure("\(message.kind) is not a range message")
        }
    }

    static func decodeRangeBody(_ kind: Message.Kind, _ body: inout ByteBuffer) throws(WireError) -> Message {
        switch kind {
        case .scan:
            let chain = try readChainID(&body)
            let mapVersion = try readU64(&body, "map version")
            let range = try readRange(&body)
            let limit = try readU32(&body, "scan limit")
            guard limit >= 1, limit <= WireLimits.scanRowsMax else {
                throw .invalidField("scan limit \(limit) outside 1...\(WireLimits.scanRowsMax)")
            }
            return .scan(chain: chain, mapVersion: mapVersion, range: range, limit: limit)
        case .scanPage:
            let count = Int(try readU32(&body, "scan row count"))
            guard count <= WireLimits.scanRowsMax else {
                throw .invalidField("\(count) scan rows exceed scanRowsMax (\(WireLimits.scanRowsMax))")
            }
            var rows: [RangeRow] = []
            rows.reserveCapacity(min(count, body.readableBytes / 15))  // a row takes at least 15 bytes: never reserve for rows not sent
            for _ in 0..<count {
                let key = try readKey(&body)
                let value = try readValue(&body)
                rows.append(RangeRow(key: key, value: VersionedValue(value, version: try readVersion(&body, "row version"))))
            }
            let next = try readBool(&body, "next present") ? try readRange(&body) : nil
            return .scanPage(rows: rows, next: next)
        default:
            preconditionFailure("\(kind) is not a range message")
        }
    }

    /// `lower` then an optional `upper`, each a u16 length and bytes (not necessarily UTF-8).
    static func writeRange(_ range: KeyRange, _ b: inout ByteBuffer) {
        writeBound(range.lower, &b)
        writeBool(range.upper != nil, &b)
        if let upper = range.upper { writeBound(upper, &b) }
    }

    static func readRange(_ b: inout ByteBuffer) throws(WireError) -> KeyRange {
        let lower = try readBound(&b, "range lower bound")
        let upper = try readBool(&b, "range upper bound present") ? try readBound(&b, "range upper bound") : nil
        return KeyRange(lower: lower, upper: upper)
    }

    static func writeBound(_ bytes: [UInt8], _ b: inout ByteBuffer) {
        b.writeInteger(UInt16(truncatingIfNeeded: bytes.count))
        b.writeBytes(bytes)
    }

    static func readBound(_ b: inout ByteBuffer, _ what: String) throws(WireError) -> [UInt8] {
        let n = Int(try readU16(&b, "\(what) length"))
        guard n <= WireLimits.rangeBoundSizeMax else { throw .invalidField("\(what) of \(n) bytes (at most \(WireLimits.rangeBoundSizeMax))") }
        guard n <= b.readableBytes, let bytes = b.readBytes(length: n) else { throw .truncated(what) }
        return bytes
    }
}
