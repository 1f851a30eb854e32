import ChainCore
import ChainWire
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// libFuzzer entry point for the wire protocol (build and run with scripts/fuzz).
///
/// Every input is used three ways:
/// 1. as a byte stream from a peer: `FrameDecoder` splits it (in one piece, and again fed in small
///    chunks, which must give the same frames and the same error), every frame goes through
///    `RawFrame.decode`, and whatever decodes must encode back to exactly the bytes it came from;
/// 2. as one message body: the first byte picks the type, the rest is given to
///    `MessageCodec.decode(type:body:)`; a message that decodes must encode back to the same body;
/// 3. as a recipe for a message within the protocol's limits, which must survive encode → decode.
///
/// Decoding answers anything with a frame, an error or "need more data": never a crash, never a
/// byte invented, and never memory out of proportion to the input (in ASan builds the sanitizer's
/// allocator hooks measure every allocation made while decoding).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWire(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    checkStream(input)
    checkBody(input)
    checkRoundTrip(input)
    return 0
}

/// `FUZZ_SKIP=id,id...`: checks for known, reported bugs to leave out, so that a long run can look
/// for others while they are open.
private let skipped = Set((getenv("FUZZ_SKIP").map { String(cString: $0) } ?? "").split(separator: ",").map(String.init))

private func skipping(_ id: String) -> Bool { skipped.contains(id) }

/// `FUZZ_TRACE=1 fuzz-wire file...` prints what each input decoded to (for triaging reproducers).
private let tracing = getenv("FUZZ_TRACE") != nil

private func trace(_ line: @autoclosure () -> String) {
    if tracing { print("fuzz-wire: " + line()) }
}

// MARK: - 1. The stream

/// What the framing layer made of a stream: the frames (as bytes again) and how it ended (nil:
/// waiting for more data).
private struct StreamResult: Equatable {
    var frames: [[UInt8]] = []
    var end: WireError? = nil
}

private func checkStream(_ input: [UInt8]) {
    var buffer = ByteBuffer(bytes: input)
    var oneShot = StreamResult()
    var decoded: [(range: Range<Int>, frame: Frame)] = []
    var waitingAt = 0  // where the frame the decoder waits for starts
    let usage = AllocationMeter.measure {
        var decoder = FrameDecoder()
        while true {
            let start = buffer.readerIndex
            waitingAt = start
            let raw: RawFrame?
            do throws(WireError) { raw = try decoder.nextFrame(&buffer) } catch {
                oneShot.end = error
                break
            }
            guard let raw else { break }
            let range = start..<buffer.readerIndex
            let declared = Int(input[start]) << 24 | Int(input[start + 1]) << 16 | Int(input[start + 2]) << 8 | Int(input[start + 3])
            check(range.count == 4 + declared, "frame spans \(range.count) bytes, its length field says 4 + \(declared)", input)
            check(raw.body.readableBytes == declared - WireLimits.headerSize, "body of \(raw.body.readableBytes) bytes in a frame of \(declared)", input)
            let frameBytes = serialized(raw)
            check(frameBytes[...] == input[range], "frame (header or body) differs from its bytes in the stream", input)
            oneShot.frames.append(frameBytes)
            if let frame = try? raw.decode() {
                check(frame.requestID == raw.requestID && frame.message.kind.rawValue == raw.type, "header changed in decoding", input)
                check(payloadBytes(frame.message) <= raw.body.readableBytes, "message holds more bytes than its body", input)
                decoded.append((range, frame))
            }
        }
    }
    checkAllocations(usage, input.count, "stream", input)
    trace("stream: \(oneShot.frames.count) frames, \(decoded.count) decoded (\(decoded.map { "\($0.frame.message.kind)" }.joined(separator: ", "))), "
          + "end: \(oneShot.end.map { "\($0)" } ?? "needs more data (\(buffer.readableBytes) bytes pending)")\(usage.map { ", largest allocation \($0.largest), peak \($0.peak)" } ?? "")")

    // When the decoder waits for more, what is left must be an incomplete frame: shorter than its
    // length field says (the decoder may have consumed the length field already).
    if oneShot.end == nil, input.count - waitingAt >= 4 {
        let declared = Int(input[waitingAt]) << 24 | Int(input[waitingAt + 1]) << 16 | Int(input[waitingAt + 2]) << 8 | Int(input[waitingAt + 3])
        check(input.count - waitingAt < 4 + declared, "decoder waits for more data after a complete frame", input)
    }

    // Decoded frames encode back to exactly their bytes: the encoding is canonical.
    for (range, frame) in decoded {
        let again = MessageCodec.encode(frame)
        check(bytes(again)[...] == input[range], "re-encoded frame differs from the stream", input)
    }

    // The same stream arriving in pieces gives the same frames and the same end.
    let chunks = [1, 3, 2, 7, 64, 1, 13, 250, 5]
    var pieces = StreamResult()
    var decoder = FrameDecoder()
    var pending = ByteBuffer()
    var offset = 0, chunk = 0
    feeding: while offset < input.count {
        let n = min(chunks[chunk % chunks.count], input.count - offset)
        chunk += 1
        pending.writeBytes(input[offset..<(offset + n)])
        offset += n
        while true {
            do throws(WireError) {
                guard let raw = try decoder.nextFrame(&pending) else { break }
                pieces.frames.append(serialized(raw))
            } catch {
                pieces.end = error
                break feeding
            }
        }
    }
    check(pieces == oneShot, "chunked stream: \(pieces.frames.count) frames, end \(String(describing: pieces.end)); "
          + "in one piece: \(oneShot.frames.count) frames, end \(String(describing: oneShot.end))", input)
}

