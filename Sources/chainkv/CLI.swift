import ArgumentParser
import ChainKV
import ChainWire
import Foundation

/// Exit codes scripts can rely on.
enum ExitStatus: Int32 {
    case ok = 0
    /// get/delete: no such key.
    case notFound = 1
    /// Bad arguments (ArgumentParser also uses 64 for usage errors).
    case badArgument = 2
    case networkError = 3
    /// A write may or may not have applied; retry.
    case chainFailure = 4
}

@main
struct ChainKVCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chainkv",
        abstract: "Command-line client of a chainkv chain.",
        discussion: """
        Servers come from --servers, else $CHAINKV_SERVERS, else 127.0.0.1:7001. Any live server will
        do: the client asks it for the head.

        Examples:
          chainkv put greeting hello
          chainkv get greeting
          chainkv --servers 127.0.0.1:7002 delete greeting
          chainkv status --json

        Exit codes: 0 ok, 1 no such key, 2 bad argument, 3 network error, 4 chain failure (retry).
        """,
        subcommands: [Get.self, Put.self, Delete.self, Status.self, Die.self]
    )
}

struct ServerOptions: ParsableArguments {
    @Option(name: .long, help: "Comma-separated host:port list of servers (default: $CHAINKV_SERVERS or 127.0.0.1:7001).")
    var servers: String?

    @Option(name: .long, help: "Seconds a request may keep retrying while the chain has no head.")
    var timeout: Double = 10

    var list: [String] {
        let raw = servers ?? ProcessInfo.processInfo.environment["CHAINKV_SERVERS"] ?? "127.0.0.1:7001"
        return raw.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    func client() throws -> ChainKVClient {
        var options = ChainKVClient.Options()
        options.retryBudget = .milliseconds(Int64(timeout * 1000))
        do {
            return try ChainKVClient(servers: list, options: options)
        } catch {
            fail(error)
        }
    }
}

/// Prints the error and exits with the status that matches it.
func fail(_ error: Error) -> Never {
    let status: ExitStatus
    switch error as? ChainKVError {
    case .invalidArgument?: status = .badArgument
    case .server(let code, _)? where code == .keyTooLarge || code == .valueTooLarge || code == .badRequest: status = .badArgument
    case .chainFailure?: status = .chainFailure
    default: status = .networkError
    }
    FileHandle.standardError.write(Data("chainkv: \(error)\n".utf8))
    exit(status.rawValue)
}

func text(_ bytes: [UInt8]) -> String {
    String(decoding: bytes, as: UTF8.self)
}

func printJSON(_ object: [String: Any?]) {
    let cleaned = object.mapValues { $0 ?? NSNull() }
    let data = try! JSONSerialization.data(withJSONObject: cleaned, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}

struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the value of a key (exit 1 if it does not exist).")
    @OptionGroup var server: ServerOptions
    @Flag(name: .long, help: "Print a JSON object.") var json = false
    @Argument(help: "The key.") var key: String

    func run() async throws {
        let client = try server.client()
        defer { client.shutdown() }
        do {
            let value = try await client.get(key)
            if json {
                printJSON(["key": key, "found": value != nil, "value": value.map(text)])
            } else if let value {
                print(text(value))
            } else {
                FileHandle.standardError.write(Data("chainkv: no such key: \(key)\n".utf8))
            }
            if value == nil { throw ExitCode(ExitStatus.notFound.rawValue) }
        } catch let e as ChainKVError {
            fail(e)
        }
    }
}

struct Put: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Set a key; prints the old value if it had one.")
    @OptionGroup var server: ServerOptions
    @Flag(name: .long, help: "Print a JSON object.") var json = false
    @Argument(help: "The key.") var key: String
    @Argument(help: "The value (use --stdin to read it from standard input).") var value: String?
    @Flag(name: .long, help: "Read the value from standard input.") var stdin = false

    func run() async throws {
        let bytes: [UInt8]
        if stdin {
            bytes = Array(FileHandle.standardInput.readDataToEndOfFile())
        } else if let value {
            bytes = Array(value.utf8)
        } else {
            throw ValidationError("give a value or --stdin")
        }
        let client = try server.client()
        defer { client.shutdown() }
        do {
            let old = try await client.put(key, bytes)
            if json {
                printJSON(["key": key, "created": old == nil, "old": old.map(text)])
            } else if let old {
                print("OK (old value: \(text(old)))")
            } else {
                print("OK (new key)")
            }
        } catch let e as ChainKVError {
            fail(e)
        }
    }
}

struct Delete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Delete a key (exit 1 if it did not exist).")
    @OptionGroup var server: ServerOptions
    @Flag(name: .long, help: "Print a JSON object.") var json = false
    @Argument(help: "The key.") var key: String

    func run() async throws {
        let client = try server.client()
        defer { client.shutdown() }
        do {
            let existed = try await client.delete(key)
            if json { printJSON(["key": key, "deleted": existed]) } else { print(existed ? "OK (deleted)" : "no such key") }
            if !existed { throw ExitCode(ExitStatus.notFound.rawValue) }
        } catch let e as ChainKVError {
            fail(e)
        }
    }
}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the chain in order, head first.")
    @OptionGroup var server: ServerOptions
    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() async throws {
        let client = try server.client()
        defer { client.shutdown() }
        do {
            let info = try await client.chain()
            let rows: [(String, String, String)] = info.members.enumerated().map { i, m in
                let role = info.members.count == 1 ? "head+tail" : i == 0 ? "head" : i == info.members.count - 1 ? "tail" : "middle"
                return (m.id, "\(m.host):\(m.port)", role)
            }
            if json {
                printJSON(["epoch": info.epoch, "nodes": rows.map { ["id": $0.0, "address": $0.1, "role": $0.2] }])
            } else {
                print("epoch \(info.epoch)")
                print("ID".padding(toLength: 10, withPad: " ", startingAt: 0) + "ADDRESS".padding(toLength: 22, withPad: " ", startingAt: 0) + "ROLE")
                for r in rows {
                    print(r.0.padding(toLength: 10, withPad: " ", startingAt: 0) + r.1.padding(toLength: 22, withPad: " ", startingAt: 0) + r.2)
                }
            }
        } catch let e as ChainKVError {
            fail(e)
        }
    }
}

struct Die: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Make one server exit: cleanly (leaves through the leader) or like a crash.")
    @OptionGroup var server: ServerOptions
    @Flag(name: .long, help: "Exit at once, like a crash (default: clean).") var unclean = false
    @Argument(help: "host:port of the server.") var target: String

    func run() async throws {
        let client = try ChainKVClient(servers: [target])
        defer { client.shutdown() }
        do {
            try await client.die(server: target, clean: !unclean)
            print("OK")
        } catch let e as ChainKVError {
            fail(e)
        }
    }
}
