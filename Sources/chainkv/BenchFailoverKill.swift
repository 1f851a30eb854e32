/// One kill of the failover benchmark and what the load saw around it. Times in milliseconds
/// from the kill unless said otherwise.
struct BenchFailoverKill: Codable, Sendable {
    /// chainkv or zookeeper.
    var system: String
    /// Servers in the chain (or ensemble).
    var servers: Int
    /// A BenchFailoverRole's name, or "leader" for ZooKeeper.
    var role: String
    /// 1, 2, ... within this system, size and role.
    var n: Int
    var victim: String
    var victimPid: Int32
    var signal: String
    /// Seconds from the start of the run.
    var atSeconds: Double
    /// chainkv: the cluster generation (a fresh cluster for some roles; see BenchFailoverRole).
    var cluster: String?
    /// The victim's place as verified right before the kill (head, middle, tail; ZooKeeper: leader).
    var victimPosition: String
    var leaderBefore: String?
    var leaderPositionBefore: String?
    /// chainkv: the chain, head first; ZooKeeper: each server and its mode ("zk1 follower").
    var chainBefore: [String]
    var electionBefore: [String]
    var epochBefore: UInt64?
    /// chainkv: the chain configuration no longer had the victim; ZooKeeper: another server leads.
    var replacedAfterMs: Double?
    /// That, and both loops succeeded with an operation begun afterwards; then the victim restarts.
    var recoveredAfterMs: Double?
    var restartedAfterMs: Double?
    /// Whole again: every server back (chain full, nothing syncing; ZooKeeper: all three serving).
    var wholeAfterMs: Double?
    /// As chainBefore, once whole again.
    var chainAfter: [String]
    var leaderAfter: String?
    var write: BenchFailoverGap
    var read: BenchFailoverGap?
    /// Sessions the load closed and reopened during this kill (see BenchFailoverLoad).
    var reopenedSessions: Int
    /// head-paused: what the paused server did after SIGCONT.
    var victimOutcome: String?
    var notes: [String]
}
