import ChainCore

/// A server's address as clients and peers dial it.
public struct NodeAddress: Equatable, Sendable, CustomStringConvertible {
    public var id: String
    public var host: String
    public var port: Int

    public init(id: String, host: String, port: Int) {
        self.id = id
        self.host = host
        self.port = port
    }

    public var description: String { "\(id)@\(host):\(port)" }

    /// "host:port" as it appears in chain znodes and status output.
    public var hostPort: String { "\(host):\(port)" }

    /// Reads "host:port", or a bare "host" when `defaultPort` is given: the one parser of server
    /// addresses (client seeds, chain znodes, the CLI). nil for an empty host, a port outside
    /// 1...65535, or a bracketed IPv6 literal (not supported).
    public init?(id: String, parsing s: String, defaultPort: Int? = nil) {
        guard !s.hasPrefix("[") else { return nil }
        if let colon = s.lastIndex(of: ":") {
            guard colon > s.startIndex, let port = Int(s[s.index(after: colon)...]), (1...65535).contains(port) else { return nil }
            self.init(id: id, host: String(s[..<colon]), port: port)
        } else {
            guard !s.isEmpty, let port = defaultPort, (1...65535).contains(port) else { return nil }
            self.init(id: id, host: s, port: port)
        }
    }
}

/// The chain as a server reports it to clients: chain order, head first.
public struct ChainInfo: Equatable, Sendable {
    public var epoch: UInt64
    public var members: [NodeAddress]

    public init(epoch: UInt64, members: [NodeAddress]) {
        self.epoch = epoch
        self.members = members
    }

    public var head: NodeAddress? { members.first }
}

/// What one server reports about itself (`chainkv status`).
public struct NodeStatus: Equatable, Sendable {
    public var id: String
    /// Epoch of the chain view the server acts in (0: none yet).
    public var epoch: UInt64
    /// head, middle, tail, single (head and tail), or outside (not in the chain: joining or dropped).
    public var role: String
    /// Highest sequence number received, on disk, and committed from this server to the tail.
    public var received: UInt64
    public var durable: UInt64
    public var stable: UInt64
    public var uptimeMs: UInt64
    public var isLeader: Bool
    /// Writes held but not yet committed.
    public var inflight: UInt32
    /// In a sharded cluster, where the server stands in each chain it serves (the fields above
    /// then describe the first of them); empty for the single chain, which keeps the reply's
    /// bytes as they were.
    public var chains: [ChainStatus]

    public init(id: String, epoch: UInt64, role: String, received: UInt64, durable: UInt64, stable: UInt64,
                uptimeMs: UInt64, isLeader: Bool, inflight: UInt32, chains: [ChainStatus] = []) {
        self.chains = chains
        self.id = id
        self.epoch = epoch
        self.role = role
        self.received = received
        self.durable = durable
        self.stable = stable
        self.uptimeMs = uptimeMs
        self.isLeader = isLeader
        self.inflight = inflight
    }
}

/// One row of a state transfer.
public struct Row: Equatable, Sendable {
    public var key: String
    public var value: [UInt8]
    /// The row's version (the seq of the write that last set it), so that a joiner's versions
    /// are its chain's; nil from a sender that sent none (the joiner then uses the snapshot's point).
    public var version: UInt64?

    public init(key: String, value: [UInt8], version: UInt64? = nil) {
        self.key = key
        self.value = value
        self.version = version
    }
}

