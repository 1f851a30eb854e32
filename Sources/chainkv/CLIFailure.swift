import ChainKV
import ChainWire
import Foundation

/// Exit codes scripts can rely on (README "Command line" lists them per command).
enum ExitStatus: Int32 {
    case ok = 0
    /// get/delete: no such key.
    case notFound = 1
    /// A usage error (unknown command or option, missing or surplus argument) or an argument the
    /// request cannot carry (key or value too large, unreadable --file, bad config file).
    case badArgument = 2
    /// No server could be reached or none answered as a chainkv server; refused for want of the
    /// cluster's secret; any other runtime error.
    case networkError = 3
    /// A write may or may not have applied; retry.
    case chainFailure = 4
    /// status: a chain member failed or unreachable, fewer live servers than --expect, or
    /// ZooKeeper not answering.
    case unhealthy = 5
    /// put/delete --if-version: the key's version was another; nothing was applied.
    case conditionFailed = 6
    /// watch --after: the cursor is older than the history a chain still keeps.
    case compacted = 7
}

/// A failure as the user sees it: a sentence, a stable code for scripts (`--json`), an exit status.
struct CLIFailure: Error {
    var code: String
    var message: String
    var status: ExitStatus

    /// Prints it (stderr; stdout as {"error": ..., "code": ...} with --json) and exits.
    func exit() -> Never {
        if CLIOutput.json {
            printJSON(["error": message, "code": code])
        } else {
            FileHandle.standardError.write(Data("chainkv: \(message)\n".utf8))
        }
        Foundation.exit(status.rawValue)
    }

    /// The failure for an error that needs no look at the servers.
    init(_ error: Error) {
        switch error {
        case let e as CLIFailure:
            self = e
        case let e as ChainKVError:
            self.init(chainKV: e)
        case let e as ConfigFileError:
            self.init(code: "invalid_argument", message: e.message, status: .badArgument)
        default:
            self.init(code: "error", message: "\(error)", status: .networkError)
        }
    }

    init(code: String, message: String, status: ExitStatus) {
        self.code = code
        self.message = message
        self.status = status
    }

    init(chainKV error: ChainKVError) {
        switch error {
        case .invalidArgument(let s): self.init(code: "invalid_argument", message: "invalid argument: \(s)", status: .badArgument)
        case .server(.unauthorized, let s): self.init(code: "unauthorized", message: "unauthorized: \(s)", status: .networkError)
        case .server(let code, let s) where code.isRequestFault:
            self.init(code: "invalid_argument", message: "refused by the server (\(code)): \(s)", status: .badArgument)
        case .server(let code, let s): self.init(code: "server_error", message: "server error \(code): \(Self.plain(s))", status: .networkError)
        case .network(let s): self.init(code: "network", message: "network error: \(Self.plain(s))", status: .networkError)
        case .timeout(let s): self.init(code: "timeout", message: "timed out: \(Self.plain(s))", status: .networkError)
        case .chainFailure(let s):
            self.init(code: "chain_failure", message: "chain failure: the write may or may not have applied; retry (\(Self.plain(s)))",
                      status: .chainFailure)
        }
    }

    /// The failure of a request to `servers`: when none of them answers as a chainkv server, that
    /// is what is reported, server by server, in words. A chain failure stays one (exit 4) unless
    /// every server is something other than a chainkv server, which cannot have applied a write.
    static func diagnosing(_ error: ChainKVError, servers: [String], security: ConnectionSecurity) async -> CLIFailure {
        switch error {
        case .network, .timeout, .chainFailure: break
        default: return CLIFailure(chainKV: error)
        }
        let probes = await ServerProbe.probe(servers, security: security)
        guard !probes.isEmpty, !probes.contains(where: { $0.probe == .chainkv }) else { return CLIFailure(chainKV: error) }
        let what = probes.map { $0.probe.sentence($0.address) }.joined(separator: "; ")
        if probes.allSatisfy({ $0.probe == .unauthorized }) {
            return CLIFailure(code: "unauthorized", message: what, status: .networkError)
        }
        let foreign = probes.contains { $0.probe == .notChainKV || $0.probe == .handshakeFailed }
        if case .chainFailure = error, !probes.allSatisfy({ $0.probe == .notChainKV }) {
            return CLIFailure(code: "chain_failure", message: "chain failure: the write may or may not have applied; retry (now \(what))",
                              status: .chainFailure)
        }
        return CLIFailure(code: foreign ? "not_chainkv" : "unreachable", message: what, status: .networkError)
    }

    /// The client library's text with NIO's connection-error descriptions put into words, e.g.
    /// "Connection errors: SingleConnectionFailure(target: [IPv4]127.0.0.1/127.0.0.1:1, error:
    /// connection reset (error set): Connection refused) (errno: 111))" becomes "connection refused".
    static func plain(_ text: String) -> String {
        var out = text
        let pattern = #"(?:Connection errors: )?SingleConnectionFailure\(target: [^,]*, error: .*?\(errno: (\d+)\)\)?"#
        if let regex = try? NSRegularExpression(pattern: pattern) {
            for match in regex.matches(in: out, range: NSRange(out.startIndex..., in: out)).reversed() {
                guard let whole = Range(match.range, in: out), let number = Range(match.range(at: 1), in: out),
                      let code = Int32(out[number]) else { continue }
                out.replaceSubrange(whole, with: ServerProbe.words(errno: code))
            }
        }
        // Inside "no head reachable (...)" this is a discovery request, never a write.
        return out.replacingOccurrences(of: "chain failure (write may or may not have applied; retry): connection closed with the request in flight",
                                        with: "the connection closed before a reply")
    }
}

/// Prints the error in words and exits with the status that matches it.
func fail(_ error: Error) -> Never {
    CLIFailure(error).exit()
}
