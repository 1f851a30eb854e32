import ChainCoordination
import ChainServer
import Foundation

/// libFuzzer entry point for the JSON decoders that read input from outside the process: znode
/// data (chain configuration, member records) and node configuration files.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? ChainConfig.decode(bytes)
    _ = try? MemberInfo.decode(bytes)
    if let config = try? JSONDecoder().decode(ServerConfig.self, from: Data(bytes)) {
        _ = try? config.validate()
    }
    return 0
}
