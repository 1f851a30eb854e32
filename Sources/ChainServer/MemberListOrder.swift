/// Which member listings a server applies: never one older than a listing it already applied.
///
/// Two reads of the members znode can reach the server out of order: a watch's refresh that was
/// under way when a new leader read the members for itself is delivered after that fresher read.
/// Seen in CI: the older list lacked the last server to register, and the new leader, which had
/// just formed the chain with it, took it for gone (a needless repair, and a rejoin by state
/// transfer). A listing's version is the members znode's `childrenZxid`: zxids only grow, so the
/// larger is the newer, also across a delete and re-create of the znode.
struct MemberListOrder {
    /// The version of the newest listing applied; -1 before any.
    private(set) var applied: Int64 = -1

    /// Whether to apply a listing of `version`, and if so, records it. -1 (the members znode is
    /// gone, deleted by hand) is always applied: no listing of the old znode contradicts it.
    mutating func accept(_ version: Int64) -> Bool {
        guard version == -1 || version >= applied else { return false }
        applied = version
        return true
    }
}
