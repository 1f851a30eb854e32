import ChainCore
import NIOCore

/// The messages of a sharded cluster: `getSlots`, `slots`, `moved`, `onChain`, and the chains of
/// a status reply. Chain ids are short names (at most `WireLimits.chainIDSizeMax` bytes).
extension MessageCodec {
    static func encodeShardBody(_ message: Message, into b: inout ByteBuffer) {
        switch message {
        case .getSlots:
            break
        case .slots(let map):
            b.writeInteger(map.version)
            b.writeInteger(UInt16(truncatingIfNeeded: map.chains.count))
            for shard in map.chains {
                writeShort(shard.id, &b)
                b.writeInteger(UInt16(truncatingIfNeeded: shard.slots.count))
                for range in shard.slots {
                    b.writeInteger(UInt16(truncatingIfNeeded: range.lowerBound))
                    b.writeInteger(UInt16(truncatingIfNeeded: range.upperBound))
                }
                b.writeInteger(shard.chain.epoch)
                b.writeInteger(UInt16(truncatingIfNeeded: shard.chain.members.count))
                for m in shard.chain.members { writeAddress(m, &b) }
            }
        case .moved(let slot, let mapVersion):
            b.writeInteger(slot)
            b.writeInteger(mapVersion)
        case .onChain(let chain, let inner):
            precondition(inner.kind != .onChain, "onChain is never nested")
            writeShort(chain, &b)
            b.writeInteger(inner.kind.rawValue)
            encodeBody(inner, into: &b)
        default:
            preconditionFailure("\(message.kind) is not a shard message")
        }
    }

    static func decodeShardBody(_ kind: Message.Kind, _ body: inout ByteBuffer) throws(WireError) -> Message {
        switch kind {
        case .getSlots:
            return .getSlots
        case .slots:
            let version = try readU64(&body, "map version")
            let count = Int(try readU16(&body, "chain count"))
            guard count <= WireLimits.chainsMax else { throw .invalidField("\(count) chains exceed chainsMax (\(WireLimits.chainsMax))") }
            var chains: [ShardMap.Shard] = []
            for _ in 0..<count {
                let id = try readChainID(&body)
                let rangeCount = Int(try readU16(&body, "range count"))
                guard rangeCount <= SlotMap.slotCount else { throw .invalidField("\(rangeCount) slot ranges") }
                var slots: [ClosedRange<Int>] = []
                for _ in 0..<rangeCount {
                    let from = Int(try readU16(&body, "slot")), to = Int(try readU16(&body, "slot"))
                    guard from <= to, to < SlotMap.slotCount else { throw .invalidField("slot range \(from)...\(to)") }
                    slots.append(from...to)
                }
                let epoch = try readU64(&body, "epoch")
                let members = Int(try readU16(&body, "member count"))
                guard members <= WireLimits.membersMax else { throw .invalidField("\(members) members exceed membersMax") }
                var addresses: [NodeAddress] = []
                for _ in 0..<members { addresses.append(try readAddress(&body)) }
                chains.append(.init(id: id, slots: slots, chain: ChainInfo(epoch: epoch, members: addresses)))
            }
            return .slots(ShardMap(version: version, chains: chains))
        case .moved:
            let slot = try readU16(&body, "slot")
            guard Int(slot) < SlotMap.slotCount else { throw .invalidField("slot \(slot)") }
            return .moved(slot: slot, mapVersion: try readU64(&body, "map version"))
        case .onChain:
            let chain = try readChainID(&body)
            let type = try readU8(&body, "inner type")
            guard type != Message.Kind.onChain.rawValue else { throw .invalidField("nested onChain") }
            // An unknown inner type is a malformed onChain, not an unknown frame type (found by fuzz-wire).
            guard Message.Kind(rawValue: type) != nil else { throw .invalidField("onChain of unknown type \(type)") }
            return .onChain(chain: chain, try decode(type: type, body: &body))
        default:
            preconditionFailure("\(kind) is not a shard message")
        }
    }

    static func writeChainStatuses(_ chains: [ChainStatus], _ b: inout ByteBuffer) {
        b.writeInteger(UInt16(truncatingIfNeeded: chains.count))
        for c in chains {
            writeShort(c.chain, &b)
            b.writeInteger(c.epoch)
            writeShort(c.role, &b)
            b.writeInteger(c.received)
            b.writeInteger(c.durable)
            b.writeInteger(c.stable)
            b.writeInteger(c.inflight)
        }
    }

    static func readChainStatuses(_ b: inout ByteBuffer) throws(WireError) -> [ChainStatus] {
        let count = Int(try readU16(&b, "chain count"))
        guard count <= WireLimits.chainsMax else { throw .invalidField("\(count) chains exceed chainsMax (\(WireLimits.chainsMax))") }
        // Absent, not empty, when there are none: one encoding per status (fuzz-wire re-encodes).
        guard count >= 1 else { throw .invalidField("an empty chain list is sent as none") }
        var chains: [ChainStatus] = []
        for _ in 0..<count {
            let chain = try readChainID(&b)
            let epoch = try readU64(&b, "epoch")
            let role = try readString(&b, Int(try readU8(&b, "role length")), "role")
            chains.append(ChainStatus(chain: chain, epoch: epoch, role: role, received: try readU64(&b, "received"),
                                      durable: try readU64(&b, "durable"), stable: try readU64(&b, "stable"),
                                      inflight: try readU32(&b, "inflight")))
        }
        return chains
    }

    static func readChainID(_ b: inout ByteBuffer) throws(WireError) -> String {
        let n = Int(try readU8(&b, "chain id length"))
        guard n >= 1, n <= WireLimits.chainIDSizeMax else { throw .invalidField("chain id of \(n) bytes") }
        return try readString(&b, n, "chain id")
    }
}
