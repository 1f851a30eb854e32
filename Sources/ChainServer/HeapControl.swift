#if canImport(Glibc)
import Glibc
#endif

/// glibc's heap controls. Swift's Glibc module does not import <malloc.h>, so they are looked
/// up at run time; elsewhere (or if absent) they do nothing.
public enum HeapControl {
    private typealias TrimFunction = @convention(c) (Int) -> Int32
    private typealias OptFunction = @convention(c) (Int32, Int32) -> Int32

    /// Returns free heap pages of every arena to the system (`malloc_trim(0)`).
    @Sendable public static func trim() {
        #if canImport(Glibc)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return }
        _ = unsafeBitCast(symbol, to: TrimFunction.self)(0)
        #endif
    }

    /// Caps the number of malloc arenas (`mallopt(M_ARENA_MAX, n)`); true if it was set.
    @discardableResult
    public static func limitArenas(_ n: Int32) -> Bool {
        #if canImport(Glibc)
        let arenaMax: Int32 = -8  // M_ARENA_MAX in <malloc.h>
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return false }
        return unsafeBitCast(symbol, to: OptFunction.self)(arenaMax, n) == 1
        #else
        return false
        #endif
    }
}