/// A raw frame as bytes again: length, version, type, request id, body.
private func serialized(_ raw: RawFrame) -> [UInt8] {
    var out = ByteBuffer()
    out.writeInteger(UInt32(WireLimits.headerSize + raw.body.readableBytes))
    out.writeInteger(raw.version)
    out.writeInteger(raw.type)
    out.writeInteger(raw.requestID)
    out.writeImmutableBuffer(raw.body)
    return bytes(out)
}

// MARK: - 2. One message body

private func checkBody(_ input: [UInt8]) {
    guard let first = input.first else { return }
    // Below 0x80 the byte is the type as is (unknown types included); above, it names one of the
    // kinds, so that every kind is one byte away.
    let type = first < 0x80 ? first : Message.Kind.allCases[Int(first) % Message.Kind.allCases.count].rawValue
    let bodyBytes = input.dropFirst()
    var body = ByteBuffer(bytes: bodyBytes)
    var result: Result<Message, WireError>?
    let usage = AllocationMeter.measure {
        do throws(WireError) { result = .success(try MessageCodec.decode(type: type, body: &body)) } catch { result = .failure(error) }
    }
    checkAllocations(usage, input.count, "body of type \(type)", input)
    trace("body of type \(type): \(result.map { r in (try? r.get()).map { "\($0.kind)" } ?? "error" } ?? "-")")
    guard case .success(let message) = result else {
        if case .failure(.unknownType) = result {
            check(Message.Kind(rawValue: type) == nil, "known type \(type) refused as unknown", input)
        }
        return
    }
    check(message.kind.rawValue == type, "type \(type) decoded as \(message.kind)", input)
    check(body.readableBytes == 0, "success with \(body.readableBytes) bytes unread", input)
    check(payloadBytes(message) <= bodyBytes.count, "message holds more bytes than its body", input)
    var encoded = MessageCodec.encode(Frame(requestID: 0x0123_4567_89ab_cdef, message))
    check(encoded.readInteger(as: UInt32.self).map(Int.init) == WireLimits.headerSize + bodyBytes.count, "length field", input)
    encoded.moveReaderIndex(forwardBy: WireLimits.headerSize)
    check(bytes(encoded)[...] == bodyBytes, "re-encoded body differs from the input", input)
}

// MARK: - 3. Messages within the limits survive a round trip

private func checkRoundTrip(_ input: [UInt8]) {
    var source = Recipe(input)
    let frame = Frame(requestID: source.u64(), source.message())
    var encoded = MessageCodec.encode(frame)
    let frameBytes = bytes(encoded)
    var decoder = FrameDecoder()
    let decoded: Frame
    do {
        guard let raw = try decoder.nextFrame(&encoded) else {
            fail("an encoded frame is incomplete to the decoder", frameBytes, "encoded frame")
        }
        decoded = try raw.decode()
    } catch {
        fail("a frame built within the limits fails to decode: \(error); message \(String(reflecting: frame.message).prefix(300))", frameBytes, "encoded frame")
    }
    check(encoded.readableBytes == 0, "bytes left after the frame", frameBytes, "encoded frame")
    var expected = frame
    if case .error(let code, let text) = frame.message {
        // The encoder cuts error texts to errorMessageSizeMax bytes, before a character's first
        // byte (a cut inside a character made the receiver refuse the frame: FuzzRegressionTests).
        let cut = MessageCodec.utf8Prefix(text, maxBytes: WireLimits.errorMessageSizeMax)
        expected.message = .error(code, String(decoding: cut, as: UTF8.self))
    }
    if case .onChain(let chain, .error(let code, let text)) = frame.message {
        let cut = MessageCodec.utf8Prefix(text, maxBytes: WireLimits.errorMessageSizeMax)
        expected.message = .onChain(chain: chain, .error(code, String(decoding: cut, as: UTF8.self)))
    }
    check(decoded == expected, "round trip changed the frame", frameBytes, "encoded frame")
}


