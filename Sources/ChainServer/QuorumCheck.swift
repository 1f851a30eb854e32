import ChainTransport
import ChainWire
import NIOCore

/// Whether this server, about to act on "I cannot reach X", is not itself the one cut off: it
/// asks every other registered member for its status at once and counts the answers. Only when
/// it and the members that answered form a majority of the registered members may it remove X
/// from the election (X's silence then is X's fault, or a cut between the two of them only).
///
/// Without it, a server cut off from its peers but not from ZooKeeper removed the election
/// znodes of healthy servers one after another: each deposed leader stood again behind the
/// isolated server, which then deposed it too, and the chain ended with its members fenced
/// (`PartitionTests`, a leader cut from every peer).
enum QuorumCheck {
    /// How long each member has to answer: loopback or a LAN answers in milliseconds, and a
    /// check that waits longer only delays a failover that the check allows.
    static let answerTimeout = TimeAmount.milliseconds(500)

    /// Whether `1 + answering` is more than half of `1 + others` (this server and the others).
    static func isMajority(answering: Int, others: Int) -> Bool {
        precondition(answering >= 0 && answering <= others, "\(answering) of \(others) answered")
        return 2 * (1 + answering) > 1 + others
    }

    /// How many of `peers` answer a status request within `answerTimeout`, on `loop`.
    static func answering(_ peers: [NodeAddress], loop: EventLoop, group: EventLoopGroup,
                          security: ConnectionSecurity) -> EventLoopFuture<Int> {
        let promise = loop.makePromise(of: Int.self)
        promise.completeWithTask {
            await withTaskGroup(of: Bool.self) { tasks in
                for peer in peers {
                    tasks.addTask {
                        guard let connection = try? await Connection.connect(host: peer.host, port: peer.port, group: group,
                                                                             timeout: answerTimeout, security: security) else { return false }
                        defer { connection.close() }
                        guard case .statusReply? = try? await connection.request(.status, timeout: answerTimeout) else { return false }
                        return true
                    }
                }
                var count = 0
                for await answered in tasks where answered { count += 1 }
                return count
            }
        }
        return promise.futureResult
    }
}
