import NIOCore

extension Message {
    /// A client request a server may pass to a chain's head (`relay`, `relayed`): reads and
    /// writes of one key, a scan's page, a watch's poll.
    public var isRelayable: Bool { kind.isRelayable }
}

extension Message.Kind {
    /// See `Message.isRelayable`.
    public var isRelayable: Bool {
        switch self {
        case .get, .put, .delete, .getVersioned, .putVersioned, .deleteVersioned, .scan, .watch: return true
        default: return false
        }
    }
}

/// `relay` and `relayed`: the chain id, the inner request's type byte, then its body, as `onChain` carries its message.
extension MessageCodec {
    static func encodeRelayBody(_ chain: String, _ inner: Message, into b: inout ByteBuffer) {
        precondition(inner.isRelayable, "only a keyed client request is relayed, not \(inner.kind)")
        writeShort(chain, &b)
        b.writeInteger(inner.kind.rawValue)
        encodeBody(inner, into: &b)
    }

    static func decodeRelayBody(_ outer: Message.Kind, _ body: inout ByteBuffer) throws(WireError) -> Message {
        let chain = try readChainID(&body)
        let type = try readU8(&body, "relayed type")
        guard let kind = Message.Kind(rawValue: type) else { throw .invalidField("relay of unknown type \(type)") }
        // Checked before the inner body is decoded: a frame of relays inside relays is refused at
        // its second byte, not decoded by a recursion as deep as the frame is long, and a relay
        // is never a second hop.
        guard kind.isRelayable else { throw .invalidField("relay of \(kind), which is not a keyed client request") }
        let inner = try decode(type: type, body: &body)
        return outer == .relay ? .relay(chain: chain, inner) : .relayed(chain: chain, inner)
    }
}
