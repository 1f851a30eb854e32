import ChainKV
#if canImport(Glibc)
import Glibc
#endif

// The C ABI of include/chainkv.h. One client per process (the paper's model); every call is safe
// from several threads because PaperClient serializes its state and the client multiplexes.

let paper = PaperClient()

@_cdecl("chainkv_init")
public func chainkv_init(_ servers: UnsafePointer<UnsafePointer<CChar>?>?, _ port: Int32) -> Int32 {
    guard let servers else { return PaperClient.badArgument }
    var list: [String] = []
    var i = 0
    // The list is NULL-terminated; the bound keeps a missing terminator from walking memory forever.
    while let s = servers[i], i < 1024 {
        list.append(String(cString: s))
        i += 1
    }
    // The header's shape is fixed, so the shared secret and TLS come from the environment:
    // CHAINKV_SECRET_FILE and CHAINKV_TLS_CA_FILE. A file that cannot be used is a bad argument.
    guard let security = try? ConnectionSecurity.fromEnvironment() else { return PaperClient.badArgument }
    return paper.`init`(servers: list, port: Int(port), security: security)
}

@_cdecl("chainkv_get")
public func chainkv_get(_ key: UnsafePointer<CChar>?, _ value: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                        _ valueLen: UnsafeMutablePointer<Int>?) -> Int32 {
    guard let key, let value, let valueLen else { return PaperClient.badArgument }
    let (status, v) = paper.get(String(cString: key))
    if status == PaperClient.ok, let v, !handOut(v, to: value, length: valueLen) { return PaperClient.networkError }
    return status
}

@_cdecl("chainkv_put")
public func chainkv_put(_ key: UnsafePointer<CChar>?, _ value: UnsafePointer<CChar>?, _ valueLen: Int,
                        _ oldValue: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ oldLen: UnsafeMutablePointer<Int>?) -> Int32 {
    guard let key, let bytes = valueIn(value, valueLen) else { return PaperClient.badArgument }
    let (status, old) = paper.put(String(cString: key), bytes)
    if status == PaperClient.ok, let old, let oldValue, !handOut(old, to: oldValue, length: oldLen) { return PaperClient.networkError }
    return status
}

@_cdecl("chainkv_delete")
public func chainkv_delete(_ key: UnsafePointer<CChar>?) -> Int32 {
    guard let key else { return PaperClient.badArgument }
    return paper.delete(String(cString: key))
}

@_cdecl("chainkv_shutdown")
public func chainkv_shutdown() -> Int32 {
    paper.shutdown()
}

@_cdecl("chainkv_die")
public func chainkv_die(_ server: UnsafePointer<CChar>?, _ clean: Int32) -> Int32 {
    guard let server else { return PaperClient.badArgument }
    guard let security = try? ConnectionSecurity.fromEnvironment() else { return PaperClient.badArgument }
    paper.use(security)
    return paper.die(server: String(cString: server), clean: clean != 0)
}

@_cdecl("chainkv_free")
public func chainkv_free(_ p: UnsafeMutableRawPointer?) {
    free(p)
}

/// The bytes of a value argument (`value`, `valueLen`); nil, a bad argument, for a negative
/// length or NULL with a length. NULL with length 0 is the empty value.
func valueIn(_ value: UnsafePointer<CChar>?, _ valueLen: Int) -> [UInt8]? {
    guard value != nil || valueLen == 0, valueLen >= 0 else { return nil }
    return valueLen == 0 ? [] : Array(UnsafeRawBufferPointer(start: UnsafeRawPointer(value!), count: valueLen))
}

/// Hands a value to the caller: a copy (`copyOut`) in `*out` and its length in `*length` (when
/// given). False if malloc failed; nothing is written then.
func handOut(_ bytes: [UInt8], to out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>, length: UnsafeMutablePointer<Int>?) -> Bool {
    guard let copy = copyOut(bytes) else { return false }
    out.pointee = copy
    length?.pointee = bytes.count
    return true
}

/// A malloc'd copy with a trailing NUL (not counted in the length), so text values can be used as
/// C strings directly. Released by chainkv_free.
func copyOut(_ bytes: [UInt8]) -> UnsafeMutablePointer<CChar>? {
    guard let p = malloc(bytes.count + 1)?.assumingMemoryBound(to: CChar.self) else { return nil }
    bytes.withUnsafeBytes { src in
        if let base = src.baseAddress { memcpy(p, base, bytes.count) }
    }
    p[bytes.count] = 0
    return p
}
