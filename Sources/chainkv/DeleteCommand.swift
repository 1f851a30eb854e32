import ArgumentParser
import ChainKV
import Foundation

struct Delete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Delete a key (exit 1 if it did not exist).",
        discussion: """
        --json prints {"key", "deleted"}.

        Examples:
          chainkv delete greeting
          chainkv delete --servers 127.0.0.1:7002 greeting
          chainkv delete --json greeting

        Exit codes: 0 deleted, 1 no such key, 2 usage error or bad key, 3 network error,
        4 chain failure (the delete may or may not have applied: retry).
        """)
    @OptionGroup var server: ServerOptions
    @Flag(name: .long, help: "Print a JSON object.") var json = false
    @Argument(help: "The key.") var key: String

    func run() async throws {
        let existed = try await server.withClient { try await $0.delete(key) }
        if json { printJSON(["key": key, "deleted": existed]) } else { print(existed ? "OK (deleted)" : "no such key") }
        if !existed { throw ExitCode(ExitStatus.notFound.rawValue) }
    }
}
