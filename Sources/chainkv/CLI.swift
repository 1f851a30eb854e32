import ArgumentParser
import ChainKV
import ChainVersion
import ChainWire
import Foundation
import NIOCore
import NIOPosix

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
    /// put/delete --if-version: the key's version was another; nothing was applied.
    case conditionFailed = 5
}

@main
struct ChainKVCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chainkv",
        abstract: "Command-line client of a chainkv chain.",
        discussion: """
        Servers come from --servers, else $CHAINKV_SERVERS, else the "servers" of the config file
        (--config, else $CHAINKV_CONFIG, else ~/.config/chainkv/client.json if it exists), else
        127.0.0.1:7001. Any live server will do: the client asks it for the head. `status` also
        reads ZooKeeper (--zookeeper, $CHAINKV_ZK or the file's "zookeeper"; --cluster or "cluster").

        Config file: {"servers": ["127.0.0.1:7001", "127.0.0.1:7002"], "zookeeper": "127.0.0.1:2181", "cluster": "local",
                      "secretFile": "/etc/chainkv/secret", "tlsCAFile": "/etc/chainkv/ca.pem"}
        A cluster with a shared secret needs --secret-file (or $CHAINKV_SECRET_FILE, or "secretFile");
        one with TLS needs --tls-ca-file (or $CHAINKV_TLS_CA_FILE, or "tlsCAFile").

        Examples:
          chainkv put greeting hello
          chainkv get greeting
          chainkv delete --servers 127.0.0.1:7002 greeting
          chainkv status --json

        Exit codes: 0 ok, 1 no such key, 2 bad argument, 3 network error, 4 chain failure (retry).
        """,
        version: ChainVersion.line("chainkv"),
        subcommands: [Get.self, Put.self, Delete.self, Status.self, Die.self, Decommission.self, Bench.self]
    )

    static func main() async {
        if CommandLine.arguments.dropFirst().first == "bench" {
            // The load generator's tasks then run on NIO's event loops, the threads that also do
            // the socket I/O, instead of hopping to Swift's global pool and back on every request
            // (two thread wake-ups per operation that showed up in the profile). Both targets
            // (chainkv and ZooKeeper) are driven by the same tasks, so both gain alike. Installed
            // here, on the main thread before any other task exists, as NIO requires.
            NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        }
        await Self.main(nil)
    }
}

struct ServerOptions: ParsableArguments {
    @Option(name: .long, help: "Comma-separated host:port list of servers (default: $CHAINKV_SERVERS, the config file, or 127.0.0.1:7001).")
    var servers: String?

    @Option(name: .long, help: "Client config file (JSON; default: $CHAINKV_CONFIG or ~/.config/chainkv/client.json).")
    var config: String?

    @Option(name: .long, help: "Seconds a request may keep retrying while the chain has no head.")
    var timeout: Double = 10

    @Option(name: .long, help: "File with the cluster's shared secret (default: $CHAINKV_SECRET_FILE or the config file's secretFile).")
    var secretFile: String?

    @Option(name: .long, help: "CA certificates (PEM) to trust; turns TLS on (default: $CHAINKV_TLS_CA_FILE or the config file's tlsCAFile).")
    var tlsCAFile: String?

    /// Shared secret and TLS: flag, else environment, else config file.
    var security: ConnectionSecurity {
        let env = ProcessInfo.processInfo.environment
        func pick(_ flag: String?, _ variable: String, _ fromFile: @autoclosure () -> String?) -> String? {
            if let flag { return flag }
            if let v = env[variable], !v.isEmpty { return v }
            return fromFile()
        }
        do {
            var security = ConnectionSecurity()
            if let path = pick(secretFile, "CHAINKV_SECRET_FILE", file.secretFile) { security.secret = try SharedSecret(file: path) }
            if let path = pick(tlsCAFile, "CHAINKV_TLS_CA_FILE", file.tlsCAFile) { security.tls = try ConnectionSecurity.tlsContext(trusting: path) }
            return security
        } catch {
            fail(error)
        }
    }

    var file: ClientConfigFile {
        do {
            return try ClientConfigFile.load(explicit: config)
        } catch {
            fail(ChainKVError.invalidArgument("\(error)"))
        }
    }

    var list: [String] {
        let raw = servers ?? ProcessInfo.processInfo.environment["CHAINKV_SERVERS"] ?? file.servers?.joined(separator: ",") ?? "127.0.0.1:7001"
        return raw.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    func client() throws -> ChainKVClient {
        var options = ChainKVClient.Options()
        options.retryBudget = .milliseconds(Int64(timeout * 1000))
        options.security = security
        do {
            return try ChainKVClient(servers: list, options: options)
        } catch {
            fail(error)
        }
    }

    /// Runs `body` with a client, shut down after; a client error ends the process with the exit
    /// status that matches it (`fail`).
    func withClient<T>(_ body: (ChainKVClient) async throws -> T) async throws -> T {
        let client = try client()
        defer { client.shutdown() }
        do {
            return try await body(client)
        } catch let e as ChainKVError {
            fail(e)
        }
    }
}

/// Prints the error and exits with the status that matches it.
func fail(_ error: Error) -> Never {
    let status: ExitStatus
    switch error as? ChainKVError {
    case .invalidArgument?: status = .badArgument
    case .server(let code, _)? where code.isRequestFault: status = .badArgument
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
