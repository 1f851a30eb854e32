import ChainCore
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Metrics

/// Where this server stands in one chain it serves (label `chain`), and the size of that chain's
/// SQLite files. Kept by `ServerMetrics`, on the node's loop.
struct ChainGauges {
    static let epochFamily = MetricFamily("chainkv_epoch", "Epoch of the chain view this server acts in, by chain.")
    let epoch: Gauge
    static let uncommittedFamily = MetricFamily("chainkv_uncommitted_writes",
        "Writes this server holds in the chain that are not yet committed (received - stable), by chain.")
    let uncommitted: Gauge
    static let successorLagFamily = MetricFamily("chainkv_successor_lag",
        "Writes this server holds that its successor has not acknowledged (received - acked), by chain.")
    let successorLag: Gauge
    static let isHeadFamily = MetricFamily("chainkv_is_head", "1 while this server is the chain's head, else 0, by chain.")
    let isHead: Gauge
    static let appliedFamily = MetricFamily("chainkv_applied_seq",
        "Highest sequence number applied to this server's database (on disk, with every one before it), by chain.")
    let applied: Gauge
    static let committedFamily = MetricFamily("chainkv_committed_seq",
        "Highest sequence number this server knows committed at the tail, by chain.")
    let committed: Gauge
    static let databaseBytesFamily = MetricFamily("chainkv_database_bytes", "Size of the chain's SQLite database file, by chain.")
    let databaseBytes: Gauge
    static let walBytesFamily = MetricFamily("chainkv_wal_bytes", "Size of the chain's SQLite write-ahead log (-wal file), by chain.")
    let walBytes: Gauge

    static let watchesWaitingFamily = MetricFamily("chainkv_watches_waiting",
        "Watch requests waiting at this server for a change of the chain (long polls), by chain.")
    let watchesWaiting: Gauge

    static let families: [MetricFamily] = [
        epochFamily, uncommittedFamily, successorLagFamily, isHeadFamily, appliedFamily, committedFamily, databaseBytesFamily,
        walBytesFamily, watchesWaitingFamily,
    ]

    init(chain: String) {
        let d = [("chain", chain)]
        epoch = Gauge(label: Self.epochFamily.name, dimensions: d)
        uncommitted = Gauge(label: Self.uncommittedFamily.name, dimensions: d)
        successorLag = Gauge(label: Self.successorLagFamily.name, dimensions: d)
        isHead = Gauge(label: Self.isHeadFamily.name, dimensions: d)
        applied = Gauge(label: Self.appliedFamily.name, dimensions: d)
        committed = Gauge(label: Self.committedFamily.name, dimensions: d)
        databaseBytes = Gauge(label: Self.databaseBytesFamily.name, dimensions: d)
        walBytes = Gauge(label: Self.walBytesFamily.name, dimensions: d)
        watchesWaiting = Gauge(label: Self.watchesWaitingFamily.name, dimensions: d)
    }

    func observe(_ replica: Replica, watchesWaiting waiting: Int) {
        watchesWaiting.record(Int64(waiting))
        epoch.record(Int64(replica.view.epoch))
        uncommitted.record(Int64(replica.received - replica.stable))
        successorLag.record(replica.view.successor(of: replica.id) == nil ? 0 : Int64(replica.received - min(replica.received, replica.successorAcked)))
        isHead.record(replica.role.isHead ? 1 : 0)
        applied.record(Int64(clamping: replica.durable))
        committed.record(Int64(clamping: replica.stable))
    }

    /// Sizes of `databasePath` and its `-wal` file (0 for a file that is not there).
    func observeFiles(databasePath: String) {
        databaseBytes.record(Self.size(databasePath))
        walBytes.record(Self.size(databasePath + "-wal"))
    }

    private static func size(_ path: String) -> Int64 {
        var st = stat()
        guard stat(path, &st) == 0 else { return 0 }
        return Int64(st.st_size)
    }
}
