import NIOCore

/// A frame whose header is parsed but whose body is not yet decoded: the handler still knows the
/// request id when the body is bad, so it can answer with an error instead of dropping the link.
public struct RawFrame: Sendable {
    public var version: UInt8
    public var type: UInt8
    public var requestID: UInt64
    public var body: ByteBuffer

    /// Decodes the body. Errors are per message; the stream stays usable.
    public func decode() throws(WireError) -> Frame {
        guard version == WireLimits.version else { throw .unsupportedVersion(version) }
        var body = self.body
        return Frame(requestID: requestID, try MessageCodec.decode(type: type, body: &body))
    }
}

/// Splits the byte stream into frames: `u32 length | u8 version | u8 type | u64 request id | body`.
///
/// A tiny state machine, as in NIO's own decoders: it first waits for the 4-byte length, checks it
/// against `frameSizeMax` at once (before buffering a byte of the body), then waits for the frame.
/// A length over the limit is a framing error: the stream cannot be resynchronized, so the
/// connection is closed by the pipeline's error handling.
public struct FrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = RawFrame

    enum State {
        case waitingForHeader
        case waitingForFrame(length: Int)
    }

    private var state = State.waitingForHeader
    private let frameSizeMax: Int

    public init(frameSizeMax: Int = WireLimits.frameSizeMax) {
        self.frameSizeMax = frameSizeMax
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try nextFrame(&buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A partial frame at EOF is simply discarded: the peer went away mid-message.
        try decode(context: context, buffer: &buffer)
    }

    /// The framing logic without a channel, for tests and the fuzz target.
    public mutating func nextFrame(_ buffer: inout ByteBuffer) throws(WireError) -> RawFrame? {
        while true {
            switch state {
            case .waitingForHeader:
                guard let length = buffer.readInteger(as: UInt32.self) else { return nil }
                let n = Int(length)
                guard n <= frameSizeMax else { throw .frameTooLarge(n) }
                guard n >= WireLimits.headerSize else { throw .frameTooSmall(n) }
                state = .waitingForFrame(length: n)
            case .waitingForFrame(let length):
                guard buffer.readableBytes >= length, var frame = buffer.readSlice(length: length) else { return nil }
                state = .waitingForHeader
                let version = frame.readInteger(as: UInt8.self)!
                let type = frame.readInteger(as: UInt8.self)!
                let requestID = frame.readInteger(as: UInt64.self)!
                return RawFrame(version: version, type: type, requestID: requestID, body: frame)
            }
        }
    }
}
