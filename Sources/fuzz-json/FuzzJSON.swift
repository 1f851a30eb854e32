import ChainCoordination
import ChainServerConfig
import Foundation

/// libFuzzer entry point for the JSON decoders that read input from outside the process: znode
/// data (chain configuration, member records) and node configuration files (build and run with
/// scripts/fuzz).
///
/// Each decoder must answer any bytes with a value or an error, never a crash; and what it accepts
/// must survive its own encoder: znode data is written compact with sorted keys so that the same
/// content always gives the same bytes, so encode → decode → encode must give those bytes again.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))

    if let config = try? ChainConfig.decode(bytes) {
        guard let encoded = try? config.encoded() else { fail("a decoded chain configuration does not encode", bytes) }
        guard let again = try? ChainConfig.decode(encoded) else { fail("an encoded chain configuration does not decode", bytes) }
        check(again == config, "chain configuration changed in a round trip", bytes)
        check((try? again.encoded()) == encoded, "chain configuration encodes to different bytes the second time", bytes)
    }

    if let member = try? MemberInfo.decode(bytes) {
        guard let encoded = try? member.encoded() else { fail("a decoded member record does not encode", bytes) }
        guard let again = try? MemberInfo.decode(encoded) else { fail("an encoded member record does not decode", bytes) }
        check(again == member, "member record changed in a round trip", bytes)
        check((try? again.encoded()) == encoded, "member record encodes to different bytes the second time", bytes)
    }

    // As ServerConfig.load reads a file (it refuses files over 64 KiB before parsing).
    if bytes.count <= 64 << 10, let config = try? JSONDecoder().decode(ServerConfig.self, from: Data(bytes)),
       (try? config.validate()) != nil {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let encoded = try? encoder.encode(config) else { fail("a valid node configuration does not encode", bytes) }
        guard let again = try? JSONDecoder().decode(ServerConfig.self, from: encoded) else {
            fail("an encoded node configuration does not decode", bytes)
        }
        check(again == config, "node configuration changed in a round trip", bytes)
        check((try? again.validate()) != nil, "node configuration invalid after a round trip", bytes)
    }
    return 0
}

private func check(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String, _ input: [UInt8]) {
    if !condition() { fail(message(), input) }
}

private func fail(_ message: String, _ input: [UInt8]) -> Never {
    let text = String(decoding: input.prefix(1024), as: UTF8.self)
    fatalError("fuzz-json: \(message)\ninput (\(input.count) bytes): \(String(reflecting: text))")
}
