import Foundation

/// Cuts links between loopback addresses with nftables, for partition tests and the fault
/// runner: each server of a test cluster listens on an address of its own (127.0.1.x) and its
/// own connections leave from it (the server's `OutgoingSource`), so a rule "drop packets from A
/// to B" cuts the link A→B for every connection between them, whoever opened it (TCP then stalls
/// in both directions of those connections, as on a real network when one direction fails).
///
/// Rules live in a table of their own (`ip <name>`, an output hook: loopback packets pass it
/// once), so other traffic of the machine is untouched and `remove()` takes every rule away at
/// once. Needs root and `nft` (Debian's nftables, installed by scripts/deps).
public final class PacketFilter: @unchecked Sendable {
    public let table: String
    private let lock = NSLock()
    /// Each cut link with its rule's handle (what `heal(_:)` deletes).
    private var cuts: [Link: Int] = [:]

    /// A one-way link: packets from `from` to `to` (IPv4 addresses).
    public struct Link: Hashable, Sendable, CustomStringConvertible {
        public var from: String
        public var to: String
        public init(from: String, to: String) {
            self.from = from
            self.to = to
        }
        public var description: String { "\(from)->\(to)" }
    }

    /// Most links a filter may cut at once: a cluster of 16 addresses cut both ways everywhere.
    public static let cutsMax = 16 * 15

    /// Where nft is; nil when it is not installed.
    public static var nft: String? {
        ["/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Creates the table (empty: nothing is cut). `name` must be a short identifier.
    public init(name: String = "chainkv_cut_\(getpid())") throws {
        precondition(name.count <= 64 && name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }, "bad table name \(name)")
        table = name
        _ = try? Self.run(["delete", "table", "ip", name])  // a table left by a crashed run of the same name
        try Self.run(["add", "table", "ip", name])
        try Self.run(["add", "chain", "ip", name, "out", "{ type filter hook output priority 0 ; policy accept ; }"])
    }

    deinit { remove() }

    /// Drops every packet from `link.from` to `link.to` until `heal`.
    public func cut(_ link: Link) throws {
        try Self.checkAddress(link.from)
        try Self.checkAddress(link.to)
        try lock.withLock {
            guard cuts[link] == nil else { return }
            guard cuts.count < Self.cutsMax else { throw PacketFilterError("more than \(Self.cutsMax) cuts") }
            // --echo --handle prints the rule back with its handle ("... drop # handle 7").
            let echo = try Self.run(["--echo", "--handle", "add", "rule", "ip", table, "out", "ip", "saddr", link.from, "ip", "daddr", link.to, "drop"])
            guard let range = echo.range(of: "# handle "),
                  let handle = Int(echo[range.upperBound...].prefix { $0.isNumber }) else {
                throw PacketFilterError("nft printed no handle for the rule \(link): \(echo)")
            }
            cuts[link] = handle
        }
    }

    /// Takes the cut of one link away (nothing if it is not cut); other cuts stay.
    public func heal(_ link: Link) throws {
        try lock.withLock {
            guard let handle = cuts[link] else { return }
            try Self.run(["delete", "rule", "ip", table, "out", "handle", "\(handle)"])
            cuts[link] = nil
        }
    }

    /// Cuts both directions between `a` and `b`.
    public func cutBoth(_ a: String, _ b: String) throws {
        try cut(Link(from: a, to: b))
        try cut(Link(from: b, to: a))
    }

    /// Links cut now.
    public var cutLinks: Set<Link> { lock.withLock { Set(cuts.keys) } }

    /// Takes every cut away (the table stays, empty).
    public func heal() throws {
        try lock.withLock {
            try Self.run(["flush", "chain", "ip", table, "out"])
            cuts = [:]
        }
    }

    /// Deletes the table; idempotent.
    public func remove() {
        lock.withLock {
            _ = try? Self.run(["delete", "table", "ip", table])
            cuts = [:]
        }
    }

    /// The names of the machine's `ip` tables (empty if nft is missing or fails).
    public static func tableNames() -> [String] {
        guard let text = try? run(["list", "tables"]) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            let words = line.split(separator: " ")
            return words.count == 3 && words[0] == "table" && words[1] == "ip" ? String(words[2]) : nil
        }
    }

    /// Deletes the `ip` table `name` (one a crashed process of ours left); idempotent.
    public static func deleteTable(_ name: String) {
        _ = try? run(["delete", "table", "ip", name])
    }

    private static func checkAddress(_ text: String) throws {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts.allSatisfy({ UInt8($0) != nil }) else { throw PacketFilterError("not an IPv4 address: \(text)") }
    }

    /// Runs nft and returns what it printed.
    @discardableResult
    private static func run(_ arguments: [String]) throws -> String {
        guard let nft else { throw PacketFilterError("nft is not installed (apt-get install nftables)") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: nft)
        process.arguments = arguments
        let errors = Pipe(), output = Pipe()
        process.standardError = errors
        process.standardOutput = output
        try process.run()
        // nft prints little (a rule, a list of tables): read both to the end, then reap.
        let printed = output.fileHandleForReading.readDataToEndOfFile()
        let failure = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let text = String(decoding: failure, as: UTF8.self)
            throw PacketFilterError("nft \(arguments.joined(separator: " ")): \(text.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return String(decoding: printed, as: UTF8.self)
    }
}

public struct PacketFilterError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
