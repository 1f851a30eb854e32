import ChainKV
import Foundation

// chainkv_scan and chainkv_free_entries of include/chainkv.h.

/// `chainkv_entry` of the header, on LP64: key and value pointers, value_len (size_t), version
/// (uint64_t), 8 bytes each in that order, no padding. Written field by field at these offsets
/// rather than through a Swift struct, whose layout Swift does not promise.
enum CEntry {
    static let size = 32
    static let key = 0, value = 8, valueLen = 16, version = 24
}

@_cdecl("chainkv_scan")
public func chainkv_scan(_ prefix: UnsafePointer<CChar>?, _ from: UnsafePointer<CChar>?, _ to: UnsafePointer<CChar>?,
                         _ after: UnsafePointer<CChar>?, _ limit: Int, _ entries: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
                         _ count: UnsafeMutablePointer<Int>?, _ next: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    guard let entries, let count, let next, limit >= 1, limit <= ChainKVClient.scanLimitMax,
          prefix == nil || (from == nil && to == nil) else { return PaperClient.badArgument }
    let text = { (p: UnsafePointer<CChar>?) in p.map { String(cString: $0) } }
    let (status, page) = paper.scan(prefix: text(prefix), from: text(from), to: text(to), after: text(after), limit: limit)
    guard status == PaperClient.ok, let page else { return status }
    guard let array = handOut(page.entries) else { return PaperClient.networkError }
    var nextCopy: UnsafeMutablePointer<CChar>?
    if let key = page.next {
        guard let copy = copyOut(Array(key.utf8)) else {
            chainkv_free_entries(array, page.entries.count)
            return PaperClient.networkError
        }
        nextCopy = copy
    }
    entries.pointee = array
    count.pointee = page.entries.count
    next.pointee = nextCopy
    return PaperClient.ok
}

@_cdecl("chainkv_free_entries")
public func chainkv_free_entries(_ entries: UnsafeMutableRawPointer?, _ count: Int) {
    guard let entries else { return }
    for i in 0..<max(count, 0) {
        let entry = entries + i * CEntry.size
        free(entry.load(fromByteOffset: CEntry.key, as: UnsafeMutableRawPointer?.self))
        free(entry.load(fromByteOffset: CEntry.value, as: UnsafeMutableRawPointer?.self))
    }
    free(entries)
}

/// A malloc'd array of entries, each key and value a malloc'd copy (`copyOut`); nil if malloc
/// failed (whatever was allocated is freed). An empty page is a 1-byte allocation, never NULL.
private func handOut(_ page: [ScanEntry]) -> UnsafeMutableRawPointer? {
    guard let array = calloc(max(page.count, 1), CEntry.size) else { return nil }
    for (i, entry) in page.enumerated() {
        let slot = array + i * CEntry.size
        guard let key = copyOut(Array(entry.key.utf8)), let value = copyOut(entry.value) else {
            chainkv_free_entries(array, page.count)  // calloc'd: the slots not reached are NULL
            return nil
        }
        slot.storeBytes(of: UnsafeMutableRawPointer(key), toByteOffset: CEntry.key, as: UnsafeMutableRawPointer.self)
        slot.storeBytes(of: UnsafeMutableRawPointer(value), toByteOffset: CEntry.value, as: UnsafeMutableRawPointer.self)
        slot.storeBytes(of: entry.value.count, toByteOffset: CEntry.valueLen, as: Int.self)
        slot.storeBytes(of: entry.version, toByteOffset: CEntry.version, as: UInt64.self)
    }
    return array
}