/// Memory a decoder may use for an input of `n` bytes: a few times the input (arrays of decoded
/// structs are wider than their encoding; a row is 7 bytes on the wire, 24 in memory) plus a
/// constant for small fixed reservations (`membersMax` addresses). A decoder that believed a length
/// field (values up to 1 MiB, 4096 rows) breaks this at once.
private func checkAllocations(_ usage: AllocationMeter.Usage?, _ n: Int, _ what: String, _ input: [UInt8]) {
    guard let usage else { return }
    let limit = 8 * n + 16 << 10
    check(usage.largest <= limit, "\(what): one allocation of \(usage.largest) bytes for \(n) input bytes (limit \(limit))", input)
    check(usage.peak <= limit, "\(what): \(usage.peak) bytes live at the peak for \(n) input bytes (limit \(limit))", input)
}

/// The readable bytes in one copy (iterating a ByteBufferView byte by byte is slow in a debug build).
private func bytes(_ buffer: ByteBuffer) -> [UInt8] {
    buffer.withUnsafeReadableBytes { Array($0) }
}

private func check(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String, _ bytes: [UInt8],
                   _ what: String = "input") {
    if !condition() { fail(message(), bytes, what) }
}

/// Stops with the message and the bytes in hex (libFuzzer then saves the input as a crash file).
private func fail(_ message: String, _ bytes: [UInt8], _ what: String = "input") -> Never {
    let hex = bytes.prefix(2048).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    fatalError("fuzz-wire: \(message)\n\(what) (\(bytes.count) bytes): \(hex)\(bytes.count > 2048 ? "…" : "")")
}

// MARK: - Allocation meter

/// Counts the bytes allocated while a closure runs, through the malloc/free hooks of the sanitizer
/// allocator (present in `--sanitize=address` builds; without it `measure` reports nothing).
enum AllocationMeter {
    struct Usage {
        /// Largest single allocation.
        var largest: Int
        /// Highest growth of live heap bytes over the start.
        var peak: Int
    }

    typealias MallocHook = @convention(c) (UnsafeRawPointer?, Int) -> Void
    typealias FreeHook = @convention(c) (UnsafeRawPointer?) -> Void
    typealias InstallHooks = @convention(c) (MallocHook?, FreeHook?) -> CInt
    typealias AllocatedSize = @convention(c) (UnsafeRawPointer?) -> Int

    nonisolated(unsafe) static var active = false
    nonisolated(unsafe) static var live = 0
    nonisolated(unsafe) static var peak = 0
    nonisolated(unsafe) static var largest = 0
    nonisolated(unsafe) static var allocatedSize: AllocatedSize? = nil

    static let installed: Bool = {
        // RTLD_DEFAULT (a null handle): the sanitizer runtime is linked into the executable.
        guard let install = dlsym(nil, "__sanitizer_install_malloc_and_free_hooks"),
              let size = dlsym(nil, "__sanitizer_get_allocated_size") else { return false }
        allocatedSize = unsafeBitCast(size, to: AllocatedSize.self)
        _ = (active, live, peak, largest)  // initialized before the hooks can read them
        let onMalloc: MallocHook = { _, n in
            guard AllocationMeter.active else { return }
            AllocationMeter.live += n
            if n > AllocationMeter.largest { AllocationMeter.largest = n }
            if AllocationMeter.live > AllocationMeter.peak { AllocationMeter.peak = AllocationMeter.live }
        }
        let onFree: FreeHook = { p in
            guard AllocationMeter.active, let p, let size = AllocationMeter.allocatedSize else { return }
            AllocationMeter.live -= size(p)
        }
        return unsafeBitCast(install, to: InstallHooks.self)(onMalloc, onFree) != 0
    }()

    static func measure(_ body: () -> Void) -> Usage? {
        guard installed else {
            body()
            return nil
        }
        live = 0
        peak = 0
        largest = 0
        active = true
        body()
        active = false
        return Usage(largest: largest, peak: peak)
    }
}
