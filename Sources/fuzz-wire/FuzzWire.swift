import ChainWire
import NIOCore

/// libFuzzer entry point: the bytes are a stream from a peer. The framing decoder and every
/// message decoder must answer anything with a frame, an error or "need more data", never a
/// crash or an unbounded allocation.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWire(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var buffer = ByteBuffer(bytes: UnsafeBufferPointer(start: data, count: size))
    var decoder = FrameDecoder()
    while true {
        guard let raw = try? decoder.nextFrame(&buffer) else { break }
        if let frame = try? raw.decode() {
            // Whatever decodes must encode back to a frame that decodes to the same message.
            var again = MessageCodec.encode(frame)
            var second = FrameDecoder()
            precondition((try? second.nextFrame(&again)?.decode()) == frame, "decode/encode round trip")
        }
    }
    return 0
}
