internal import ChainTransport
internal import ChainWire
internal import NIOCore

/// Sending a keyed request and retrying it: to the head of the key's chain, or through another
/// server while that head does not answer this client (ChainKVClient+Relay).
extension ChainKVClient {
    /// Sends `message` to the head of `key`'s chain, retrying until the budget runs out. Retrying
    /// a write is safe because it carries the same request id each time, on every path.
    func execute(_ message: Message, key: String, idempotent: Bool) async throws -> Message {
        let deadline = NIODeadline.now() + TimeAmount(options.retryBudget)
        var backoff = TimeAmount.milliseconds(5)
        var lastError: ChainKVError = .network("no attempt made")
        /// The chain an attempt may have reached the head of: then a write's outcome is unknown.
        /// Only that chain's replicas remember the request, so a write is retried only there.
        var maybeAppliedOn: String?
        var maybeApplied: Bool { maybeAppliedOn != nil }
        /// Since when every server refused our connections, round after round.
        var refusedSince: NIODeadline?
        /// Servers that relayed none of this request's attempts (no head they could reach, or no
        /// answer): later attempts try other servers first.
        var relaysFailed: Set<ServerKey> = []
        /// Whether a retry names its chain (`relayed`): not once a server answered that it does
        /// not know the message (a server older than relays, during a rolling upgrade).
        var namingChain = true
        while true {
            do {
                let (target, chain) = try await target(for: key, skipping: relaysFailed)
                if !idempotent, let earlier = maybeAppliedOn, earlier != chain {
                    // The key's slot moved to another chain since an attempt whose outcome is
                    // unknown: a move copies values, not request outcomes, so the new chain would
                    // take the retry as a new write (applying a put twice, or failing a condition
                    // its first attempt met). Report the outcome as unknown instead.
                    throw ClientGiveUp(error: .chainFailure(
                        "the key moved from chain \(earlier) to chain \(chain) after an attempt whose outcome is unknown (\(lastError))"))
                }
                let server = target.server
                // A retry of a write that may have applied names its chain (`relayed`): a head
                // whose map places the key in another chain answers `moved`, never taking it as
                // a new write of a chain that does not know the first attempt.
                let outgoing: Message = !target.isRelay && maybeApplied && !idempotent && namingChain ? .relayed(chain: chain, message)
                    : target.message(message, chain: chain)
                do {
                    let reply = try await target.connection.request(outgoing, timeout: options.requestTimeout)
                    switch reply {
                    case .error(.unauthorized, _):
                        throw unexpected(reply)
                    case .error(.notHead, _), .error(.unavailable, _):
                        // Refused before sequencing: not applied. A relaying server's connection
                        // stays; the routes are asked for again, and another server relays next.
                        if target.isRelay { relaysFailed.insert(server) }
                        refused(by: target)
                        lastError = unexpected(reply)
                    case .moved(let slot, let mapVersion):
                        invalidateRoutes()  // refused before sequencing: not applied
                        lastError = .network("slot \(slot) moved (the server's map is version \(mapVersion)); asking for the map again")
                    case .error(.overloaded, _):
                        lastError = unexpected(reply)
                    case .error(.badRequest, _) where outgoing.kind == .relay || outgoing.kind == .relayed:
                        // A server older than relays ("unknown message type"): nothing was
                        // applied. Another server relays next; a retry goes as it did before.
                        if target.isRelay { relaysFailed.insert(server) } else { namingChain = false }
                        lastError = unexpected(reply)
                    case .error(.chainChanged, let text):
                        if target.isRelay { relaysFailed.insert(server) }
                        refused(by: target)
                        maybeAppliedOn = chain
                        lastError = .chainFailure(text)
                    default:
                        return reply
                    }
                } catch let error as ChainKVError where !error.isUnauthorized {
                    // No answer: a head may be gone, paused or cut off from this client (until it
                    // answers again, its chains' requests go through another server); a relaying
                    // server or the head behind it was slow or gone (another relays next).
                    noAnswer(from: target, error)
                    if target.isRelay { relaysFailed.insert(server) }
                    maybeAppliedOn = chain
                    lastError = error
                }
            } catch let giveUp as ClientGiveUp {
                throw giveUp.error
            } catch let notFound as HeadNotFound {
                // No head reachable: nothing was sent. Keep looking until the budget runs out,
                // unless no server is running at all.
                lastError = notFound.error
                if notFound.everyServerRefused {
                    let since = refusedSince ?? .now()
                    refusedSince = since
                    if NIODeadline.now() - since >= TimeAmount(options.refusedGiveUp) {
                        throw !idempotent && maybeApplied ? lastError.asWriteFailure : lastError
                    }
                } else {
                    refusedSince = nil
                }
            } catch let error as ChainKVError {
                // Refused for want of the right secret: retrying cannot help.
                if error.isUnauthorized { throw error }
                lastError = error
            }
            do {
                try await pause(&backoff, until: deadline)
            } catch {
                if !idempotent && maybeApplied { throw lastError.asWriteFailure }
                throw lastError
            }
        }
    }

    func pause(_ backoff: inout TimeAmount, until deadline: NIODeadline) async throws {
        guard NIODeadline.now() + backoff < deadline, !isClosed else {
            throw ChainKVError.timeout("retry budget spent")
        }
        try await Task.sleep(nanoseconds: UInt64(backoff.nanoseconds))
        // Capped low: a head failover takes well under a second, and the client should see the
        // new head within a few tens of milliseconds of it taking over.
        backoff = min(backoff * 2, .milliseconds(50))
    }
}

/// Thrown inside `execute` to end the retries with `error` as it is.
private struct ClientGiveUp: Error {
    let error: ChainKVError
}

extension ChainKVError {
    /// The connection failed or closed (not a refusal by the server or the client's own limit).
    var isBrokenConnection: Bool {
        switch self {
        case .network, .chainFailure: return true
        default: return false
        }
    }

    var isTimeout: Bool {
        if case .timeout = self { return true }
        return false
    }

    /// A write whose request may have reached the server: report it as a chain failure (status
    /// -2), since it may have been applied. `oldValueNotKept` too: the put was applied once (and
    /// a retry with the same id is never applied again), but its old value is gone.
    var asWriteFailure: ChainKVError {
        switch self {
        case .network, .timeout: return .chainFailure(description)
        case .server(let code, _) where code.isTransient: return .chainFailure(description)
        default: return self
        }
    }
}
