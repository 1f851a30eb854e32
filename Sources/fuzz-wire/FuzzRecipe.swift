import ChainCore
import ChainWire

/// Builds a message that respects every documented limit from fuzz bytes (zeros once they run out).
struct Recipe {
    var bytes: ArraySlice<UInt8>
    init(_ input: [UInt8]) { bytes = input[...] }

    mutating func u8() -> UInt8 { bytes.popFirst() ?? 0 }
    mutating func u16() -> UInt16 { UInt16(u8()) << 8 | UInt16(u8()) }
    mutating func u64() -> UInt64 { (0..<8).reduce(0) { acc, _ in acc << 8 | UInt64(u8()) } }
    mutating func bool() -> Bool { u8() & 1 == 1 }
    mutating func take(_ n: Int) -> [UInt8] {
        let n = min(n, bytes.count)
        defer { bytes.removeFirst(n) }
        return Array(bytes.prefix(n))
    }

    /// A string of `minBytes...maxBytes` UTF-8 bytes (bad UTF-8 is repaired, which makes
    /// multi-byte characters common; then it is cut back at a scalar boundary).
    mutating func string(_ minBytes: Int, _ maxBytes: Int, noNUL: Bool = false) -> String {
        var raw = take(Int(u16()) % (maxBytes + 1))
        if noNUL { raw = raw.map { $0 == 0 ? 1 : $0 } }
        var s = String(decoding: raw, as: UTF8.self)
        if s.utf8.count > maxBytes {
            var scalars = String.UnicodeScalarView()
            var n = 0
            for scalar in s.unicodeScalars {
                n += UTF8.width(scalar)
                if n > maxBytes { break }
                scalars.append(scalar)
            }
            s = String(scalars)
        }
        while s.utf8.count < minBytes { s += "k" }
        return s
    }

    mutating func key() -> String { string(1, WireLimits.keySizeMax, noNUL: true) }
    mutating func value() -> [UInt8] { take(Int(u16())) }
    mutating func optionalValue() -> [UInt8]? { bool() ? value() : nil }
    mutating func request() -> RequestID? { bool() ? RequestID(client: u64(), seq: u64()) : nil }
    mutating func address() -> NodeAddress {
        NodeAddress(id: string(1, WireLimits.nodeIDSizeMax), host: string(1, WireLimits.hostSizeMax),
                    port: Int(max(u16(), 1)))
    }

    mutating func message(nested: Bool = false) -> Message {
        var kind = Message.Kind.allCases[Int(u8()) % Message.Kind.allCases.count]
        if nested && kind == .onChain { kind = .status }  // never nested
        if nested && (kind == .relay || kind == .relayed) { kind = .get }  // a relay carries a keyed request alone
        return message(of: kind)
    }

