import ChainCore
import NIOCore

/// Binary layout of each message body. Integers are big-endian; strings are UTF-8 with a length
/// prefix (u8 for ids and hosts, u16 for keys and error text); values have a u32 length prefix.
/// Optional fields start with a presence byte (0 or 1).
public enum MessageCodec {
    // MARK: Encoding

    public static func encode(_ frame: Frame, into buffer: inout ByteBuffer) {
        let start = buffer.writerIndex
        buffer.writeInteger(UInt32(0))  // length, patched below once the body is written
        buffer.writeInteger(WireLimits.version)
        buffer.writeInteger(frame.message.kind.rawValue)
        buffer.writeInteger(frame.requestID)
        encodeBody(frame.message, into: &buffer)
        let length = buffer.writerIndex - start - 4
        precondition(length <= WireLimits.frameSizeMax, "a sender never builds a frame its peer must refuse")
        buffer.setInteger(UInt32(length), at: start)
    }

    public static func encode(_ frame: Frame, allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 64)
        encode(frame, into: &buffer)
        return buffer
    }

    static func encodeBody(_ message: Message, into b: inout ByteBuffer) {
        switch message {
        case .get(let key):
            writeKey(key, &b)
        case .delete(let key, let request):
            writeKey(key, &b)
            writeRequest(request, &b)
        case .put(let key, let value, let request):
            writeKey(key, &b)
            writeValue(value, &b)
            writeRequest(request, &b)
        case .getHead, .dieAck, .status:
            break
        case .statusReply(let st):
            writeShort(st.id, &b)
            b.writeInteger(st.epoch)
            writeShort(st.role, &b)
            b.writeInteger(st.received)
            b.writeInteger(st.durable)
            b.writeInteger(st.stable)
            b.writeInteger(st.uptimeMs)
            writeBool(st.isLeader, &b)
            b.writeInteger(st.inflight)
            if !st.chains.isEmpty { writeChainStatuses(st.chains, &b) }
        case .die(let clean):
            writeBool(clean, &b)
        case .value(let value), .putResult(let value):
            writeOptionalValue(value, &b)
        case .deleteResult(let existed):
            writeBool(existed, &b)
        case .chain(let info):
            b.writeInteger(info.epoch)
            b.writeInteger(UInt16(info.members.count))
            for m in info.members { writeAddress(m, &b) }
        case .error(let code, let text):
            b.writeInteger(code.rawValue)
            let bytes = utf8Prefix(text, maxBytes: WireLimits.errorMessageSizeMax)
            b.writeInteger(UInt16(bytes.count))
            b.writeBytes(bytes)
        case .hello(let node, let epoch):
            writeShort(node, &b)
            b.writeInteger(epoch)
        case .forward(let epoch, let update):
            b.writeInteger(epoch)
            // Optional trailing fields: only an update whose condition failed, or a slot move's
            // (MessageCodec+MoveMarks), has one, so every other forward keeps its bytes.
            writeUpdate(update, &b)
        case .ack(let epoch, let seq):
            b.writeInteger(epoch)
            b.writeInteger(seq)
        case .setSuccessor(let epoch, let successor):
            b.writeInteger(epoch)
            writeBool(successor != nil, &b)
            if let successor { writeAddress(successor, &b) }
        case .setTail(let epoch), .removeTail(let epoch):
            b.writeInteger(epoch)
        case .startTransfer(let epoch, let leader, let to):
            b.writeInteger(epoch)
            writeShort(leader, &b)
            writeAddress(to, &b)
        case .dataTransfer(let epoch, let from, let lastSeq, let rows, let done):
            b.writeInteger(epoch)
            writeShort(from, &b)
            b.writeInteger(lastSeq)
            writeBool(done, &b)
            b.writeInteger(UInt32(rows.count))
            for row in rows {
                writeKey(row.key, &b)
                writeValue(row.value, &b)
            }
            writeRowVersions(rows, &b)
        case .ping(let n), .pong(let n):
            b.writeInteger(n)
        case .outcomeTransfer(let epoch, let from, let lastSeq, let outcomes):
            b.writeInteger(epoch)
            writeShort(from, &b)
            b.writeInteger(lastSeq)
            b.writeInteger(UInt32(outcomes.count))
            for o in outcomes {
                b.writeInteger(o.seq)
                b.writeInteger(o.request.client)
                b.writeInteger(o.request.seq)
                b.writeInteger(o.kind.rawValue)
                writeOptionalValue(o.old, &b)
            }
        case .authChallenge(let nonce):
            writeAuthField(nonce, &b)
        case .authResponse(let proof, let nonce):
            writeAuthField(proof, &b)
            writeAuthField(nonce, &b)
        case .authOK(let proof):
            writeAuthField(proof, &b)
        case .purgeSlots, .moveSlots, .decommission, .moveIn:
            encodeMoveBody(message, into: &b)
        case .getSlots, .slots, .moved, .onChain:
            encodeShardBody(message, into: &b)
        case .getVersioned, .putVersioned, .deleteVersioned, .versionedValue, .putVersionedResult, .deleteVersionedResult,
             .conditionFailed:
            encodeVersionsBody(message, into: &b)
        case .scan, .scanPage:
            encodeRangeBody(message, into: &b)
        case .relay(let chain, let inner), .relayed(let chain, let inner):
            encodeRelayBody(chain, inner, into: &b)
        case .watch, .changes, .compacted:
            encodeWatchBody(message, into: &b)
        }
    }

    static func writeBool(_ v: Bool, _ b: inout ByteBuffer) { b.writeInteger(UInt8(v ? 1 : 0)) }
    static func writeKey(_ key: String, _ b: inout ByteBuffer) {
        b.writeInteger(UInt16(truncatingIfNeeded: key.utf8.count))
        b.writeString(key)
    }
    static func writeValue(_ v: [UInt8], _ b: inout ByteBuffer) {
        b.writeInteger(UInt32(v.count))
        b.writeBytes(v)
    }
    static func writeOptionalValue(_ v: [UInt8]?, _ b: inout ByteBuffer) {
        writeBool(v != nil, &b)
        if let v { writeValue(v, &b) }
    }
    /// At most `maxBytes` of `s`'s UTF-8, cut before a character's first byte: a cut inside a
    /// multi-byte character would make the receiver refuse the whole frame (found by fuzz-wire).
    public static func utf8Prefix(_ s: String, maxBytes: Int) -> [UInt8] {
        let all = Array(s.utf8)
        guard all.count > maxBytes else { return all }
        var cut = maxBytes
        while cut > 0 && all[cut] & 0xC0 == 0x80 { cut -= 1 }
        return Array(all[..<cut])
    }

    static func writeRequest(_ r: RequestID?, _ b: inout ByteBuffer) {
        writeBool(r != nil, &b)
        if let r {
            b.writeInteger(r.client)
            b.writeInteger(r.seq)
        }
    }
    /// Exactly `authFieldSize` bytes: shorter input is padded with zeros, longer cut (senders
    /// always pass exactly that many; a wrong size can only fail the receiver's check).
    static func writeAuthField(_ bytes: [UInt8], _ b: inout ByteBuffer) {
        let n = WireLimits.authFieldSize
        b.writeBytes(bytes.prefix(n))
        if bytes.count < n { b.writeRepeatingByte(0, count: n - bytes.count) }
    }
    static func writeShort(_ s: String, _ b: inout ByteBuffer) {
        let bytes = utf8Prefix(s, maxBytes: 255)
        b.writeInteger(UInt8(bytes.count))
        b.writeBytes(bytes)
    }
    static func writeAddress(_ a: NodeAddress, _ b: inout ByteBuffer) {
        writeShort(a.id, &b)
        writeShort(a.host, &b)
        b.writeInteger(UInt16(truncatingIfNeeded: a.port))
    }

    // MARK: Decoding

    /// Decodes one message body of type `type`. Every length is checked against `WireLimits`
    /// before anything is allocated, and the whole body must be consumed.
    public static func decode(type: UInt8, body: inout ByteBuffer) throws(WireError) -> Message {
        guard let kind = Message.Kind(rawValue: type) else { throw .unknownType(type) }
        let message: Message
        switch kind {
        case .get: message = .get(key: try readKey(&body))
        case .delete: message = .delete(key: try readKey(&body), request: try readRequest(&body))
        case .put:
            let key = try readKey(&body)
            let value = try readValue(&body)
            message = .put(key: key, value: value, request: try readRequest(&body))
        case .getHead: message = .getHead
        case .status: message = .status
        case .statusReply:
            let id = try readNodeID(&body)
            let epoch = try readU64(&body, "epoch")
            let roleLength = Int(try readU8(&body, "role length"))
            let role = try readString(&body, roleLength, "role")
            let received = try readU64(&body, "received")
            let durable = try readU64(&body, "durable")
            let stable = try readU64(&body, "stable")
            let uptime = try readU64(&body, "uptime")
            let leader = try readBool(&body, "leader")
            let inflight = try readU32(&body, "inflight")
            let chains = body.readableBytes > 0 ? try readChainStatuses(&body) : []
            message = .statusReply(NodeStatus(id: id, epoch: epoch, role: role, received: received, durable: durable,
                                              stable: stable, uptimeMs: uptime, isLeader: leader, inflight: inflight, chains: chains))
        case .dieAck: message = .dieAck
        case .die: message = .die(clean: try readBool(&body, "clean"))
        case .value: message = .value(try readOptionalValue(&body))
        case .putResult: message = .putResult(old: try readOptionalValue(&body))
        case .deleteResult: message = .deleteResult(existed: try readBool(&body, "existed"))
        case .chain:
            let epoch = try readU64(&body, "epoch")
            let count = Int(try readU16(&body, "member count"))
            guard count <= WireLimits.membersMax else { throw .invalidField("\(count) members exceed membersMax (\(WireLimits.membersMax))") }
            var members: [NodeAddress] = []
            members.reserveCapacity(count)
            for _ in 0..<count { members.append(try readAddress(&body)) }
            message = .chain(ChainInfo(epoch: epoch, members: members))
        case .error:
            let raw = try readU16(&body, "error code")
            guard let code = ErrorCode(rawValue: raw) else { throw .invalidField("unknown error code \(raw)") }
            let n = Int(try readU16(&body, "error text length"))
            guard n <= WireLimits.errorMessageSizeMax else { throw .invalidField("error text of \(n) bytes") }
            message = .error(code, try readString(&body, n, "error text"))
        case .hello:
            let node = try readNodeID(&body)
            message = .hello(node: node, epoch: try readU64(&body, "epoch"))
        case .forward:
            let epoch = try readU64(&body, "epoch")
            message = .forward(epoch: epoch, try readUpdate(&body))
        case .ack:
            message = .ack(epoch: try readU64(&body, "epoch"), seq: try readU64(&body, "seq"))
        case .setSuccessor:
            let epoch = try readU64(&body, "epoch")
            let present = try readBool(&body, "successor present")
            message = .setSuccessor(epoch: epoch, successor: present ? try readAddress(&body) : nil)
        case .setTail: message = .setTail(epoch: try readU64(&body, "epoch"))
        case .removeTail: message = .removeTail(epoch: try readU64(&body, "epoch"))
        case .startTransfer:
            let epoch = try readU64(&body, "epoch")
            let leader = try readNodeID(&body)
            message = .startTransfer(epoch: epoch, leader: leader, to: try readAddress(&body))
        case .dataTransfer:
            let epoch = try readU64(&body, "epoch")
            let from = try readNodeID(&body)
            let lastSeq = try readU64(&body, "lastSeq")
            let done = try readBool(&body, "done")
            let count = try readChunkCount(&body, "rows")
            var rows: [Row] = []
            rows.reserveCapacity(min(count, body.readableBytes / 7))  // a row takes at least 7 bytes
            for _ in 0..<count { rows.append(Row(key: try readKey(&body), value: try readValue(&body))) }
            try readRowVersions(&rows, lastSeq: lastSeq, &body)
            message = .dataTransfer(epoch: epoch, from: from, lastSeq: lastSeq, rows: rows, done: done)
        case .ping: message = .ping(try readU64(&body, "ping"))
        case .pong: message = .pong(try readU64(&body, "pong"))
        case .outcomeTransfer:
            let epoch = try readU64(&body, "epoch")
            let from = try readNodeID(&body)
            let lastSeq = try readU64(&body, "lastSeq")
            let count = try readChunkCount(&body, "outcomes")
            var outcomes: [WriteOutcome] = []
            outcomes.reserveCapacity(min(count, body.readableBytes / 26))  // an outcome takes at least 26 bytes
            for _ in 0..<count {
                let seq = try readU64(&body, "outcome seq")
                let request = RequestID(client: try readU64(&body, "outcome client"), seq: try readU64(&body, "outcome request"))
                let kind = try readU8(&body, "outcome kind")
                let old = try readOptionalValue(&body)
                guard let known = WriteOutcome.Kind(rawValue: kind),
                      let outcome = WriteOutcome(seq: seq, request: request, kind: known, old: old) else {
                    throw .invalidField("outcome kind \(kind) with\(old == nil ? "out" : "") an old value")
                }
                outcomes.append(outcome)
            }
            message = .outcomeTransfer(epoch: epoch, from: from, lastSeq: lastSeq, outcomes: outcomes)
        case .authChallenge: message = .authChallenge(nonce: try readAuthField(&body, "nonce"))
        case .authResponse:
            let proof = try readAuthField(&body, "proof")
            message = .authResponse(proof: proof, nonce: try readAuthField(&body, "nonce"))
        case .authOK: message = .authOK(proof: try readAuthField(&body, "proof"))
        case .getSlots, .slots, .moved, .onChain: message = try decodeShardBody(kind, &body)
        case .purgeSlots, .moveSlots, .decommission, .moveIn: message = try decodeMoveBody(kind, &body)
        case .getVersioned, .putVersioned, .deleteVersioned, .versionedValue, .putVersionedResult, .deleteVersionedResult,
             .conditionFailed:
            message = try decodeVersionsBody(kind, &body)
        case .scan, .scanPage: message = try decodeRangeBody(kind, &body)
        case .watch, .changes, .compacted: message = try decodeWatchBody(kind, &body)
        case .relay, .relayed: message = try decodeRelayBody(kind, &body)
        }
        guard body.readableBytes == 0 else { throw .trailingBytes(body.readableBytes) }
        return message
    }

    static func readU8(_ b: inout ByteBuffer, _ what: String) throws(WireError) -> UInt8 {
        guard let v = b.readInteger(as: UInt8.self) else { throw .truncated(what) }
        return v
    }
    static func readU16(_ b: inout ByteBuffer, _ what: String) throws(WireError) -> UInt16 {
        guard let v = b.readInteger(as: UInt16.self) else { throw .truncated(what) }
        return v
    }
    static func readU32(_ b: inout ByteBuffer, _ what: String) throws(WireError) -> UInt32 {
        guard let v = b.readInteger(as: UInt32.self) else { throw .truncated(what) }
        return v
    }
    /// The element count of a state-transfer chunk, bounded before anything is allocated for it.
    static func readChunkCount(_ b: inout ByteBuffer, _ what: String) throws(WireError) -> Int {
        let count = Int(try readU32(&b, "\(what) count"))
        guard count <= WireLimits.transferChunkRowsMax else {
            throw .invalidField("\(count) \(what) exceed transferChunkRowsMax (\(WireLimits.transferChunkRowsMax))")
        }
        return count
    }
    static func readU64(_ b: inout ByteBuffer, _ what: String) throws(WireError) -> UInt64 {
        guard let v = b.readInteger(as: UInt64.self) else { throw .truncated(what) }
        return v
    }
    static func readBool(_ b: inout ByteBuffer, _ what: String) throws(WireError) -> Bool {
        switch try readU8(&b, what) {
        case 0: return false
        case 1: return true
        case let x: throw .invalidField("\(what) must be 0 or 1, got \(x)")
        }
    }
    static func readString(_ b: inout ByteBuffer, _ n: Int, _ what: String) throws(WireError) -> String {
        guard n <= b.readableBytes, let bytes = b.readBytes(length: n) else { throw .truncated(what) }
        guard let s = String(validating: bytes, as: UTF8.self) else { throw .invalidField("\(what) is not UTF-8") }
        return s
    }
    static func readKey(_ b: inout ByteBuffer) throws(WireError) -> String {
        let n = Int(try readU16(&b, "key length"))
        guard n <= WireLimits.keySizeMax else { throw .keyTooLarge(n) }
        guard n <= b.readableBytes else { throw .truncated("key") }
        // Checked and made a `String` straight from the receive buffer: no array in between
        // (one allocation and one copy fewer per key, on every request and forwarded write).
        let decoded: Result<String, WireError> = b.withUnsafeReadableBytes { raw in
            let bytes = UnsafeRawBufferPointer(rebasing: raw.prefix(n))
            guard let key = String(validating: bytes.bindMemory(to: UInt8.self), as: UTF8.self) else {
                return .failure(.invalidKey("not UTF-8"))
            }
            if let error = KeyValidation.check(utf8: bytes) { return .failure(error) }
            return .success(key)
        }
        b.moveReaderIndex(forwardBy: n)
        return try decoded.get()
    }
    static func readValue(_ b: inout ByteBuffer) throws(WireError) -> [UInt8] {
        let n = Int(try readU32(&b, "value length"))
        guard n <= WireLimits.valueSizeMax else { throw .valueTooLarge(n) }
        guard n <= b.readableBytes, let bytes = b.readBytes(length: n) else { throw .truncated("value") }
        return bytes
    }
    static func readOptionalValue(_ b: inout ByteBuffer) throws(WireError) -> [UInt8]? {
        try readBool(&b, "value present") ? try readValue(&b) : nil
    }
    static func readRequest(_ b: inout ByteBuffer) throws(WireError) -> RequestID? {
        guard try readBool(&b, "request id present") else { return nil }
        return RequestID(client: try readU64(&b, "client id"), seq: try readU64(&b, "request seq"))
    }
    static func readAuthField(_ b: inout ByteBuffer, _ what: String) throws(WireError) -> [UInt8] {
        guard let bytes = b.readBytes(length: WireLimits.authFieldSize) else { throw .truncated(what) }
        return bytes
    }
    static func readNodeID(_ b: inout ByteBuffer) throws(WireError) -> String {
        let n = Int(try readU8(&b, "node id length"))
        guard n >= 1, n <= WireLimits.nodeIDSizeMax else { throw .invalidField("node id of \(n) bytes") }
        return try readString(&b, n, "node id")
    }
    static func readAddress(_ b: inout ByteBuffer) throws(WireError) -> NodeAddress {
        let id = try readNodeID(&b)
        let hostLength = Int(try readU8(&b, "host length"))
        guard hostLength >= 1 else { throw .invalidField("empty host") }
        let host = try readString(&b, hostLength, "host")
        let port = Int(try readU16(&b, "port"))
        guard port > 0 else { throw .invalidField("port 0") }
        return NodeAddress(id: id, host: host, port: port)
    }
}
