import ArgumentParser
import ChainKV
import ChainVersion
import ChainWire
import Foundation
import NIOCore
import NIOPosix

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

        Exit codes (every command): 0 ok, 1 no such key (get, delete), 2 usage error or bad argument,
        3 network error (no server reachable, none answered as a chainkv server, unauthorized),
        4 chain failure (a write may or may not have applied: retry), 5 unhealthy (status),
        6 condition failed (--if-version: nothing applied), 7 compacted (watch --after past the history kept).
        With --json, errors are a JSON object on stdout too: {"code": "...", "error": "..."}.
        $CHAINKV_LOG_LEVEL (default warning) sets what the CLI logs to stderr.
        """,
        version: ChainVersion.line("chainkv"),
        subcommands: [Get.self, Put.self, Delete.self, Scan.self, Watch.self, Status.self, Die.self, Decommission.self, Bench.self]
    )

    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        let bench = arguments.first == "bench"
        CLILogging.bootstrap(quietZooKeeper: bench && arguments.dropFirst().first == "failover")
        if bench {
            // The load generator's tasks then run on NIO's event loops, the threads that also do
            // the socket I/O, instead of hopping to Swift's global pool and back on every request
            // (two thread wake-ups per operation that showed up in the profile). Both targets
            // (chainkv and ZooKeeper) are driven by the same tasks, so both gain alike. Installed
            // here, on the main thread before any other task exists, as NIO requires.
            NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        }
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exitOnError(error)
        }
    }

    /// Help and --version to stdout (exit 0); usage errors exit 2 (ArgumentParser's own code, 64,
    /// is not used: every command documents 2); the codes commands throw pass through.
    static func exitOnError(_ error: Error) -> Never {
        if let code = error as? ExitCode { Foundation.exit(code.rawValue) }
        let code = exitCode(for: error)
        if code.isSuccess {
            print(fullMessage(for: error))
            Foundation.exit(ExitStatus.ok.rawValue)
        }
        if code == .validationFailure {
            if CLIOutput.json { CLIFailure(code: "usage", message: message(for: error), status: .badArgument).exit() }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(ExitStatus.badArgument.rawValue)
        }
        fail(error)
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
            if let path = pick(tlsCAFile, "CHAINKV_TLS_CA_FILE", file.tlsCAFile) { security.tls = try ConnectionSecurity.TLS(trusting: path) }
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
        do {
            let result = try await body(client)
            await client.shutdown()
            return result
        } catch let e as ChainKVError {
            await client.shutdown()
            await CLIFailure.diagnosing(e, servers: list, security: security).exit()
        } catch {
            await client.shutdown()
            throw error
        }
    }
}
