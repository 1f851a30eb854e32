import ChainKV

// The calls of include/chainkv.h beside the five: versions and conditional writes. Status codes
// as for the five, plus 2: the condition failed (nothing applied; *version is the current one).

@_cdecl("chainkv_get_version")
public func chainkv_get_version(_ key: UnsafePointer<CChar>?, _ value: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                                _ valueLen: UnsafeMutablePointer<Int>?, _ version: UnsafeMutablePointer<UInt64>?) -> Int32 {
    guard let key, let value, let valueLen, let version else { return PaperClient.badArgument }
    let (status, v, found) = paper.getVersion(String(cString: key))
    version.pointee = found
    if status == PaperClient.ok, let v, !handOut(v, to: value, length: valueLen) { return PaperClient.networkError }
    return status
}

@_cdecl("chainkv_put_if")
public func chainkv_put_if(_ key: UnsafePointer<CChar>?, _ value: UnsafePointer<CChar>?, _ valueLen: Int,
                           _ ifVersion: UInt64, _ version: UnsafeMutablePointer<UInt64>?) -> Int32 {
    guard let key, let bytes = valueIn(value, valueLen) else { return PaperClient.badArgument }
    let (status, v) = paper.put(String(cString: key), bytes, ifVersion: ifVersion)
    version?.pointee = v
    return status
}

@_cdecl("chainkv_delete_if")
public func chainkv_delete_if(_ key: UnsafePointer<CChar>?, _ ifVersion: UInt64, _ version: UnsafeMutablePointer<UInt64>?) -> Int32 {
    guard let key else { return PaperClient.badArgument }
    let (status, v) = paper.delete(String(cString: key), ifVersion: ifVersion)
    version?.pointee = v
    return status
}
