/// The versions clients see, and the sequence numbers they stand for in one chain.
///
/// Within a chain a key's version is the sequence number of the write that last set it. In a
/// sharded cluster a key's slot can move to another chain (`SlotMove`), and chains number their
/// writes independently: a moved key could then get a version it had before with another value,
/// and a compare-and-set holding the old version would match (the ABA problem; the fault runner's
/// `--grow` run with compare-and-set found it as reads "of future values"). So, sharded, a public
/// version is the sequence number shifted left 8 bits with the chain's ordinal (chain `c<n>`: n,
/// below `ClusterLeader.chainsMax` = 256) in the low 8 bits. A chain's sequence numbers only grow,
/// so a key never shows the same version twice, wherever its slot goes. The single chain of an
/// unsharded cluster keeps plain sequence numbers. Absent is 0 everywhere.
public struct PublicVersions: Equatable, Sendable {
    /// The chain's ordinal; nil for the single chain (versions are sequence numbers).
    public let ordinal: UInt64?

    /// `chain`: the chain's id in a sharded cluster (`ClusterLeader.chainID`), nil for the single chain.
    public init(chain: String?) {
        guard let chain else {
            ordinal = nil
            return
        }
        let number = chain.first == "c" ? UInt64(chain.dropFirst()) : nil
        precondition(number.map { $0 < Self.chainsMax } ?? false, "a sharded chain's id is c0...c255, got \(chain)")
        ordinal = number
    }

    static let chainsMax: UInt64 = 256
    static let ordinalBits: UInt64 = 8

    /// The public version of sequence number `seq` (0: absent).
    public func version(ofSeq seq: UInt64) -> UInt64 {
        guard let ordinal, seq != 0 else { return seq }
        precondition(seq < 1 << (64 - Self.ordinalBits), "sequence numbers stay below 2^56")
        return seq << Self.ordinalBits | ordinal
    }

    /// The sequence number a client's version stands for in this chain (0: absent); nil when it
    /// is another chain's version, which no key here has now.
    public func seq(ofVersion version: UInt64) -> UInt64? {
        guard let ordinal, version != 0 else { return version }
        return version & (Self.chainsMax - 1) == ordinal ? version >> Self.ordinalBits : nil
    }

    /// `value` with its version made public.
    public func published(_ value: VersionedValue?) -> VersionedValue? {
        value.map { VersionedValue($0.value, version: version(ofSeq: $0.version)) }
    }
}
