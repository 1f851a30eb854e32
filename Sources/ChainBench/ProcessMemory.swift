#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Resident memory of this process, from /proc/self/statm (Linux only), for the server's
/// `process_resident_memory_bytes`.
public enum ProcessMemory {
    /// Resident pages (statm's second field) from the text of /proc/<pid>/statm; nil if the text is not such a line.
    public static func residentPages(statmText: String) -> UInt64? {
        let fields = statmText.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard fields.count >= 2, let pages = UInt64(fields[1]) else { return nil }
        return pages
    }

    /// Resident bytes of this process, or nil where /proc/self/statm cannot be read (not Linux).
    public static func residentBytes() -> UInt64? {
        guard let text = ProcessCPU.readSmallFile("/proc/self/statm"), let pages = residentPages(statmText: text) else { return nil }
        let (bytes, overflow) = pages.multipliedReportingOverflow(by: UInt64(pageSize))
        return overflow ? nil : bytes
    }

    /// Bytes per page (sysconf(_SC_PAGESIZE), 4096 on x86-64 Linux).
    public static let pageSize: Int = {
        let p = sysconf(Int32(_SC_PAGESIZE))
        return p > 0 ? p : 4096
    }()
}
