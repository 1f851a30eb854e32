import ArgumentParser
import ChainKV
import Foundation

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the chain in order, head first.")
    @OptionGroup var server: ServerOptions
    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() async throws {
        let client = try server.client()
        defer { client.shutdown() }
        do {
            let info = try await client.chain()
            let rows: [(String, String, String)] = info.members.enumerated().map { i, m in
                let role = info.members.count == 1 ? "head+tail" : i == 0 ? "head" : i == info.members.count - 1 ? "tail" : "middle"
                return (m.id, "\(m.host):\(m.port)", role)
            }
            if json {
                printJSON(["epoch": info.epoch, "nodes": rows.map { ["id": $0.0, "address": $0.1, "role": $0.2] }])
            } else {
                print("epoch \(info.epoch)")
                print("ID".padding(toLength: 10, withPad: " ", startingAt: 0) + "ADDRESS".padding(toLength: 22, withPad: " ", startingAt: 0) + "ROLE")
                for r in rows {
                    print(r.0.padding(toLength: 10, withPad: " ", startingAt: 0) + r.1.padding(toLength: 22, withPad: " ", startingAt: 0) + r.2)
                }
            }
        } catch let e as ChainKVError {
            fail(e)
        }
    }
}