    mutating func message(of kind: Message.Kind) -> Message {
        switch kind {
        case .get: return .get(key: key())
        case .put: return .put(key: key(), value: value(), request: request())
        case .delete: return .delete(key: key(), request: request())
        case .getHead: return .getHead
        case .status: return .status
        case .statusReply:
            // The role is a short word; the encoder writes it with a u8 length (cut at 255 bytes).
            return .statusReply(NodeStatus(id: string(1, WireLimits.nodeIDSizeMax), epoch: u64(), role: string(0, 255),
                                           received: u64(), durable: u64(), stable: u64(), uptimeMs: u64(),
                                           isLeader: bool(), inflight: UInt32(truncatingIfNeeded: u64())))
        case .die: return .die(clean: bool())
        case .value: return .value(optionalValue())
        case .putResult: return .putResult(old: optionalValue())
        case .deleteResult: return .deleteResult(existed: bool())
        case .chain:
            let epoch = u64()
            let count = Int(u8()) % (WireLimits.membersMax + 1)
            var members: [NodeAddress] = []
            for _ in 0..<count where !bytes.isEmpty { members.append(address()) }
            return .chain(ChainInfo(epoch: epoch, members: members))
        case .dieAck: return .dieAck
        case .error:
            // Any text: the encoder promises to cut it to errorMessageSizeMax bytes.
            let code = ErrorCode.allCases[Int(u8()) % ErrorCode.allCases.count]
            return .error(code, string(0, 4 * WireLimits.errorMessageSizeMax))
        case .hello: return .hello(node: string(1, WireLimits.nodeIDSizeMax), epoch: u64())
        case .forward:
            let epoch = u64(), seq = u64(), key = key(), value = optionalValue(), request = request()
            // Only an update that sets no value may carry a failed condition's version.
            // A version is a sequence number: at most Int64.max (Update's precondition).
            let failed: UInt64? = value == nil && bool() ? u64() >> 1 : nil
            // A slot move's mark (MoveMark): a copy or purge of the key, or a barrier (no key).
            switch failed == nil ? u8() % 8 : 0 {
            case 1: return .forward(epoch: epoch, Update(seq: seq, key: key, value: value, request: request, move: .copy))
            case 2: return .forward(epoch: epoch, Update(seq: seq, key: key, value: value, request: request, move: .purge))
            case 3:
                let barrier = MoveBarrier(slots: slotRanges(), from: chainID(), after: u64())
                return .forward(epoch: epoch, Update(seq: seq, key: "", value: nil, move: .barrier(barrier)))
            default:
                return .forward(epoch: epoch, Update(seq: seq, key: key, value: value, request: request, conditionFailed: failed))
            }
        case .ack: return .ack(epoch: u64(), seq: u64())
        case .setSuccessor:
            let epoch = u64()
            return .setSuccessor(epoch: epoch, successor: bool() ? address() : nil)
        case .setTail: return .setTail(epoch: u64())
        case .removeTail: return .removeTail(epoch: u64())
        case .startTransfer:
            let epoch = u64()
            let leader = string(1, WireLimits.nodeIDSizeMax)
            return .startTransfer(epoch: epoch, leader: leader, to: address())
        case .dataTransfer:
            let epoch = u64(), from = string(1, WireLimits.nodeIDSizeMax), lastSeq = u64(), done = bool()
            let count = Int(u16()) % (WireLimits.transferChunkRowsMax + 1)
            var rows: [Row] = []
            // Versions for every row or for none, each in 1...lastSeq (what the decoder accepts).
            let versioned = lastSeq > 0 && bool()
            for _ in 0..<count where !bytes.isEmpty {
                rows.append(Row(key: key(), value: value(), version: versioned ? 1 + u64() % lastSeq : nil))
            }
            return .dataTransfer(epoch: epoch, from: from, lastSeq: lastSeq, rows: rows, done: done)
        case .ping: return .ping(u64())
        case .pong: return .pong(u64())
        case .outcomeTransfer:
            let epoch = u64(), from = string(1, WireLimits.nodeIDSizeMax), lastSeq = u64()
            let count = Int(u16()) % (WireLimits.transferChunkRowsMax + 1)
            var outcomes: [WriteOutcome] = []
            for _ in 0..<count where !bytes.isEmpty {
                let kind = WriteOutcome.Kind.allCases[Int(u8()) % WriteOutcome.Kind.allCases.count]
                let seq = u64(), request = RequestID(client: u64(), seq: u64())
                let old: [UInt8]? = kind == .putOldValue ? value() : kind == .conditionFailed ? (0..<8).map { _ in u8() } : nil
                outcomes.append(WriteOutcome(seq: seq, request: request, kind: kind, old: old)!)
            }
            return .outcomeTransfer(epoch: epoch, from: from, lastSeq: lastSeq, outcomes: outcomes)
        case .authChallenge: return .authChallenge(nonce: authField())
        case .authResponse: return .authResponse(proof: authField(), nonce: authField())
        case .authOK: return .authOK(proof: authField())
        case .getSlots: return .getSlots
        case .moved: return .moved(slot: u16() % UInt16(SlotMap.slotCount), mapVersion: u64())
        case .slots:
            let version = u64()
            var chains: [ShardMap.Shard] = []
            for _ in 0..<(Int(u8()) % 8) where !bytes.isEmpty {
                let id = chainID()
                var slots: [ClosedRange<Int>] = []
                for _ in 0..<(Int(u8()) % 8) {
                    let a = Int(u16()) % SlotMap.slotCount, b = Int(u16()) % SlotMap.slotCount
                    slots.append(min(a, b)...max(a, b))
                }
                var members: [NodeAddress] = []
                for _ in 0..<(Int(u8()) % 4) where !bytes.isEmpty { members.append(address()) }
                chains.append(.init(id: id, slots: slots, chain: ChainInfo(epoch: u64(), members: members)))
            }
            return .slots(ShardMap(version: version, chains: chains))
        case .onChain: return .onChain(chain: chainID(), message(nested: true))
        case .purgeSlots: return .purgeSlots(slots: slotRanges(), mapVersion: u64())
        case .moveSlots: return .moveSlots(slots: slotRanges(), to: chainID(), target: address(), mapVersion: u64())
        case .decommission: return .decommission(server: string(1, WireLimits.nodeIDSizeMax), cancel: bool())
        case .moveIn: return .moveIn(slots: slotRanges(), from: chainID(), after: u64(), mapVersion: u64())
        case .getVersioned: return .getVersioned(key: key())
        case .putVersioned: return .putVersioned(key: key(), value: value(), request: request(), ifVersion: bool() ? u64() : nil)
        case .deleteVersioned: return .deleteVersioned(key: key(), request: request(), ifVersion: bool() ? u64() : nil)
        case .versionedValue: return .versionedValue(bool() ? VersionedValue(value(), version: max(u64(), 1)) : nil)
        case .putVersionedResult: return .putVersionedResult(old: optionalValue(), version: max(u64(), 1))
        case .deleteVersionedResult: return .deleteVersionedResult(existed: bool(), version: max(u64(), 1))
        case .conditionFailed: return .conditionFailed(current: u64())
        case .scan:
            return .scan(chain: chainID(), mapVersion: u64(), range: range(),
                         limit: UInt32(1 + Int(u16()) % WireLimits.scanRowsMax))
        case .scanPage:
            let rows = (0..<(Int(u8()) % 8)).map { _ in RangeRow(key: key(), value: VersionedValue(value(), version: max(u64(), 1))) }
            return .scanPage(rows: rows, next: bool() ? range() : nil)
        case .watch:
            return .watch(chain: chainID(), range: range(), after: bool() ? u64() : nil,
                          limit: UInt32(1 + Int(u16()) % WireLimits.scanRowsMax), waitMs: UInt32(u16()) % (WireLimits.watchWaitMsMax + 1))
        case .changes:
            let events = (0..<(Int(u8()) % 8)).map { _ in Change(key: key(), value: optionalValue(), version: max(u64(), 1)) }
            return .changes(events: events, through: u64())
        case .compacted: return .compacted(oldest: u64())
        case .relay, .relayed:
            // Only a keyed client request is relayed: one of those, drawn like any message.
            let relayable = Message.Kind.allCases.filter(\.isRelayable)
            let (chain, inner) = (chainID(), message(of: relayable[Int(u8()) % relayable.count]))
            return kind == .relay ? .relay(chain: chain, inner) : .relayed(chain: chain, inner)
        }
    }

