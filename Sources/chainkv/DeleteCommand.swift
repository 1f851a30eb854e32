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
          chainkv delete --if-version 4 greeting     # only if greeting is at version 4

        Exit codes: 0 deleted, 1 no such key, 2 usage error or bad key, 3 network error,
        4 chain failure (the delete may or may not have applied: retry), 6 condition failed
        (--if-version: nothing was applied).
        """)
    @OptionGroup var server: ServerOptions
    @Flag(name: .long, help: "Print a JSON object.") var json = false
    @Argument(help: "The key.") var key: String
    @Option(name: .long, help: "Only if the key's version is N (0: only if it does not exist); else exit 6.") var ifVersion: UInt64?

    func run() async throws {
        if let ifVersion {
            let result = try await server.withClient { try await $0.delete(key, ifVersion: ifVersion) }
            return try report(result, key: key, json: json)
        }
        let existed = try await server.withClient { try await $0.delete(key) }
        if json { printJSON(["key": key, "deleted": existed]) } else { print(existed ? "OK (deleted)" : "no such key") }
        if !existed { throw ExitCode(ExitStatus.notFound.rawValue) }
    }
}
