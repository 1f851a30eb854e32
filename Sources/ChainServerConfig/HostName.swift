#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The checks on the configuration's host fields (`host`, `advertisedHost`, `metricsHost`): their
/// syntax, the wildcards, and whether this machine can listen on one.
public enum HostName {
    /// Why `text` is not a host name or an IP address (nil: it is one). A name is 1–253
    /// characters of letters, digits, `-` and `.`; an address is IPv4 or IPv6 (without brackets).
    public static func problem(_ text: String) -> String? {
        guard !text.isEmpty, text.utf8.count <= 253 else { return "must be a host name or an IP address of 1–253 characters" }
        if isIPv4(text) || isIPv6(text) { return nil }
        let nameOK = text.utf8.allSatisfy { c in
            (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c == 0x2d || c == 0x2e
        }
        guard nameOK, !text.hasPrefix("-"), !text.hasPrefix("."), !text.contains("..") else {
            return "must be a host name or an IP address, got \"\(text)\""
        }
        return nil
    }

    /// `0.0.0.0` or `::` (every interface): a place to listen, not an address to dial.
    public static func isWildcard(_ text: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return v4.s_addr == 0 }
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { $0.allSatisfy { $0 == 0 } } }
        return false
    }

    public static func isIPv4(_ text: String) -> Bool {
        var a = in_addr()
        return inet_pton(AF_INET, text, &a) == 1
    }

    public static func isIPv6(_ text: String) -> Bool {
        var a = in6_addr()
        return inet_pton(AF_INET6, text, &a) == 1
    }

    /// `host:port`, with an IPv6 address in brackets.
    public static func join(_ host: String, _ port: Int) -> String {
        isIPv6(host) ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Why this machine cannot listen on `host` (nil: it can): the name does not resolve, or no
    /// interface holds the address. Binds a TCP socket to port 0 of each resolved address and
    /// closes it, so nothing is held.
    public static func listenProblem(_ host: String) -> String? {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, "0", &hints, &list)
        guard rc == 0, let first = list else { return "cannot resolve \(host): \(String(cString: gai_strerror(rc)))" }
        defer { freeaddrinfo(first) }
        var lastError: Int32 = 0
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let e = entry {
            let fd = socket(e.pointee.ai_family, e.pointee.ai_socktype, e.pointee.ai_protocol)
            if fd >= 0 {
                let bound = bind(fd, e.pointee.ai_addr, e.pointee.ai_addrlen) == 0
                lastError = errno
                close(fd)
                if bound { return nil }
            } else {
                lastError = errno
            }
            entry = e.pointee.ai_next
        }
        return "cannot listen on \(host): \(String(cString: strerror(lastError)))"
    }
}
