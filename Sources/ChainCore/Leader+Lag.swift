extension Leader {
    /// How far each member of the chain is behind its head, from the latest heartbeat replies:
    /// the head's received sequence number minus the member's durable one (0 when it is not
    /// behind; the head's own entry is how much of what it received is not yet on its disk).
    /// Empty without a chain or a reply from its head. The replies are up to one heartbeat
    /// interval apart, so under load this reads a little high or low.
    public var memberLag: [NodeID: UInt64] {
        guard let chain, let head = chain.head, let top = progress[head] else { return [:] }
        var lag: [NodeID: UInt64] = [:]
        for member in chain.members {
            guard let p = progress[member] else { continue }
            lag[member] = top.received > p.durable ? top.received - p.durable : 0
        }
        return lag
    }
}