    /// A valid slot set as `SlotMove.ranges` encodes it (ascending, apart, at most slotsMax slots).
    mutating func slotRanges() -> [ClosedRange<Int>] {
        var slots: [Int] = []
        var slot = Int(u16()) % 64
        for _ in 0..<(1 + Int(u8()) % 16) where slot < SlotMap.slotCount && slots.count < SlotMove.slotsMax {
            slots.append(slot)
            slot += 1 + Int(u8()) % 300
        }
        return SlotMove(slots: slots, from: "a", to: "b")!.ranges
    }

    mutating func chainID() -> String { string(1, WireLimits.chainIDSizeMax) }

    /// Bounds of any bytes (they need not be UTF-8) up to `rangeBoundSizeMax`.
    mutating func range() -> KeyRange {
        let lower = take(Int(u16()) % (WireLimits.rangeBoundSizeMax + 1))
        return KeyRange(lower: lower, upper: bool() ? take(Int(u16()) % (WireLimits.rangeBoundSizeMax + 1)) : nil)
    }

    /// Exactly `authFieldSize` bytes (zeros once the input runs out), as every sender passes.
    mutating func authField() -> [UInt8] {
        let got = take(WireLimits.authFieldSize)
        return got + [UInt8](repeating: 0, count: WireLimits.authFieldSize - got.count)
    }
}

