#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging

/// The server's log lines, one per event on standard error, in logfmt with the message first:
///
///     ts=2026-12-05T00:44:53.123Z level=notice msg="slot move done: 12 slots ..." from=c1 pauseMs=96 logger=chainkv.n1
///
/// `ts` is UTC with milliseconds; the event's fields follow the message sorted by key, then the
/// logger's label. A value is written bare unless it is empty or holds a space, `=`, `"`, `\` or a
/// control character; then it is quoted, with `"` and `\` escaped and newlines, tabs and carriage
/// returns written `\n`, `\t`, `\r` (other control characters as `\u{..}`), so every event is one
/// line that `(\w+)=("[^"]*"|\S+)` splits into its fields (a quoted value holding `"` aside).
public struct LogfmtLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String

    public init(label: String, level: Logger.Level, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.logLevel = level
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = metadata
        if let provided = metadataProvider?.get() { fields.merge(provided) { _, new in new } }
        if let explicit = event.metadata { fields.merge(explicit) { _, new in new } }
        if let error = event.error { fields["error"] = "\(error)" }
        let (level, message) = (event.level, event.message)
        var text = Self.format(millisecondsSinceEpoch: Self.now(), level: level, message: message.description, fields: fields, label: label)
        text.append("\n")
        // One write(2) per line: lines of different threads never interleave.
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { return }
            offset += n
        }
        bytes.removeAll()
    }

    /// One event as its line (without the newline).
    public static func format(millisecondsSinceEpoch ms: Int64, level: Logger.Level, message: String, fields: Logger.Metadata,
                              label: String) -> String {
        var line = "ts=\(timestamp(ms)) level=\(level.rawValue) msg=\(value(message))"
        for key in fields.keys.sorted() {
            line += " \(Self.key(key))=\(value(fields[key]!.description))"
        }
        line += " logger=\(value(label))"
        return line
    }

    /// `2026-12-05T00:44:53.123Z` for milliseconds since 1970 (UTC; a time before 1970 reads as 1970).
    static func timestamp(_ ms: Int64) -> String {
        let ms = max(0, ms)
        var seconds = time_t(ms / 1000)
        let millis = Int(ms % 1000)
        var parts = tm()
        guard gmtime_r(&seconds, &parts) != nil else { return "\(ms)ms" }
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let frac = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : "\(millis)"
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(frac)Z"
    }

    /// A key as logfmt allows it: letters, digits, `_`, `.` and `-`; anything else becomes `_`.
    static func key(_ key: String) -> String {
        let clean = String(key.unicodeScalars.map { scalar -> Character in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", "_", ".", "-": return Character(scalar)
            default: return "_"
            }
        })
        return clean.isEmpty ? "_" : clean
    }

    /// A value bare when it can be, else quoted and escaped.
    static func value(_ text: String) -> String {
        let plain = !text.isEmpty && text.unicodeScalars.allSatisfy { $0.value > 0x20 && $0 != "=" && $0 != "\"" && $0 != "\\" && $0.value != 0x7f }
        if plain { return text }
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case _ where scalar.value < 0x20 || scalar.value == 0x7f: out += "\\u{\(String(scalar.value, radix: 16))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    private static func now() -> Int64 {
        var t = timespec()
        clock_gettime(CLOCK_REALTIME, &t)
        return Int64(t.tv_sec) * 1000 + Int64(t.tv_nsec) / 1_000_000
    }
}
