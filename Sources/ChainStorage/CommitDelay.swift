/// How long the committer waits before a commit for more updates to share its fsync (the idea of
/// PostgreSQL's `commit_delay` and `commit_siblings`).
///
/// Each group commit costs the same whatever it holds: the transaction, the WAL's `fdatasync`,
/// the wake-ups of the committer and the event loop, and the acks sent on. With 32 closed-loop
/// writers a 3-server chain's commits held 5 to 8 updates, and that fixed cost was most of the
/// 150–170 µs of server CPU per write. Waiting up to 1 ms for a batch as large as the last one
/// made them 16 to 18 and the CPU per write 0.89×; with 4 to 16 closed-loop writers the CPU per
/// write fell by a third, and both throughput and p50 latency improved, since on 2 cores the CPU
/// saved is queueing saved (README, "cut 19"). The servers' default became 3 ms (cut 33): then all
/// 32 writers share each commit, and the CPU per write is 0.82× that of 1 ms.
///
/// A batch smaller than `siblingsMin` shows no concurrent writers: the next commit does not
/// wait, so a lone writer's latency is unchanged. A replica forwards each update before its own
/// commit, so the replicas' waits overlap: a write waits at most `maxNanoseconds` in all, not
/// once per replica.
public struct CommitDelay: Sendable, Equatable {
    /// The longest wait before one commit, in nanoseconds; 0 never waits.
    public let maxNanoseconds: Int

    /// A last batch with fewer updates than this does not make the next commit wait.
    public static let siblingsMin = 4
    /// A bound against a mistaken unit: a minute. Servers take at most 10 ms
    /// (`ServerConfig.commitDelayUs`); tests take seconds, to tell a wait from a slow commit.
    public static let maxAllowedNanoseconds = 60_000_000_000
    /// Never waits.
    public static let none = CommitDelay(nanoseconds: 0)

    public init(nanoseconds: Int) {
        precondition((0...Self.maxAllowedNanoseconds).contains(nanoseconds),
                     "a commit delay is 0 to \(Self.maxAllowedNanoseconds) ns, got \(nanoseconds)")
        maxNanoseconds = nanoseconds
    }

    /// With `pending` updates queued after a batch of `lastBatch`, having waited `waited`
    /// nanoseconds for this commit so far: how much longer to wait (nil: commit now). It waits
    /// while fewer updates are queued than the last batch held, up to `maxNanoseconds` in all.
    func remaining(lastBatch: Int, pending: Int, waited: Int) -> Int? {
        guard maxNanoseconds > 0, lastBatch >= Self.siblingsMin, pending < lastBatch, waited < maxNanoseconds else {
            return nil
        }
        return maxNanoseconds - waited
    }
}
