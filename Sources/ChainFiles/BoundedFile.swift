#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads of local files a user names (configuration, the shared secret, ZooKeeper credentials)
/// that stop at a bound: a path naming a huge file or a device (`/dev/zero`) costs at most the
/// bound, where reading the whole file first and checking its size after could exhaust memory.
public enum BoundedFile {
    /// The first `max` bytes of the file at `path` (fewer if it is shorter); nil if it cannot be
    /// opened or read. Read `limit + 1` bytes to tell a file over `limit` apart.
    public static func readPrefix(_ path: String, max: Int) -> [UInt8]? {
        precondition(max >= 0, "a read bound is not negative")
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: max)
        var count = 0
        while count < max {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + count, max - count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { return nil }
            if n == 0 { break }
            count += n
        }
        return Array(bytes.prefix(count))
    }

    /// What `contents(of:limit:)` found.
    public enum Read: Equatable, Sendable {
        case contents([UInt8])
        /// The file is longer than the limit (it was not read past `limit + 1` bytes).
        case tooLarge
        /// It cannot be opened or read.
        case unreadable
    }

    /// The whole file at `path` when it is at most `limit` bytes (read no further than `limit + 1`).
    public static func contents(of path: String, limit: Int) -> Read {
        guard let bytes = readPrefix(path, max: limit + 1) else { return .unreadable }
        return bytes.count > limit ? .tooLarge : .contents(bytes)
    }
}
