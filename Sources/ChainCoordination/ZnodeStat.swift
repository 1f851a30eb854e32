@preconcurrency import CZooKeeper

/// The metadata ZooKeeper keeps for a znode (`struct Stat`).
public struct ZnodeStat: Sendable, Hashable {
    /// Data version, the one `setData` and `delete` compare against.
    public var version: Int32
    /// Children version: changes whenever a child is added or removed.
    public var childrenVersion: Int32
    /// Session that holds this ephemeral znode, or 0 for a persistent one.
    public var ephemeralOwner: Int64
    public var dataLength: Int32
    public var numChildren: Int32
    /// zxid of the create: tells a re-created znode apart from the old one with the same path.
    public var createdZxid: Int64
    public var modifiedZxid: Int64
    /// zxid of the last change to the children (its creation's before any): zxids only grow, so
    /// of two listings of a znode's children the one with the larger value is the newer, even
    /// across a delete and re-create.
    public var childrenZxid: Int64

    init(_ stat: Stat) {
        version = stat.version
        childrenVersion = stat.cversion
        ephemeralOwner = stat.ephemeralOwner
        dataLength = stat.dataLength
        numChildren = stat.numChildren
        createdZxid = stat.czxid
        modifiedZxid = stat.mzxid
        childrenZxid = stat.pzxid
    }
}

/// How `ZooKeeperClient.create` makes a znode.
public enum CreateMode: Sendable, Hashable {
    case persistent
    case persistentSequential
    /// Removed by the server when the creating session ends.
    case ephemeral
    /// Ephemeral, with a 10-digit counter appended to the name by the server.
    case ephemeralSequential

    var flags: Int32 {
        switch self {
        case .persistent: return ZOO_PERSISTENT
        case .persistentSequential: return ZOO_PERSISTENT_SEQUENTIAL
        case .ephemeral: return ZOO_EPHEMERAL
        case .ephemeralSequential: return ZOO_EPHEMERAL_SEQUENTIAL
        }
    }
}
