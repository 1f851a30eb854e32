import Glibc

/// What the failover benchmark kills. The roles do not overlap: head, middle and tail are members
/// that are not the leader; leader is a leader that is not the head; leader+head is both.
enum BenchFailoverRole: String, CaseIterable, Codable, Sendable {
    case head
    case middle
    case tail
    case leader
    case leaderHead = "leader+head"
    /// The head (not the leader), paused with SIGSTOP instead of killed; SIGCONT once the load
    /// recovered, restarted if it exited.
    case headPaused = "head-paused"

    /// The order a run goes through the roles: the first three need the leader at the head, which
    /// a fresh cluster started in natural order gives and kills keep; leader and head need fresh
    /// starts now and then.
    static let runOrder: [BenchFailoverRole] = [.middle, .tail, .leaderHead, .leader, .head, .headPaused]

    var signal: Int32 { self == .headPaused ? SIGSTOP : SIGKILL }
    var signalName: String { self == .headPaused ? "SIGSTOP" : "SIGKILL" }

    func matches(position: Int, size: Int, isLeader: Bool) -> Bool {
        let isHead = position == 0, isTail = position == size - 1
        switch self {
        case .head, .headPaused: return isHead && !isLeader
        case .middle: return !isHead && !isTail && !isLeader
        case .tail: return isTail && !isHead && !isLeader
        case .leader: return isLeader && !isHead
        case .leaderHead: return isLeader && isHead
        }
    }

    /// The order to start a fresh cluster of n1...n<size> in, each once the previous one stands in
    /// the election. The first chain is n1 -> ... -> n<size> whatever the order; the first started
    /// leads, and the election order is the start order. A killed server rejoins at the end of both,
    /// so each start order gives this role several kills before the role disappears:
    /// - head: the tail leads (n<size> first); each head kill moves the leader one place up, until
    ///   it reaches the head (size - 1 kills).
    /// - leader: n2 leads and n3, n4, ... follow it in the election, n1 last; each leader kill hands
    ///   the lead to the next, which is not the head until n1's turn (size - 1 kills).
    /// - the others: n1 leads, and the leader stays the head for as long as the run goes on.
    func startOrder(size: Int) -> [String] {
        let ids = (1...size).map { "n\($0)" }
        switch self {
        case .head, .headPaused: return [ids[size - 1]] + ids.dropLast()
        case .leader: return Array(ids.dropFirst()) + [ids[0]]
        case .middle, .tail, .leaderHead: return ids
        }
    }

    var explanation: String {
        switch self {
        case .head: return "head that is not the leader, SIGKILL"
        case .middle: return "middle member that is not the leader, SIGKILL"
        case .tail: return "tail that is not the leader, SIGKILL"
        case .leader: return "leader that is not the head (a middle or the tail), SIGKILL"
        case .leaderHead: return "leader that is also the head, SIGKILL"
        case .headPaused: return "head that is not the leader, SIGSTOP; SIGCONT after the load recovered, restarted once it exited"
        }
    }
}
