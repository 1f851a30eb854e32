/// Where a cluster's coordination state lives in ZooKeeper (see DESIGN.md, "ZooKeeper layout").
///
/// Everything of a cluster sits under one root, so clusters sharing an ensemble never see each other, and a
/// later `chains/<id>` level (several chains per cluster) is a new sibling of `chain`, not a rewrite.
public struct ZnodePaths: Sendable, Hashable {
    public let cluster: String
    /// `/chainkv/<cluster>`
    public let root: String
    /// `/chainkv/<cluster>/members`: one ephemeral child per live server, named by node id.
    public let members: String
    /// `/chainkv/<cluster>/election`: ephemeral sequential candidates; the lowest sequence leads.
    public let election: String
    /// `/chainkv/<cluster>/election/leader-`: what candidates create (the server appends the sequence).
    public let electionPrefix: String
    /// `/chainkv/<cluster>/chain`: the persistent chain configuration, written only by the leader.
    public let chain: String
    /// `/chainkv/<cluster>/chains`: one persistent child per chain when keys are sharded over
    /// several chains (`chains/<chain-id>`, the same JSON as `chain`).
    public let chains: String
    /// `/chainkv/<cluster>/slots`: which chain owns each hash slot (`SlotsZnode`).
    public let slots: String
    /// `/chainkv/<cluster>/decommissioned`: servers an operator took out of every chain,
    /// `{"servers":["n5"]}` (`chainkv decommission`).
    public let decommissioned: String

    /// The common parent of all clusters.
    public static let base = "/chainkv"

    /// Throws `CoordinationError.invalidName` unless `cluster` is a plain name (see `validateName`).
    public init(cluster: String) throws {
        try Self.validateName(cluster)
        self.cluster = cluster
        root = "\(Self.base)/\(cluster)"
        members = "\(root)/members"
        election = "\(root)/election"
        electionPrefix = "\(election)/\(Self.electionNodePrefix)"
        chain = "\(root)/chain"
        chains = "\(root)/chains"
        slots = "\(root)/slots"
        decommissioned = "\(root)/decommissioned"
    }

    /// `/chainkv/<cluster>/chains/<id>`. Validate `id` first (`validateName`).
    public func chain(_ id: String) -> String {
        "\(chains)/\(id)"
    }

    /// Name prefix of election znodes; the server appends a 10-digit sequence number.
    public static let electionNodePrefix = "leader-"

    /// `/chainkv/<cluster>/members/<id>`. Validate `id` first (`validateName`): an id with a "/" would name
    /// some other znode.
    public func member(_ id: String) -> String {
        "\(members)/\(id)"
    }

    /// Cluster names and node ids become znode names and appear in paths, logs and shell commands: keep them
    /// to 1-128 characters of `A-Z a-z 0-9 . _ -`, and not "." or "..".
    public static func validateName(_ name: String) throws {
        let allowed = name.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                return true
            default:
                return false
            }
        }
        guard allowed, (1...128).contains(name.utf8.count), name != ".", name != ".." else {
            throw CoordinationError.invalidName(name)
        }
    }
}
