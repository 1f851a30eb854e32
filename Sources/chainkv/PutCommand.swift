import ArgumentParser
import ChainKV
import ChainWire
import Foundation

struct Put: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Set a key; prints the old value if it had one.",
        discussion: """
        The value is the argument after the key, or standard input (--stdin), or a file's bytes
        (--file); exactly one of them. Values are bytes: --stdin and --file store them unchanged.
        --json prints {"key", "created", "old": the old value as text (null when new or not valid
        UTF-8), "oldBase64": its exact bytes}.

        Examples:
          chainkv put greeting hello
          chainkv put --file photo.jpg photo
          printf 'a\\0b' | chainkv put --stdin binary
          chainkv put --json greeting hi
          chainkv put --if-version 3 greeting hey    # only if greeting is at version 3 (0: absent)

        Exit codes: 0 ok, 2 usage error or bad argument (key or value too large, unreadable file),
        3 network error, 4 chain failure (the write may or may not have applied: retry),
        6 condition failed (--if-version: nothing was applied).
        """)
    @OptionGroup var server: ServerOptions
    @Flag(name: .long, help: "Print a JSON object.") var json = false
    @Argument(help: "The key.") var key: String
    @Argument(help: "The value (or use --stdin or --file).") var value: String?
    @Flag(name: .long, help: "Read the value from standard input.") var stdin = false
    @Option(name: .long, help: "Only if the key's version is N (0: only if it does not exist); else exit 6.") var ifVersion: UInt64?
    @Option(name: .long, help: "Read the value from this file.") var file: String?

    func validate() throws {
        let sources = [value != nil, stdin, file != nil].filter { $0 }.count
        if sources == 0 { throw ValidationError("give a value, --stdin or --file") }
        if sources > 1 { throw ValidationError("give the value once: as an argument, with --stdin or with --file") }
    }

    func run() async throws {
        let bytes: [UInt8]
        if stdin {
            bytes = try Self.readValue(FileHandle.standardInput, from: "standard input")
        } else if let file {
            guard let handle = FileHandle(forReadingAtPath: file) else {
                throw CLIFailure(code: "invalid_argument", message: "cannot read \(file)", status: .badArgument)
            }
            defer { try? handle.close() }
            bytes = try Self.readValue(handle, from: file)
        } else {
            bytes = Array((value ?? "").utf8)
        }
        if let ifVersion {
            let result = try await server.withClient { try await $0.put(key, bytes, ifVersion: ifVersion) }
            return try report(result, key: key, json: json)
        }
        let old = try await server.withClient { try await $0.put(key, bytes) }
        if json {
            printJSON(["key": key, "created": old == nil].merging(CLIOutput.jsonFields("old", old)) { a, _ in a })
        } else if let old {
            print("OK (old value: \(text(old)))")
        } else {
            print("OK (new key)")
        }
    }

    /// Reads at most the largest value a server accepts; more is refused before anything is sent.
    static func readValue(_ handle: FileHandle, from source: String) throws -> [UInt8] {
        let limit = WireLimits.valueSizeMax
        var bytes: [UInt8] = []
        do {
            while bytes.count <= limit, let chunk = try handle.read(upToCount: 1 << 16), !chunk.isEmpty {
                bytes.append(contentsOf: chunk)
            }
        } catch {
            throw CLIFailure(code: "invalid_argument", message: "cannot read \(source): \(error.localizedDescription)", status: .badArgument)
        }
        if bytes.count > limit {
            throw CLIFailure(code: "invalid_argument", message: "the value from \(source) is over \(limit) bytes", status: .badArgument)
        }
        return bytes
    }
}
