import ChainCore
import ChainWire
import Metrics
import NIOCore

/// The server's metrics, through swift-metrics (exported as Prometheus text by `MetricsServer`).
/// Names and meanings are listed in the README ("Metrics"). Each metric is defined next to its
/// `MetricFamily`: the name, the `# HELP` text of the scrape and, for a timer, the histogram buckets
/// (`ChainMetricsFactory` applies them). Used on the node's loop only, except the storage figures,
/// which swift-metrics handlers take from any thread.
final class ServerMetrics: @unchecked Sendable {
    static let requestsFamily = MetricFamily("chainkv_requests_total",
        "Client requests answered, by type (get, put, delete), status (ok, missing, condition_failed, moved or the error code's name) and the key's chain.")
    private var requests = MetricHandles<Counter>()

    static let requestDurationFamily = MetricFamily("chainkv_request_duration_seconds",
        "Time from a request's arrival to its answer, by type (a write: until it committed at the tail and the ack came back).",
        buckets: latencyBuckets)
    private var latencies = MetricHandles<Metrics.Timer>()

    static let bytesReceivedFamily = MetricFamily("chainkv_bytes_received_total", "Bytes received on all connections (clients and peers).")
    let bytesIn = Counter(label: bytesReceivedFamily.name)

    static let bytesSentFamily = MetricFamily("chainkv_bytes_sent_total", "Bytes sent on all connections (clients and peers).")
    let bytesOut = Counter(label: bytesSentFamily.name)

    static let fsyncBatchFamily = MetricFamily("chainkv_fsync_batch_size",
        "Updates per group commit (one SQLite transaction, one fsync).")
    let fsyncBatch = Recorder(label: fsyncBatchFamily.name, aggregate: true)

    static let fsyncDurationFamily = MetricFamily("chainkv_fsync_duration_seconds", "Time of one group commit.", buckets: latencyBuckets)
    let fsyncDuration = Metrics.Timer(label: fsyncDurationFamily.name)

    static let reconfigurationsFamily = MetricFamily("chainkv_reconfigurations_total", "Chain configurations this server adopted.")
    let reconfigurations = Counter(label: reconfigurationsFamily.name)

    static let diskFullFamily = MetricFamily("chainkv_disk_full",
        "1 while this server's disk is full: it left its chains and waits for space (then restarts and rejoins), else 0.")
    let diskFull = Gauge(label: diskFullFamily.name)

    static let isLeaderFamily = MetricFamily("chainkv_is_leader", "1 while this server is the cluster's leader, else 0.")
    let isLeader = Gauge(label: isLeaderFamily.name)

    static let chainWritesFamily = MetricFamily("chainkv_leader_chain_writes_total", "Chain znode writes by this server as leader.")
    let chainWrites = Counter(label: chainWritesFamily.name)

    static let putPauseFamily = MetricFamily("chainkv_splice_put_pause_seconds",
        "How long writes waited for a new successor to catch up during a splice.", buckets: latencyBuckets)
    let putPause = Metrics.Timer(label: putPauseFamily.name)

    static let slotMovePauseFamily = MetricFamily("chainkv_slot_move_pause_seconds",
        "How long the slots of one move between chains were served by no chain (leader only).", buckets: latencyBuckets)
    let slotMovePause = Metrics.Timer(label: slotMovePauseFamily.name)

    /// The gauges of each chain this server serves, by chain id (label `chain`).
    private var chains: [String: ChainGauges] = [:]

    static let memberLagFamily = MetricFamily("chainkv_member_lag",
        "Leader only: how far each member is behind its chain's head (the head's received sequence minus the member's durable one, from the latest heartbeat replies), by chain and member.")
    private var memberLags: [String: Gauge] = [:]

    /// Build, ZooKeeper session, connections, state transfers, process CPU and memory.
    let operations = OperationsMetrics()

    /// Every family above: what `ChainMetricsFactory` gives its HELP text and buckets.
    static let families: [MetricFamily] = [
        requestsFamily, requestDurationFamily, bytesReceivedFamily, bytesSentFamily, fsyncBatchFamily, fsyncDurationFamily,
        reconfigurationsFamily, isLeaderFamily, chainWritesFamily, putPauseFamily, slotMovePauseFamily,
        memberLagFamily, diskFullFamily,
    ] + ChainGauges.families + OperationsMetrics.families

    /// Buckets of the latency histograms, 50 µs to 10 s: a loopback read takes tens of µs and an
    /// fsync hundreds, a failover's put pause up to seconds.
    static let latencyBuckets: [Duration] = [
        .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500),
        .milliseconds(1), .microseconds(2500), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]

    /// Counts one answered request of chain `chain`; `status` is "ok", "missing", "moved" or the
    /// error code's name.
    func request(_ type: String, status: String, chain: String) {
        requests.handle(.init(first: type, second: status, third: chain)) {
            Counter(label: Self.requestsFamily.name, dimensions: [("type", type), ("status", status), ("chain", chain)])
        }.increment()
    }

    func latency(_ type: String, since: NIODeadline) {
        latencies.handle(.init(first: type)) {
            Metrics.Timer(label: Self.requestDurationFamily.name, dimensions: [("type", type)])
        }.recordNanoseconds((NIODeadline.now() - since).nanoseconds)
    }

    /// The status label of a reply as it goes out: "ok", "missing", "condition_failed" (a
    /// conditional write that applied nothing), or its error code's label.
    static func status(_ reply: Message) -> String {
        switch reply {
        case .value(nil), .deleteResult(existed: false), .versionedValue(nil), .deleteVersionedResult(existed: false, _): return "missing"
        case .conditionFailed: return "condition_failed"
        case .compacted: return "compacted"
        case .error(let code, _): return code.label
        default: return "ok"
        }
    }

    /// Every tick, for each chain this server serves.
    func observe(_ replica: Replica, chain: String, watchesWaiting: Int) {
        gauges(chain).observe(replica, watchesWaiting: watchesWaiting)
    }

    /// About once a second, for each chain this server serves: its database's file sizes.
    func observeFiles(databasePath: String, chain: String) {
        gauges(chain).observeFiles(databasePath: databasePath)
    }

    private func gauges(_ chain: String) -> ChainGauges {
        if let g = chains[chain] { return g }
        let g = ChainGauges(chain: chain)
        chains[chain] = g
        return g
    }

    /// About once a second: each member's lag behind its chain's head, by chain (the leader's
    /// `Leader.memberLag`; empty when not leading). A series not in `lags` any more reads 0.
    func memberLag(_ lags: [String: [NodeID: UInt64]]) {
        var seen: Set<String> = []
        for (chain, members) in lags {
            for (member, lag) in members {
                let key = chain + "|" + member
                seen.insert(key)
                let gauge = memberLags[key] ?? Gauge(label: Self.memberLagFamily.name, dimensions: [("chain", chain), ("member", member)])
                memberLags[key] = gauge
                gauge.record(Int64(clamping: lag))
            }
        }
        for (key, gauge) in memberLags where !seen.contains(key) { gauge.record(0) }
    }
}

/// One metric family as the scrape shows it: its name, its `# HELP` text, and the buckets of a
/// timer's histogram (nil: swift-prometheus's defaults).
struct MetricFamily: Sendable {
    let name: String
    let help: String
    let buckets: [Duration]?

    init(_ name: String, _ help: String, buckets: [Duration]? = nil) {
        self.name = name
        self.help = help
        self.buckets = buckets
    }
}
