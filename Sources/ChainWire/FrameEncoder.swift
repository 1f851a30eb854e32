import NIOCore

/// Writes frames. Encoding is infallible: senders build only frames within the limits.
public struct FrameEncoder: MessageToByteEncoder {
    public typealias OutboundIn = Frame

    public init() {}

    public func encode(data: Frame, out: inout ByteBuffer) throws {
        MessageCodec.encode(data, into: &out)
    }
}
