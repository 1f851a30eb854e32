import ArgumentParser
import ChainKV
import Foundation

struct Decommission: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Move every replica off a server for good (sharded clusters), or --cancel that.",
        discussion: """
        The leader stores the server in /chainkv/<cluster>/decommissioned and moves its replicas,
        one chain at a time, to the servers holding the fewest (a chain it heads gets the server
        heading the fewest as its head): the new server joins by state transfer, then the
        decommissioned one leaves and deletes that chain's file. Stop the server once `chainkv
        status` shows it in no chain. A decommissioned server that is down is replaced the same way.

        Examples:
          chainkv decommission n5 --servers 127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003
          chainkv decommission n5 --cancel

        Exit codes: 0 the leader took it, 2 usage error or a request the leader refuses as invalid,
        3 network error.
        """)
    @OptionGroup var server: ServerOptions
    @Flag(help: "Make the server one like any other again (replicas move back only to balance load).") var cancel = false
    @Argument(help: "The server's id (as in `chainkv status`).") var id: String

    func run() async throws {
        let count = try await server.withClient { try await $0.decommission(id, cancel: cancel) }
        print(cancel ? "OK: \(id) is no longer decommissioned (\(count) still are)"
            : "OK: \(id) is decommissioned; its replicas move to the other servers (stop it once `chainkv status` shows it in no chain)")
    }
}
