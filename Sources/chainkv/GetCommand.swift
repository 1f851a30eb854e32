import ArgumentParser
import ChainKV
import Foundation

struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the value of a key (exit 1 if it does not exist).",
        discussion: """
        On a terminal the value is printed as text with a newline. When stdout is not a terminal (a
        pipe or a file), or with --raw, it is written as the exact bytes stored, with nothing added.
        --json prints {"key", "found", "value": the text (null when the bytes are not valid UTF-8),
        "valueBase64": the exact bytes}.

        Examples:
          chainkv get greeting
          chainkv get photo > photo.jpg            # the exact bytes
          chainkv get --raw greeting | xxd
          chainkv get --json photo | jq -r .valueBase64 | base64 -d
          chainkv get --version greeting           # the version, a tab, then the value

        Exit codes: 0 found, 1 no such key, 2 usage error or bad key, 3 network error.
        """)
    @OptionGroup var server: ServerOptions
    @Flag(name: .long, help: "Print a JSON object.") var json = false
    @Flag(name: .long, help: "Write the value's exact bytes, with no newline, even on a terminal.") var raw = false
    @Argument(help: "The key.") var key: String
    @Flag(name: .customLong("version"), help: "Also print the key's version (for put/delete --if-version).") var withVersion = false

    func validate() throws {
        if raw && json { throw ValidationError("--raw and --json exclude each other") }
    }

    func run() async throws {
        if withVersion { return try await runVersioned() }
        let value = try await server.withClient { try await $0.get(key) }
        if json {
            printJSON(["key": key, "found": value != nil].merging(CLIOutput.jsonFields("value", value)) { a, _ in a })
        } else if let value {
            if raw || !CLIOutput.stdoutIsTerminal { CLIOutput.writeRaw(value) } else { print(text(value)) }
        } else {
            FileHandle.standardError.write(Data("chainkv: no such key: \(key)\n".utf8))
        }
        if value == nil { throw ExitCode(ExitStatus.notFound.rawValue) }
    }

    /// `get --version`: the value and its version ("version<TAB>value"); absent is version 0.
    private func runVersioned() async throws {
        let found = try await server.withClient { try await $0.getVersioned(key) }
        if json {
            printJSON(["key": key, "found": found != nil, "version": found.version]
                .merging(CLIOutput.jsonFields("value", found?.value)) { a, _ in a })
        } else if let found {
            // The version as text, a tab, then the value as `get` prints it (raw bytes off a terminal).
            if raw || !CLIOutput.stdoutIsTerminal {
                CLIOutput.writeRaw(Array("\(found.version)\t".utf8) + found.value)
            } else {
                print("\(found.version)\t\(text(found.value))")
            }
        } else {
            FileHandle.standardError.write(Data("chainkv: no such key: \(key) (version 0)\n".utf8))
        }
        if found == nil { throw ExitCode(ExitStatus.notFound.rawValue) }
    }
}
