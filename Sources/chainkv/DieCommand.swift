import ArgumentParser
import ChainKV
import Foundation

struct Die: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make one server exit: cleanly (leaves through the leader) or like a crash.",
        discussion: """
        For tests and drills: the server named by host:port exits. A clean exit leaves the chain
        through the leader first; --unclean exits at once, like a crash (the chain is repaired when
        its heartbeats stop).

        Examples:
          chainkv die 127.0.0.1:7003
          chainkv die --unclean 127.0.0.1:7003
          chainkv die --secret-file /etc/chainkv/secret 127.0.0.1:7003

        Exit codes: 0 the server acknowledged, 2 usage error, 3 network error (also an address that
        does not resolve or answer).
        """)
    @OptionGroup var server: ServerOptions
    @Flag(name: .long, help: "Exit at once, like a crash (default: clean).") var unclean = false
    @Argument(help: "host:port of the server.") var target: String

    func run() async throws {
        var options = ChainKVClient.Options()
        let security = server.security
        options.security = security
        let client: ChainKVClient
        do {
            client = try ChainKVClient(servers: [target], options: options)
        } catch {
            fail(error)
        }
        do {
            try await client.die(server: target, clean: !unclean)
            await client.shutdown()
            print("OK")
        } catch let e as ChainKVError {
            await client.shutdown()
            await CLIFailure.diagnosing(e, servers: [target], security: security).exit()
        } catch {
            await client.shutdown()
            throw error
        }
    }
}
