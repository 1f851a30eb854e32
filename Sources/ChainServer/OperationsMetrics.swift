import ChainBench
import ChainVersion
import Metrics

/// What an operator's dashboard watches besides requests and chains: the build, the ZooKeeper
/// session, inbound connections, state transfers sent, and the process's CPU and memory. Each
/// metric is defined next to its `MetricFamily` (name, HELP text, buckets), as in `ServerMetrics`.
/// The handlers are thread-safe: the connection figures are kept from every channel's thread.
final class OperationsMetrics: @unchecked Sendable {
    static let buildInfoFamily = MetricFamily("chainkv_build_info",
        "Always 1; the labels version and commit name the build of this server.")
    let buildInfo = Gauge(label: buildInfoFamily.name, dimensions: [("version", ChainVersion.number), ("commit", ChainVersion.commit)])

    static let zookeeperConnectedFamily = MetricFamily("chainkv_zookeeper_connected",
        "1 while this server's ZooKeeper session is connected, else 0 (a server whose session expires exits).")
    let zookeeperConnected = Gauge(label: zookeeperConnectedFamily.name)

    static let connectionsOpenFamily = MetricFamily("chainkv_connections_open",
        "Inbound connections (clients and peers) open now.")
    let connectionsOpen = Gauge(label: connectionsOpenFamily.name)

    static let connectionsMaxFamily = MetricFamily("chainkv_connections_max",
        "The configured limit of inbound connections (maxConnections).")
    let connectionsMax = Gauge(label: connectionsMaxFamily.name)

    static let connectionsRefusedFamily = MetricFamily("chainkv_connections_refused_total",
        "Inbound connections refused because maxConnections were open.")
    let connectionsRefused = Counter(label: connectionsRefusedFamily.name)

    static let framingErrorsFamily = MetricFamily("chainkv_framing_errors_total",
        "Connections closed because what they sent was not a frame (oversized or garbled length): anyone can cause these.")
    let framingErrors = Counter(label: framingErrorsFamily.name)

    static let transfersFamily = MetricFamily("chainkv_state_transfers_total",
        "State transfers (snapshots) this server was asked to send as a chain's tail, by result: ok, failed, or refused (not the tail, or not asked by the leader).")
    private let transfers: [TransferResult: Counter] = Dictionary(uniqueKeysWithValues: TransferResult.allCases.map {
        ($0, Counter(label: transfersFamily.name, dimensions: [("result", $0.rawValue)]))
    })

    static let transferDurationFamily = MetricFamily("chainkv_state_transfer_duration_seconds",
        "Time to send one state transfer (snapshot), whether it succeeded or failed.", buckets: transferBuckets)
    let transferDuration = Metrics.Timer(label: transferDurationFamily.name)

    static let cpuFamily = MetricFamily("process_cpu_seconds_total", "User and system CPU time of the server process, in seconds.")
    private let cpu = FloatingPointCounter(label: cpuFamily.name)
    private var cpuMicrosCounted: UInt64 = 0

    static let residentFamily = MetricFamily("process_resident_memory_bytes", "Resident memory of the server process, in bytes.")
    private let resident = Gauge(label: residentFamily.name)

    static let families: [MetricFamily] = [
        buildInfoFamily, zookeeperConnectedFamily, connectionsOpenFamily, connectionsMaxFamily, connectionsRefusedFamily, framingErrorsFamily,
        transfersFamily, transferDurationFamily, cpuFamily, residentFamily,
    ]

    /// A snapshot of a large chain takes minutes, of a small one milliseconds.
    static let transferBuckets: [Duration] = [
        .milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
        .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(120), .seconds(300), .seconds(600),
    ]

    enum TransferResult: String, CaseIterable {
        case ok, failed, refused
    }

    init() {
        buildInfo.record(1)
        zookeeperConnected.record(0)
        connectionsOpen.record(0)
        // Every result's series exists from the start, so a rate over it is defined before the first transfer.
        for counter in transfers.values { counter.increment(by: 0) }
        connectionsRefused.increment(by: 0)
    }

    func transfer(_ result: TransferResult) {
        transfers[result]?.increment()
    }

    /// Reads the process's CPU time and resident memory. Called from the node's loop only (about once a second).
    func sampleProcess() {
        let micros = ProcessCPU.selfMicros()
        if micros > cpuMicrosCounted {
            cpu.increment(by: Double(micros - cpuMicrosCounted) / 1_000_000)
            cpuMicrosCounted = micros
        }
        if let bytes = ProcessMemory.residentBytes() { resident.record(Int64(clamping: bytes)) }
    }
}
