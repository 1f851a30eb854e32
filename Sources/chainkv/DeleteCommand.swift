import ArgumentParser
import ChainKV
import Foundation

struct Delete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Delete a key (exit 1 if it did not exist).")
    @OptionGroup var server: ServerOptions
    @Flag(name: .long, help: "Print a JSON object.") var json = false
    @Argument(help: "The key.") var key: String

    func run() async throws {
        let existed = try await server.withClient { try await $0.delete(key) }
        if json { printJSON(["key": key, "deleted": existed]) } else { print(existed ? "OK (deleted)" : "no such key") }
        if !existed { throw ExitCode(ExitStatus.notFound.rawValue) }
    }
}
