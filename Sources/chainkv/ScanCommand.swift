import ArgumentParser
import ChainKV
import Foundation

struct Scan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List keys in key order: those with a prefix, or a range.",
        discussion: """
        Keys are in the order of their UTF-8 bytes. Prints one line per key, "key<TAB>value" (the
        value as text; --keys-only: the key alone; --version: "key<TAB>version<TAB>value"). --json
        prints {"entries": [{"key", "value" (null when not UTF-8), "valueBase64", "version"}],
        "next": the key to pass as --after for more, or null}. At most --limit keys are printed
        (0: all); when more remain, stderr says which --after continues.

        Each chain's part of the result is its committed state at one point; the cluster's
        chains are read one page at a time (README, "Scans").

        Examples:
          chainkv scan user/                       # every key that starts with user/
          chainkv scan --from a --to m --limit 10  # keys from a (inclusive) to m (exclusive)
          chainkv scan --keys-only ''              # every key
          chainkv scan --json --limit 100 user/ | jq -r '.entries[].key'
          chainkv scan --after user/0999 user/     # the next keys after user/0999

        Exit codes: 0 (also when no key matches), 2 usage error or bad key, 3 network error.
        """)
    @OptionGroup var server: ServerOptions
    @Flag(name: .long, help: "Print a JSON object.") var json = false
    @Argument(help: "Only keys that start with this (default: every key).") var prefix: String?
    @Option(name: .long, help: "The first key of a range (inclusive).") var from: String?
    @Option(name: .long, help: "The end of a range (exclusive).") var to: String?
    @Option(name: .long, help: "Start after this key (the \"next\" of an earlier scan).") var after: String?
    @Option(name: .long, help: "Most keys to print; 0: all (default 1000).") var limit = 1000
    @Flag(name: .long, help: "Print the keys only.") var keysOnly = false
    @Flag(name: .customLong("version"), help: "Also print each key's version.") var withVersion = false

    func validate() throws {
        if prefix != nil && (from != nil || to != nil) { throw ValidationError("give a prefix or --from/--to, not both") }
        if limit < 0 { throw ValidationError("--limit must be 0 or more") }
        if keysOnly && withVersion { throw ValidationError("--keys-only and --version exclude each other") }
    }

    func run() async throws {
        let pageMax = ChainKVClient.scanLimitMax
        var collected: [ScanEntry] = []  // --json only: printed as one object at the end
        var printed = 0
        var next = after
        try await server.withClient { client in
            repeat {
                let want = limit == 0 ? pageMax : min(pageMax, limit - printed)
                let page = from == nil && to == nil
                    ? try await client.scan(prefix: prefix ?? "", after: next, limit: want)
                    : try await client.scan(from: from, to: to, after: next, limit: want)
                if json { collected += page.entries } else { page.entries.forEach(printLine) }
                printed += page.entries.count
                next = page.next
            } while next != nil && (limit == 0 || printed < limit)
        }
        if json {
            let objects = collected.map { entry -> [String: Any?] in
                ["key": entry.key, "version": entry.version].merging(CLIOutput.jsonFields("value", entry.value)) { a, _ in a }
            }
            printJSON(["entries": objects.map { $0.mapValues { $0 ?? NSNull() } }, "next": next])
        } else if let next {
            FileHandle.standardError.write(Data("chainkv: more keys follow: continue with --after \(next)\n".utf8))
        }
    }

    private func printLine(_ entry: ScanEntry) {
        if keysOnly {
            print(entry.key)
        } else if withVersion {
            print("\(entry.key)\t\(entry.version)\t\(text(entry.value))")
        } else {
            print("\(entry.key)\t\(text(entry.value))")
        }
    }
}
