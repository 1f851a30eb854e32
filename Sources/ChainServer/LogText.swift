import ChainWire

/// How a peer's answer reads in a log line: words, not Swift's debug description of the enum
/// (`reply=success(ChainWire.Message.error(ChainWire.ErrorCode.refused, "…"))` before).
enum LogText {
    /// "refused: not the tail of chain c0 …" for an error, the message's kind otherwise, or the
    /// failure's own description.
    static func answer(_ result: Result<Message, Error>) -> String {
        switch result {
        case .success(.error(let code, let text)): return "\(code.label): \(text)"
        case .success(let message): return "\(message.kind)"
        case .failure(let error): return "no answer: \(error)"
        }
    }
}
