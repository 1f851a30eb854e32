/// Where the replicas of K chains go on N servers: chained declustering (as in Hibari and CRAQ's
/// multiple chains), with heads spread evenly.
///
/// Chain `i` is headed by server `i mod N`. Its other replicas are the next `R - 1` servers in
/// chain order, starting `d` places after the head, where `d` grows by one for each round of N
/// chains (1 for chains 0..N-1, 2 for N..2N-1, ...). So:
/// - every server heads `⌊K/N⌋` or `⌈K/N⌉` chains, and with K a multiple of N every server holds
///   exactly `K·R/N` replicas;
/// - the chains one server heads have different second members, so when it fails its head load
///   moves to several servers, not one (chained declustering's point);
/// - with K = 1 and R = N it is the paper's single chain of every server, in chain order.
public enum Placement {
    /// The members of each chain, head first. `servers` are the live servers in chain order; a
    /// chain never names a server twice, so it has `min(replicas, servers.count)` members.
    public static func chains(servers: [NodeID], count: Int, replicas: Int) -> [[NodeID]] {
        precondition(count >= 1 && replicas >= 1, "at least one chain of one replica")
        guard !servers.isEmpty else { return [] }
        let n = servers.count
        let r = min(replicas, n)
        // How far past the head the other replicas may start without wrapping onto the head.
        let strides = n - r + 1
        return (0..<count).map { i in
            let head = i % n
            let start = 1 + (i / n) % strides
            return [servers[head]] + (0..<(r - 1)).map { servers[(head + start + $0) % n] }
        }
    }

    /// Replicas per chain when the configuration does not say: 3, or every server if fewer.
    public static func defaultReplicas(servers: Int) -> Int { min(3, max(1, servers)) }
}
