import ChainCore
import ChainWire

/// The one mapping of the core's replies to the wire: each `ChainError` becomes an `ErrorCode`
/// and a text that says what to do. Metrics label replies from the message this returns
/// (`ServerMetrics.status`), and clients classify the code (`ErrorCode.isTransient`).
enum ReplyMessage {
    /// - Parameter versioned: the request was one of the versioned kinds (`getVersioned`,
    ///   `putVersioned`, `deleteVersioned`), whose replies carry versions; the others keep theirs.
    /// - Parameter versions: how the chain's sequence numbers are shown to clients (`PublicVersions`).
    static func message(for reply: Reply, addresses: AddressBook, versioned: Bool = false,
                        versions: PublicVersions = PublicVersions(chain: nil)) -> Message {
        switch reply {
        case .value(let v): return versioned ? .versionedValue(versions.published(v)) : .value(v?.value)
        case .put(let old, let seq):
            return versioned ? .putVersionedResult(old: old, version: versions.version(ofSeq: seq)) : .putResult(old: old)
        case .delete(let existed, let seq):
            return versioned ? .deleteVersionedResult(existed: existed, version: versions.version(ofSeq: seq)) : .deleteResult(existed: existed)
        // Only a versioned request can carry a condition.
        case .conditionFailed(let current): return .conditionFailed(current: versions.version(ofSeq: current))
        case .error(.notHead(nil)): return .error(.unavailable, "no chain is configured yet")
        case .error(.notHead(let head?)):
            return .error(.notHead, "not the head; the head is \(head) at \(addresses[head]?.hostPort ?? head)")
        case .error(.chainChanged): return .error(.chainChanged, "the chain changed while the write was in flight; retry")
        case .error(.overloaded): return .error(.overloaded, "too many writes in flight (inflightMax \(CoreLimits.inflightMax)); retry")
        case .error(.oldValueNotKept):
            return .error(.oldValueNotKept, "this put was applied earlier and is not applied again; its old value (over "
                          + "\(CoreLimits.outcomeValueKeptMax) bytes) is no longer kept (the write left this server's "
                          + "in-memory history, or the server restarted since)")
        case .error(.noLease): return .error(.unavailable, "the head's ZooKeeper lease lapsed; it serves reads again once renewed")
        // Overloaded: the client backs off and retries on the same connection (the head role
        // moves within a few heartbeats; then this server answers "not the head").
        case .error(.handingOff(let to)): return .error(.overloaded, "the chain is being put back in its placed order (head: \(to)); retry")
        }
    }
}
