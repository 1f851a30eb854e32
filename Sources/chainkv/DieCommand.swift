import ArgumentParser
import ChainKV
import Foundation

struct Die: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Make one server exit: cleanly (leaves through the leader) or like a crash.")
    @OptionGroup var server: ServerOptions
    @Flag(name: .long, help: "Exit at once, like a crash (default: clean).") var unclean = false
    @Argument(help: "host:port of the server.") var target: String

    func run() async throws {
        var options = ChainKVClient.Options()
        options.security = server.security
        let client = try ChainKVClient(servers: [target], options: options)
        defer { client.shutdown() }
        do {
            try await client.die(server: target, clean: !unclean)
            print("OK")
        } catch let e as ChainKVError {
            fail(e)
        }
    }
}
