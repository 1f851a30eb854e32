import ChainFiles
import Foundation

/// The CLI's optional config file: where the servers and ZooKeeper are, so scripts need not pass
/// them every time. Unknown fields are an error (a typo must not be ignored).
struct ClientConfigFile: Decodable {
    var servers: [String]?
    var zookeeper: String?
    var cluster: String?
    /// The cluster's shared secret file and the TLS CA certificates to trust (TLS on when set).
    var secretFile: String?
    var tlsCAFile: String?

    enum CodingKeys: String, CodingKey, CaseIterable { case servers, zookeeper, cluster, secretFile, tlsCAFile }

    init(servers: [String]? = nil, zookeeper: String? = nil, cluster: String? = nil) {
        self.servers = servers
        self.zookeeper = zookeeper
        self.cluster = cluster
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        servers = try c.decodeIfPresent([String].self, forKey: .servers)
        zookeeper = try c.decodeIfPresent(String.self, forKey: .zookeeper)
        cluster = try c.decodeIfPresent(String.self, forKey: .cluster)
        secretFile = try c.decodeIfPresent(String.self, forKey: .secretFile)
        tlsCAFile = try c.decodeIfPresent(String.self, forKey: .tlsCAFile)
        let known = Set(CodingKeys.allCases.map(\.stringValue))
        if let extra = try decoder.container(keyedBy: AnyKey.self).allKeys.first(where: { !known.contains($0.stringValue) }) {
            throw ConfigFileError(message: "unknown field \(extra.stringValue)")
        }
    }

    /// The explicit file (flag), else $CHAINKV_CONFIG, else ~/.config/chainkv/client.json if it
    /// exists; an explicitly named file must exist.
    static func load(explicit: String?) throws -> ClientConfigFile {
        let env = ProcessInfo.processInfo.environment
        let named = explicit ?? env["CHAINKV_CONFIG"]
        let path = named ?? (env["HOME"].map { $0 + "/.config/chainkv/client.json" } ?? "")
        let data: Data
        switch BoundedFile.contents(of: path, limit: 64 << 10) {
        case .contents(let bytes): data = Data(bytes)
        case .tooLarge: throw ConfigFileError(message: "config file \(path) is over 64 KiB")
        case .unreadable:
            if let named { throw ConfigFileError(message: "cannot read config file \(named)") }
            return ClientConfigFile()
        }
        do {
            return try JSONDecoder().decode(ClientConfigFile.self, from: data)
        } catch let e as ConfigFileError {
            throw ConfigFileError(message: "\(path): \(e.message)")
        } catch {
            throw ConfigFileError(message: "\(path) is not a valid config file (\(error))")
        }
    }
}

struct ConfigFileError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

private struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