/// Every message of the protocol. Client requests and their replies share a request id chosen by
/// the client; peer messages carry the epoch of the sender's view.
public enum Message: Equatable, Sendable {
    // Client requests.
    case get(key: String)
    case put(key: String, value: [UInt8], request: RequestID?)
    case delete(key: String, request: RequestID?)
    case getHead
    case die(clean: Bool)
    case status
    // Replies.
    case value([UInt8]?)
    case putResult(old: [UInt8]?)
    case deleteResult(existed: Bool)
    case chain(ChainInfo)
    case dieAck
    case error(ErrorCode, String)
    case statusReply(NodeStatus)
    // Peer messages.
    case hello(node: String, epoch: UInt64)
    case forward(epoch: UInt64, Update)
    case ack(epoch: UInt64, seq: UInt64)
    case setSuccessor(epoch: UInt64, successor: NodeAddress?)
    case setTail(epoch: UInt64)
    case removeTail(epoch: UInt64)
    /// From the leader (`leader`: its node id) to the tail of `epoch`: stream a snapshot to `to`.
    case startTransfer(epoch: UInt64, leader: String, to: NodeAddress)
    /// Snapshot chunks, from the tail of `epoch` (`from`: its node id) to a joiner.
    case dataTransfer(epoch: UInt64, from: String, lastSeq: UInt64, rows: [Row], done: Bool)
    case ping(UInt64)
    case pong(UInt64)
    /// Request outcomes of a snapshot, sent after its rows and before its `done` chunk.
    case outcomeTransfer(epoch: UInt64, from: String, lastSeq: UInt64, outcomes: [WriteOutcome])
    // Authentication (shared secret, see README "Security"): the server's challenge, the
    // connecting side's proof with its own challenge, and the server's proof. Each field is
    // exactly `WireLimits.authFieldSize` bytes.
    case authChallenge(nonce: [UInt8])
    case authResponse(proof: [UInt8], nonce: [UInt8])
    case authOK(proof: [UInt8])
    // Shards (MessageCodec+Shards).
    /// Client request: the slot map and every chain's members, head first.
    case getSlots
    case slots(ShardMap)
    /// The key's slot is not served by the chain of the server asked: refresh the slot map
    /// (this server's is `mapVersion`) and send it to the owner's head.
    case moved(slot: UInt16, mapVersion: UInt64)
    /// A request or peer message about one chain of a sharded cluster: `hello` (the link then
    /// carries that chain's updates), `status`, and the state-transfer messages. Never nested.
    indirect case onChain(chain: String, Message)
    // Slot moves (MessageCodec+Moves), each inside `onChain` naming the chain asked.
    /// From the leader to the head of a chain that does not own `slots`: delete every row of
    /// them it holds (before an import, or after they moved away). Answered with `ack`.
    case purgeSlots(slots: [ClosedRange<Int>], mapVersion: UInt64)
    /// From the leader to the donor chain's head: write every key of `slots` through the head at
    /// `target` of chain `to` (as `onChain(to, put)`), once map `mapVersion` records the move.
    /// Answered with `ack` (seq: keys copied).
    case moveSlots(slots: [ClosedRange<Int>], to: String, target: NodeAddress, mapVersion: UInt64)
    /// Operator request to the leader: move every replica off `server` for good (`cancel`: make
    /// it a server like any other again). Answered with `ack` (seq: servers decommissioned).
    case decommission(server: String, cancel: Bool)
    /// From the donor chain's head to the recipient `chain`'s head, before the first copied row:
    /// write the barrier "`slots` moved in from chain `from`, whose changes of them are at or
    /// before its version `after`" into the recipient's history (`MoveBarrier`), once map
    /// `mapVersion` records the move. Answered like a delete (`deleteResult`) once committed.
    case moveIn(slots: [ClosedRange<Int>], from: String, after: UInt64, mapVersion: UInt64)
    // Versions and conditional writes (MessageCodec+Versions).
    /// Client request: the key's committed value with its version (reply `versionedValue`).
    case getVersioned(key: String)
    /// Client request: a put that returns the version it creates (reply `putVersionedResult`);
    /// with `ifVersion`, only if the key's version is that one (0: absent), else `conditionFailed`.
    case putVersioned(key: String, value: [UInt8], request: RequestID?, ifVersion: UInt64?)
    /// Client request: a delete that returns its version (reply `deleteVersionedResult`); `ifVersion` as for a put.
    case deleteVersioned(key: String, request: RequestID?, ifVersion: UInt64?)
    case versionedValue(VersionedValue?)
    case putVersionedResult(old: [UInt8]?, version: UInt64)
    case deleteVersionedResult(existed: Bool, version: UInt64)
    /// A conditional write's condition failed; nothing was applied. `current`: the key's version (0: absent).
    case conditionFailed(current: UInt64)
    // Range reads (MessageCodec+Range).
    /// Client request to the head of `chain`: the committed rows of `range` in byte order, at
    /// most `limit` (1...`WireLimits.scanRowsMax`) and about `WireLimits.scanPageBytesMax` bytes.
    /// `mapVersion`: the slot map the client routes by; a sharded server whose map is another
    /// answers `moved` (slot 0) with its own version (an unsharded one ignores it).
    case scan(chain: String, mapVersion: UInt64, range: KeyRange, limit: UInt32)
    /// The rows with their versions, and the rest of the range (nil: the range is done).
    case scanPage(rows: [RangeRow], next: KeyRange?)
    // Watches (MessageCodec+Watch).
    /// Client request to a member of `chain`: its committed changes of keys in `range` after
    /// version `after` (nil: from now), at most `limit` (1...`scanRowsMax`). With none yet, the
    /// answer waits until one commits or `waitMs` (at most `WireLimits.watchWaitMsMax`) passed.
    case watch(chain: String, range: KeyRange, after: UInt64?, limit: UInt32, waitMs: UInt32)
    /// The changes, oldest first, and the version every committed update up to was looked at
    /// (the next `after`).
    case changes(events: [Change], through: UInt64)
    /// The history no longer reaches back to the `after` asked for; `oldest` is the oldest
    /// version it can deliver changes from.
    case compacted(oldest: UInt64)
    // Relays (MessageCodec+Relay).
    /// Client request to any server: pass the keyed request inside (`Message.isRelayable`) to the
    /// head of `chain` (the chain the client's slot map names for the key) and return its reply
    /// as it is. For a client that cannot reach a head another server can (a link cut between the
    /// two); the write's request id travels inside, so a retry through any path is recognized,
    /// and the chain is the client's, so a retry reaches the chain its first attempt did (that
    /// head answers `moved` if the slot left it). Never nested: a relay is one hop.
    indirect case relay(chain: String, Message)
    /// A keyed request for the head of `chain` only: answered there, never passed on (a
    /// relay's second hop, from the relaying server to the head), and answered `moved` by a
    /// server whose slot map places the key in another chain. A client also sends a retry of a
    /// write that may have applied this way, so that no other chain takes it as a new write.
    indirect case relayed(chain: String, Message)

