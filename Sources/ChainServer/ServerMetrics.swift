import ChainCore
import ChainWire
import Metrics
import NIOCore

/// The server's metrics, through swift-metrics (exported as Prometheus text by `MetricsServer`).
/// Names and meanings are listed in the README ("Metrics"). Used on the node's loop only, except
/// the storage figures, which swift-metrics handlers take from any thread.
final class ServerMetrics: @unchecked Sendable {
    private var requests: [String: Counter] = [:]
    private var latencies: [String: Metrics.Timer] = [:]
    let bytesIn = Counter(label: "chainkv_bytes_received_total")
    let bytesOut = Counter(label: "chainkv_bytes_sent_total")
    let fsyncBatch = Recorder(label: "chainkv_fsync_batch_size", aggregate: true)
    let fsyncDuration = Metrics.Timer(label: "chainkv_fsync_duration_seconds")
    let reconfigurations = Counter(label: "chainkv_reconfigurations_total")
    let isLeader = Gauge(label: "chainkv_is_leader")
    /// The gauges of each chain this server serves, by chain id (label `chain`).
    private var chains: [String: ChainGauges] = [:]

    /// Where the server stands in one chain.
    struct ChainGauges {
        let epoch: Gauge
        /// Writes held here but not yet committed (received - stable).
        let uncommitted: Gauge
        /// How far the successor's acknowledgements trail what this server holds (received - acked).
        let successorLag: Gauge
        let isHead: Gauge

        init(chain: String) {
            let d = [("chain", chain)]
            epoch = Gauge(label: "chainkv_epoch", dimensions: d)
            uncommitted = Gauge(label: "chainkv_uncommitted_writes", dimensions: d)
            successorLag = Gauge(label: "chainkv_successor_lag", dimensions: d)
            isHead = Gauge(label: "chainkv_is_head", dimensions: d)
        }
    }
    let chainWrites = Counter(label: "chainkv_leader_chain_writes_total")
    let putPause = Metrics.Timer(label: "chainkv_splice_put_pause_seconds")
    /// Counts one answered request of chain `chain`; `status` is "ok", "missing", "moved" or the
    /// error code's name.
    func request(_ type: String, status: String, chain: String) {
        let key = type + "|" + status + "|" + chain
        if let c = requests[key] { c.increment(); return }
        let c = Counter(label: "chainkv_requests_total", dimensions: [("type", type), ("status", status), ("chain", chain)])
        requests[key] = c
        c.increment()
    }

    func latency(_ type: String, since: NIODeadline) {
        let t: Metrics.Timer
        if let existing = latencies[type] {
            t = existing
        } else {
            t = Metrics.Timer(label: "chainkv_request_duration_seconds", dimensions: [("type", type)])
            latencies[type] = t
        }
        t.recordNanoseconds((NIODeadline.now() - since).nanoseconds)
    }

    /// The status label of a reply as it goes out: "ok", "missing", or its error code's label.
    static func status(_ reply: Message) -> String {
        switch reply {
        case .value(nil), .deleteResult(existed: false): return "missing"
        case .error(let code, _): return code.label
        default: return "ok"
        }
    }

    /// Every tick, for each chain this server serves.
    func observe(_ replica: Replica, chain: String) {
        let g = chains[chain] ?? ChainGauges(chain: chain)
        chains[chain] = g
        g.epoch.record(Int64(replica.view.epoch))
        g.uncommitted.record(Int64(replica.received - replica.stable))
        g.successorLag.record(replica.view.successor(of: replica.id) == nil ? 0 : Int64(replica.received - min(replica.received, replica.successorAcked)))
        g.isHead.record(replica.role.isHead ? 1 : 0)
    }
}
