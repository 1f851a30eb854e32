import ChainTransport
import ChainWire
import NIOConcurrencyHelpers
import NIOCore

/// No head could be reached in one round of asking every known server.
struct HeadNotFound: Error {
    var error: ChainKVError
    /// Every server refused the connection: none is running (or none listens at these addresses).
    var everyServerRefused: Bool
}

/// Finding the head: every server the client knows (the chain members from the last answer, then
/// the servers it was given) is asked at once where the head is; the answer with the newest epoch
/// wins. Asking all at once keeps a server that stopped answering (paused, cut off) from holding
/// up the round for more than `probeTimeout`.
extension ChainKVClient {
    /// What asking one server gave.
    enum ProbeResult: Sendable {
        case chain(ChainInfo, Connection)
        case failed(String, refused: Bool)
        case unauthorized(ChainKVError)
        /// The grace after the first answer is over: stop waiting for slower servers.
        case graceOver
    }

    /// After the first answer naming a head, how long to wait for answers with a newer epoch.
    static let answerGrace = TimeAmount.milliseconds(30)

    func discoverHead() async throws -> Connection {
        defer { state.withLockedValue { $0.discovery = nil } }
        let known = state.withLockedValue { $0.known }
        var seen = Set<String>()
        let addresses = (known + seeds).filter { seen.insert("\($0.host):\($0.port)").inserted }
        let (results, sink) = AsyncStream.makeStream(of: ProbeResult.self)
        for (host, port) in addresses {
            Task {
                let result = await probe(host: host, port: port)
                // An answer after the round ended is not used: close its connection.
                if case .terminated = sink.yield(result), case .chain(_, let connection) = result { connection.close() }
            }
        }
        var best: (info: ChainInfo, connection: Connection)?
        var failures: [String] = []
        var refused = 0
        var unanswered = addresses.count
        var graceStarted = false
        roundLoop: for await result in results {
            switch result {
            case .graceOver:
                break roundLoop
            case .unauthorized(let error):
                sink.finish()
                best?.connection.close()
                throw error
            case .failed(let reason, let wasRefused):
                failures.append(reason)
                if wasRefused { refused += 1 }
            case .chain(let info, let connection):
                if info.head != nil, info.epoch > best?.info.epoch ?? 0 || best == nil {
                    best?.connection.close()
                    best = (info, connection)
                    if !graceStarted {
                        graceStarted = true
                        Task {
                            try? await Task.sleep(nanoseconds: UInt64(Self.answerGrace.nanoseconds))
                            sink.yield(.graceOver)
                        }
                    }
                } else {
                    connection.close()
                    failures.append("\(connection.address): no chain yet")
                }
            }
            unanswered -= 1
            if unanswered == 0 { break }
        }
        sink.finish()
        guard let (info, probe) = best, let head = info.head else {
            throw HeadNotFound(error: .network("no head reachable (\(failures.joined(separator: "; ")))"),
                               everyServerRefused: !addresses.isEmpty && refused == addresses.count)
        }
        let connection: Connection
        if head.host == probe.host && head.port == probe.port {
            connection = probe
        } else {
            probe.close()
            do {
                connection = try await connect(host: head.host, port: head.port)
            } catch let error as ChainKVError where error.isUnauthorized {
                throw error
            } catch let error as ChainKVError {
                throw HeadNotFound(error: error, everyServerRefused: false)
            }
        }
        let previous = state.withLockedValue { s -> Connection? in
            let old = s.head
            s.head = connection
            s.known = info.members.map { ($0.host, $0.port) }
            return old
        }
        if let previous, previous !== connection {
            // Requests may still be in flight on the old connection: give them their timeout.
            previous.channel.eventLoop.scheduleTask(in: options.requestTimeout) { previous.close() }
        }
        return connection
    }

    /// Asks one server where the head is.
    private func probe(host: String, port: Int) async -> ProbeResult {
        let connection: Connection
        do {
            connection = try await Connection.connect(host: host, port: port, group: group,
                                                      timeout: min(options.connectTimeout, options.probeTimeout * 2),
                                                      security: options.security)
        } catch let error as ChainKVError where error.isUnauthorized {
            return .unauthorized(error)
        } catch {
            return .failed("\(host):\(port): cannot connect: \(error)", refused: isConnectionRefused(error))
        }
        do {
            let reply = try await connection.request(.getHead, timeout: options.probeTimeout)
            switch reply {
            case .chain(let info):
                return .chain(info, connection)
            case .error(.unauthorized, _):
                connection.close()
                return .unauthorized(unexpected(reply))
            default:
                connection.close()
                return .failed("\(host):\(port): unexpected reply \(reply.kind)", refused: false)
            }
        } catch {
            connection.close()
            return .failed("\(host):\(port): \(error)", refused: false)
        }
    }
}
