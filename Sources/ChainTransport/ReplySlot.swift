internal import ChainWire
internal import NIOCore

/// Where the reply to one request goes: the promise behind a future (`Connection.send`), or the
/// continuation of the task waiting for it (`Connection.request`).
///
/// The continuation saves a promise, its future and a callback per request (cut 32: resolving the
/// promise and `whenComplete` were about a tenth of the bench client's CPU with 32 closed-loop
/// readers).
///
/// Completed exactly once: `ResponseHandler` removes the request from its table before it
/// completes the slot (or completes it at once and never stores it), so no reply, timeout or
/// close can reach it twice. An unsafe continuation resumed twice is undefined behaviour, which
/// is why that rule is kept where the table is, and nowhere else completes a slot.
enum ReplySlot: Sendable {
    case promise(EventLoopPromise<Message>)
    case continuation(UnsafeContinuation<Message, any Error>)

    func succeed(_ message: Message) {
        switch self {
        case .promise(let promise): promise.succeed(message)
        case .continuation(let continuation): continuation.resume(returning: message)
        }
    }

    func fail(_ error: any Error) {
        switch self {
        case .promise(let promise): promise.fail(error)
        case .continuation(let continuation): continuation.resume(throwing: error)
        }
    }
}
