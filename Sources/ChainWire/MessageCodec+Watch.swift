import ChainCore
import NIOCore

/// Watches: the request (a chain, a key range, where to resume, a limit, how long to wait) and
/// its two answers (a `changes` answer's slot move barriers: MessageCodec+MoveMarks).
extension MessageCodec {
    static func encodeWatchBody(_ message: Message, into b: inout ByteBuffer) {
        switch message {
        case .watch(let chain, let range, let after, let limit, let waitMs):
            writeShort(chain, &b)
            writeRange(range, &b)
            writeOptionalVersion(after, &b)
            b.writeInteger(limit)
            b.writeInteger(waitMs)
        case .changes(let events, let through):
            writeChanges(events, through: through, &b)
        case .compacted(let oldest):
            b.writeInteger(oldest)
        default:
            preconditionFailure("\(message.kind) is not a watch message")
        }
    }

    static func decodeWatchBody(_ kind: Message.Kind, _ body: inout ByteBuffer) throws(WireError) -> Message {
        switch kind {
        case .watch:
            let chain = try readChainID(&body)
            let range = try readRange(&body)
            let after = try readOptionalVersion(&body)
            let limit = try readU32(&body, "watch limit")
            guard limit >= 1, limit <= WireLimits.scanRowsMax else {
                throw .invalidField("watch limit \(limit) outside 1...\(WireLimits.scanRowsMax)")
            }
            let waitMs = try readU32(&body, "watch wait")
            guard waitMs <= WireLimits.watchWaitMsMax else {
                throw .invalidField("watch wait \(waitMs) ms over \(WireLimits.watchWaitMsMax)")
            }
            return .watch(chain: chain, range: range, after: after, limit: limit, waitMs: waitMs)
        case .changes:
            let count = Int(try readU32(&body, "change count"))
            guard count <= WireLimits.scanRowsMax else {
                throw .invalidField("\(count) changes exceed scanRowsMax (\(WireLimits.scanRowsMax))")
            }
            var events: [Change] = []
            events.reserveCapacity(min(count, body.readableBytes / 12))  // a change takes at least 12 bytes: never reserve for changes not sent
            for _ in 0..<count {
                let key = try readKey(&body)
                let value = try readOptionalValue(&body)
                events.append(Change(key: key, value: value, version: try readVersion(&body, "change version")))
            }
            let through = try readU64(&body, "changes through")
            try readBarriers(into: &events, through: through, &body)
            return .changes(events: events, through: through)
        case .compacted:
            return .compacted(oldest: try readU64(&body, "oldest version"))
        default:
            preconditionFailure("\(kind) is not a watch message")
        }
    }
}
