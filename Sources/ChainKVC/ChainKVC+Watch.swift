import ChainKV
import Foundation

// chainkv_watch_open, chainkv_watch_next, chainkv_free_change and chainkv_watch_close of
// include/chainkv.h.

/// `chainkv_change` of the header, on LP64: key, value, value_len, version, cursor (8 bytes
/// each), then `int deleted` (4 bytes, padded to 48). Written field by field at these offsets.
enum CChange {
    static let key = 0, value = 8, valueLen = 16, version = 24, cursor = 32, deleted = 40
}

@_cdecl("chainkv_watch_open")
public func chainkv_watch_open(_ key: UnsafePointer<CChar>?, _ prefix: UnsafePointer<CChar>?, _ after: UnsafePointer<CChar>?)
    -> UnsafeMutableRawPointer? {
    let text = { (p: UnsafePointer<CChar>?) in p.map { String(cString: $0) } }
    guard case (PaperClient.ok, let watch?) = paper.watch(key: text(key), prefix: text(prefix), after: text(after)) else { return nil }
    return Unmanaged.passRetained(watch).toOpaque()
}

@_cdecl("chainkv_watch_next")
public func chainkv_watch_next(_ handle: UnsafeMutableRawPointer?, _ timeoutMs: Int32, _ change: UnsafeMutableRawPointer?) -> Int32 {
    guard let handle, let change else { return PaperClient.badArgument }
    let watch = Unmanaged<PaperWatch>.fromOpaque(handle).takeUnretainedValue()
    memset(change, 0, 48)
    switch watch.next(timeoutMs: Int(timeoutMs)) {
    case .change(let event):
        guard let key = copyOut(Array(event.key.utf8)), let cursor = copyOut(Array(event.cursor.description.utf8)) else {
            return PaperClient.networkError
        }
        var value: UnsafeMutablePointer<CChar>?
        if let bytes = event.value {
            guard let copy = copyOut(bytes) else { free(key); free(cursor); return PaperClient.networkError }
            value = copy
        }
        change.storeBytes(of: UnsafeMutableRawPointer(key), toByteOffset: CChange.key, as: UnsafeMutableRawPointer.self)
        change.storeBytes(of: value.map { UnsafeMutableRawPointer($0) }, toByteOffset: CChange.value, as: UnsafeMutableRawPointer?.self)
        change.storeBytes(of: event.value?.count ?? 0, toByteOffset: CChange.valueLen, as: Int.self)
        change.storeBytes(of: event.version, toByteOffset: CChange.version, as: UInt64.self)
        change.storeBytes(of: UnsafeMutableRawPointer(cursor), toByteOffset: CChange.cursor, as: UnsafeMutableRawPointer.self)
        change.storeBytes(of: Int32(event.value == nil ? 1 : 0), toByteOffset: CChange.deleted, as: Int32.self)
        return PaperClient.ok
    case .none:
        return 1
    case .compacted(let oldest):
        change.storeBytes(of: oldest, toByteOffset: CChange.version, as: UInt64.self)
        return 3
    case .failed:
        return PaperClient.networkError
    }
}

@_cdecl("chainkv_free_change")
public func chainkv_free_change(_ change: UnsafeMutableRawPointer?) {
    guard let change else { return }
    for offset in [CChange.key, CChange.value, CChange.cursor] {
        free(change.load(fromByteOffset: offset, as: UnsafeMutableRawPointer?.self))
        change.storeBytes(of: nil, toByteOffset: offset, as: UnsafeMutableRawPointer?.self)
    }
}

@_cdecl("chainkv_watch_close")
public func chainkv_watch_close(_ handle: UnsafeMutableRawPointer?) {
    guard let handle else { return }
    let watch = Unmanaged<PaperWatch>.fromOpaque(handle).takeRetainedValue()
    watch.close()
}
