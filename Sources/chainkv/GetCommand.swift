import ArgumentParser
import ChainKV
import Foundation

struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the value of a key (exit 1 if it does not exist).")
    @OptionGroup var server: ServerOptions
    @Flag(name: .long, help: "Print a JSON object.") var json = false
    @Argument(help: "The key.") var key: String
    @Flag(name: .customLong("version"), help: "Also print the key's version (for put/delete --if-version).") var withVersion = false

    func run() async throws {
        if withVersion { return try await runVersioned() }
        let value = try await server.withClient { try await $0.get(key) }
        if json {
            printJSON(["key": key, "found": value != nil, "value": value.map(text)])
        } else if let value {
            print(text(value))
        } else {
            FileHandle.standardError.write(Data("chainkv: no such key: \(key)\n".utf8))
        }
        if value == nil { throw ExitCode(ExitStatus.notFound.rawValue) }
    }

    /// `get --version`: the value and its version ("version<TAB>value"); absent is version 0.
    private func runVersioned() async throws {
        let found = try await server.withClient { try await $0.getVersioned(key) }
        if json {
            printJSON(["key": key, "found": found != nil, "value": found.map { text($0.value) }, "version": found.version])
        } else if let found {
            print("\(found.version)\t\(text(found.value))")
        } else {
            FileHandle.standardError.write(Data("chainkv: no such key: \(key) (version 0)\n".utf8))
        }
        if found == nil { throw ExitCode(ExitStatus.notFound.rawValue) }
    }
}