// MARK: - Bounds

/// Bytes a message's content takes on the wire at the least (strings, values, and the length
/// prefixes and port of each list element): a decoder that returns more than its body carried
/// made them up.
func payloadBytes(_ message: Message) -> Int {
    func address(_ a: NodeAddress) -> Int { 1 + a.id.utf8.count + 1 + a.host.utf8.count + 2 }
    switch message {
    case .get(let key), .delete(let key, _): return key.utf8.count
    case .put(let key, let value, _): return key.utf8.count + value.count
    case .value(let v), .putResult(let v): return v?.count ?? 0
    case .chain(let info): return info.members.reduce(0) { $0 + address($1) }
    case .error(_, let text): return text.utf8.count
    case .hello(let node, _): return node.utf8.count
    case .forward(_, let u): return u.key.utf8.count + (u.value?.count ?? 0) + (u.barrier.map { $0.from.utf8.count + $0.slots.count * 4 } ?? 0)
    case .setSuccessor(_, let successor): return successor.map(address) ?? 0
    case .startTransfer(_, let leader, let to): return leader.utf8.count + address(to)
    case .dataTransfer(_, let from, _, let rows, _): return from.utf8.count + rows.reduce(0) { $0 + 2 + $1.key.utf8.count + 4 + $1.value.count }
    case .statusReply(let status): return status.id.utf8.count + status.role.utf8.count
    case .outcomeTransfer(_, let from, _, let outcomes): return from.utf8.count + outcomes.reduce(0) { $0 + 26 + ($1.old?.count ?? 0) }
    case .authChallenge(let nonce): return nonce.count
    case .authResponse(let proof, let nonce): return proof.count + nonce.count
    case .authOK(let proof): return proof.count
    case .slots(let map): return map.chains.reduce(0) { $0 + $1.id.utf8.count + $1.chain.members.reduce(0) { $0 + address($1) } }
    case .onChain(let chain, let inner): return chain.utf8.count + payloadBytes(inner)
    case .relay(let chain, let inner), .relayed(let chain, let inner): return chain.utf8.count + payloadBytes(inner)
    case .purgeSlots(let slots, _): return slots.count * 4
    case .moveSlots(let slots, let to, let target, _): return slots.count * 4 + to.utf8.count + address(target)
    case .decommission(let server, _): return server.utf8.count
    case .moveIn(let slots, let from, _, _): return slots.count * 4 + from.utf8.count
    case .getVersioned(let key), .deleteVersioned(let key, _, _): return key.utf8.count
    case .putVersioned(let key, let value, _, _): return key.utf8.count + value.count
    case .versionedValue(let v): return v?.value.count ?? 0
    case .putVersionedResult(let old, _): return old?.count ?? 0
    case .deleteVersionedResult, .conditionFailed: return 0
    case .scan(let chain, _, let range, _): return chain.utf8.count + range.lower.count + (range.upper?.count ?? 0)
    case .watch(let chain, let range, _, _, _): return chain.utf8.count + range.lower.count + (range.upper?.count ?? 0)
    case .changes(let events, _): return events.reduce(0) { $0 + $1.key.utf8.count + ($1.value?.count ?? 0) }
    case .compacted: return 0
    case .scanPage(let rows, let next):
        return rows.reduce(0) { $0 + $1.key.utf8.count + $1.value.value.count } + (next.map { $0.lower.count + ($0.upper?.count ?? 0) } ?? 0)
    case .getHead, .status, .die, .deleteResult, .dieAck, .ack, .setTail, .removeTail, .ping, .pong, .getSlots, .moved: return 0
    }
}