    /// Wire type byte. Stable: append only.
    public enum Kind: UInt8, Sendable, CaseIterable {
        case get = 1, put, delete, getHead, die, status
        case value = 16, putResult, deleteResult, chain, dieAck, error, statusReply
        case hello = 32, forward, ack, setSuccessor, setTail, removeTail, startTransfer, dataTransfer, ping, pong, outcomeTransfer
        case authChallenge = 48, authResponse, authOK
        case getSlots = 64, slots, moved, onChain, purgeSlots, moveSlots, decommission, moveIn
        case getVersioned = 80, putVersioned, deleteVersioned, versionedValue, putVersionedResult, deleteVersionedResult, conditionFailed
        case scan = 96, scanPage, watch, changes, compacted
        case relay = 112, relayed
    }

    public var kind: Kind {
        switch self {
        case .get: return .get
        case .put: return .put
        case .delete: return .delete
        case .getHead: return .getHead
        case .die: return .die
        case .status: return .status
        case .statusReply: return .statusReply
        case .value: return .value
        case .putResult: return .putResult
        case .deleteResult: return .deleteResult
        case .chain: return .chain
        case .dieAck: return .dieAck
        case .error: return .error
        case .hello: return .hello
        case .forward: return .forward
        case .ack: return .ack
        case .setSuccessor: return .setSuccessor
        case .setTail: return .setTail
        case .removeTail: return .removeTail
        case .startTransfer: return .startTransfer
        case .dataTransfer: return .dataTransfer
        case .ping: return .ping
        case .outcomeTransfer: return .outcomeTransfer
        case .pong: return .pong
        case .authChallenge: return .authChallenge
        case .authResponse: return .authResponse
        case .authOK: return .authOK
        case .getSlots: return .getSlots
        case .slots: return .slots
        case .moved: return .moved
        case .onChain: return .onChain
        case .purgeSlots: return .purgeSlots
        case .moveSlots: return .moveSlots
        case .decommission: return .decommission
        case .moveIn: return .moveIn
        case .getVersioned: return .getVersioned
        case .putVersioned: return .putVersioned
        case .deleteVersioned: return .deleteVersioned
        case .versionedValue: return .versionedValue
        case .putVersionedResult: return .putVersionedResult
        case .deleteVersionedResult: return .deleteVersionedResult
        case .conditionFailed: return .conditionFailed
        case .scan: return .scan
        case .scanPage: return .scanPage
        case .watch: return .watch
        case .changes: return .changes
        case .compacted: return .compacted
        case .relay: return .relay
        case .relayed: return .relayed
        }
    }
}

/// A message with the request id that pairs a reply with its request.
public struct Frame: Equatable, Sendable {
    public var requestID: UInt64
    public var message: Message

    public init(requestID: UInt64, _ message: Message) {
        self.requestID = requestID
        self.message = message
    }
}
