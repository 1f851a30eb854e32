import ArgumentParser
import ChainKV
import Foundation

struct Watch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print every committed change of a key, a prefix or a range as it happens.",
        discussion: """
        One line per change: "put<TAB>key<TAB>version<TAB>value" or "delete<TAB>key<TAB>version"
        (--json: one object per line, {"type", "key", "version", "value", "valueBase64", "cursor"}).
        It starts from now, or just after --after CURSOR (the "cursor" of an earlier change, so
        nothing in between is missed), and runs until interrupted or --count changes were
        printed. It rides out head failures and reconnects on its own.

        Examples:
          chainkv watch greeting
          chainkv watch --prefix user/
          chainkv watch --prefix user/ --json --count 10
          chainkv watch --prefix user/ --after 'c0:2817'   # resume after an earlier change

        Exit codes: 0 (interrupted, or --count reached), 2 usage error, 3 network error,
        7 the cursor is older than the history a chain keeps (the message names the oldest version).
        """)
    @OptionGroup var server: ServerOptions
    @Flag(name: .long, help: "Print one JSON object per change.") var json = false
    @Argument(help: "The key (or use --prefix, --from/--to).") var key: String?
    @Option(name: .long, help: "Watch every key that starts with this.") var prefix: String?
    @Option(name: .long, help: "The first key of a range (inclusive).") var from: String?
    @Option(name: .long, help: "The end of a range (exclusive).") var to: String?
    @Option(name: .long, help: "Resume just after this cursor.") var after: String?
    @Option(name: .long, help: "Stop after this many changes (0: never).") var count = 0

    func validate() throws {
        let forms = [key != nil, prefix != nil, from != nil || to != nil].filter { $0 }.count
        if forms != 1 { throw ValidationError("give a key, --prefix, or --from/--to (one of them)") }
        if count < 0 { throw ValidationError("--count must be 0 or more") }
        if let after, WatchCursor(after) == nil { throw ValidationError("--after: not a cursor (\"c0:1234,c1:56\")") }
    }

    func run() async throws {
        let cursor = after.flatMap { WatchCursor($0) }
        var printed = 0
        do {
            try await server.withClient { client in
                let stream: WatchStream
                if let key {
                    stream = try await client.watch(key: key, after: cursor)
                } else if let prefix {
                    stream = try await client.watch(prefix: prefix, after: cursor)
                } else {
                    stream = try await client.watch(from: from, to: to, after: cursor)
                }
                for try await event in stream {
                    printEvent(event)
                    printed += 1
                    if count > 0 && printed >= count { break }
                }
            }
        } catch let compacted as WatchCompacted {
            CLIFailure(code: "compacted", message: "\(compacted)", status: .compacted).exit()
        }
    }

    private func printEvent(_ event: WatchEvent) {
        if json {
            let fields: [String: Any?] = ["type": event.value == nil ? "delete" : "put", "key": event.key,
                                          "version": event.version, "cursor": event.cursor.description]
            printJSON(fields.merging(CLIOutput.jsonFields("value", event.value)) { a, _ in a })
        } else if let value = event.value {
            print("put\t\(event.key)\t\(event.version)\t\(text(value))")
        } else {
            print("delete\t\(event.key)\t\(event.version)")
        }
        fflush(nil)  // every output stream: each change shows at once, also through a pipe
    }
}
