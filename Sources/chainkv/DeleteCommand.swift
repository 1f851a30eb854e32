import ArgumentParser
import ChainKV
import Foundation

struct Delete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Delete a key (exit 1 if it did not exist).")
    @OptionGroup var server: ServerOptions
    @Flag(name: .long, help: "Print a JSON object.") var json = false
    @Argument(help: "The key.") var key: String
    @Option(name: .long, help: "Only if the key's version is N (0: only if it does not exist); else exit 5.") var ifVersion: UInt64?

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
