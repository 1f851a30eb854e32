import ArgumentParser
import ChainKV
import Foundation

struct Put: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Set a key; prints the old value if it had one.")
    @OptionGroup var server: ServerOptions
    @Flag(name: .long, help: "Print a JSON object.") var json = false
    @Argument(help: "The key.") var key: String
    @Argument(help: "The value (use --stdin to read it from standard input).") var value: String?
    @Flag(name: .long, help: "Read the value from standard input.") var stdin = false
    @Option(name: .long, help: "Only if the key's version is N (0: only if it does not exist); else exit 5.") var ifVersion: UInt64?

    func run() async throws {
        let bytes: [UInt8]
        if stdin {
            bytes = Array(FileHandle.standardInput.readDataToEndOfFile())
        } else if let value {
            bytes = Array(value.utf8)
        } else {
            throw ValidationError("give a value or --stdin")
        }
        if let ifVersion {
            let result = try await server.withClient { try await $0.put(key, bytes, ifVersion: ifVersion) }
            return try report(result, key: key, json: json)
        }
        let old = try await server.withClient { try await $0.put(key, bytes) }
        if json {
            printJSON(["key": key, "created": old == nil, "old": old.map(text)])
        } else if let old {
            print("OK (old value: \(text(old)))")
        } else {
            print("OK (new key)")
        }
    }
}
