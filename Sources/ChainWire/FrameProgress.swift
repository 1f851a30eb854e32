import NIOCore

/// Follows frame boundaries in a byte stream without buffering it, so a handler in front of the
/// frame decoder can tell whether the bytes received so far stop inside a frame (a client that
/// sends a frame slowly, or only part of one, is then timed out: see `frameReadTimeoutMs`).
///
/// It reads only the 4-byte length fields and skips bodies, so it costs a few steps per frame,
/// not per byte. A length the decoder refuses (over `frameSizeMax`) is followed all the same: the
/// decoder closes that connection first.
public struct FrameProgress: Sendable {
    /// Bytes of the current length field seen (0–3).
    private var lengthBytesSeen = 0
    private var length: UInt32 = 0
    /// Body bytes of the current frame not yet seen.
    private var bodyRemaining = 0

    public init() {}

    /// True when the stream so far ends inside a frame (a length field or a body is incomplete).
    public var insideFrame: Bool { lengthBytesSeen > 0 || bodyRemaining > 0 }

    /// Feeds the next bytes of the stream; returns how many frames they completed.
    @discardableResult
    public mutating func consume(_ buffer: ByteBuffer) -> Int {
        buffer.withUnsafeReadableBytes { bytes in consume(bytes) }
    }

    public mutating func consume(_ bytes: UnsafeRawBufferPointer) -> Int {
        var completed = 0
        var i = 0
        while i < bytes.count {
            if bodyRemaining > 0 {
                let step = min(bodyRemaining, bytes.count - i)
                bodyRemaining -= step
                i += step
                if bodyRemaining == 0 { completed += 1 }
            } else {
                length = length << 8 | UInt32(bytes[i])
                lengthBytesSeen += 1
                i += 1
                if lengthBytesSeen == 4 {
                    bodyRemaining = Int(length)
                    if bodyRemaining == 0 { completed += 1 }  // malformed (the decoder refuses it), but over
                    lengthBytesSeen = 0
                    length = 0
                }
            }
        }
        return completed
    }
}
