import Foundation
import Logging

/// Where the CLI's logs go: stderr (stdout holds the command's output, which scripts parse), at
/// `$CHAINKV_LOG_LEVEL` (trace, debug, info, notice, warning, error, critical; default warning).
///
/// The ZooKeeper C client reports every refused reconnection at ERROR (dozens of lines a second
/// against a ZooKeeper that is down). The CLI says in one line of its own when ZooKeeper does not
/// answer, so the C client's lines are demoted to debug here: `CHAINKV_LOG_LEVEL=debug` shows them.
enum CLILogging {
    /// The label ChainCoordination gives the C client's log lines.
    static let zooKeeperClientLabel = "chainkv.zookeeper.c"

    /// - Parameter quietZooKeeper: drop every ZooKeeper log line below critical (`bench failover`
    ///   stops ZooKeeper servers on purpose).
    static func bootstrap(quietZooKeeper: Bool = false) {
        let raw = ProcessInfo.processInfo.environment["CHAINKV_LOG_LEVEL"]?.lowercased() ?? ""
        let level = Logger.Level(rawValue: String(raw.prefix(16))) ?? .warning
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            if quietZooKeeper && label.hasPrefix("chainkv.zookeeper") {
                handler.logLevel = .critical
                return handler
            }
            return label == zooKeeperClientLabel ? DemotedLogHandler(inner: handler, level: .debug) : handler
        }
    }
}

/// Logs every message at one fixed level (at most `level`), whatever level it was sent with.
struct DemotedLogHandler: LogHandler {
    var inner: StreamLogHandler
    let level: Logger.Level

    var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }

    var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        var event = event
        event.level = min(event.level, level)
        // Logger filtered by the original level; filter again by the demoted one.
        guard event.level >= inner.logLevel else { return }
        inner.log(event: event)
    }
}
