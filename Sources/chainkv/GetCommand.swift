import ArgumentParser
import ChainKV
import Foundation

struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the value of a key (exit 1 if it does not exist).")
    @OptionGroup var server: ServerOptions
    @Flag(name: .long, help: "Print a JSON object.") var json = false
    @Argument(help: "The key.") var key: String

    func run() async throws {
        let value = try await server.withClient { try await $0.get(key) }
        if json {
            printJSON(["key": key, "found": value != nil, "value": value.map(text)])
        } else if let value {
            print(text(value))
        } else {
            FileHandle.standardError.write(Data("chainkv: no such key: \(key)\n".utf8))
        }
        if value == nil { throw ExitCode(ExitStatus.notFound.rawValue) }
    }
}
