/// What one watcher of a checked workload received: the events of its stream in the order they
/// arrived, and the points where it had to resume past a gap (its chain's history no longer held
/// its cursor: `WatchCompacted`). `WatchChecker` checks it against the history of the writes.
public struct RecordedWatch: Equatable, Sendable {
    public struct Event: Equatable, Sendable {
        public var key: String
        /// nil: the key was deleted.
        public var value: [UInt8]?
        public var version: UInt64
        /// When it arrived, on the history's clock.
        public var time: UInt64

        public init(key: String, value: [UInt8]?, version: UInt64, time: UInt64) {
            self.key = key
            self.value = value
            self.version = version
            self.time = time
        }
    }

    /// A gap: the stream ended compacted and the watcher went on from the oldest point the chain
    /// still held. Changes committed before `time` may be missing; none after it.
    public struct Resume: Equatable, Sendable {
        /// When the watcher resumed (after the compaction reply arrived), on the history's clock.
        public var time: UInt64
        /// How many events had arrived before it: the gap lies between event `index - 1` and `index`.
        public var index: Int

        public init(time: UInt64, index: Int) {
            self.time = time
            self.index = index
        }
    }

    /// A name for reports ("prefix k", "key k0").
    public var name: String
    /// The watched keys: those starting with `prefix`, or exactly `prefix` when `exact`.
    public var prefix: String
    public var exact: Bool
    /// Sharded: a version's chain is its low 8 bits (`PublicVersions`); else one chain.
    public var sharded: Bool
    public var events: [Event]
    public var resumes: [Resume]

    public init(name: String, prefix: String, exact: Bool, sharded: Bool, events: [Event] = [], resumes: [Resume] = []) {
        self.name = name
        self.prefix = prefix
        self.exact = exact
        self.sharded = sharded
        self.events = events
        self.resumes = resumes
    }

    public func watches(_ key: String) -> Bool {
        exact ? key == prefix : key.hasPrefix(prefix)
    }

    /// The chain a version belongs to.
    public func chain(of version: UInt64) -> UInt64 {
        sharded ? version & 0xFF : 0
    }

    /// The time of the last resume (0: none), before which a write may have fallen into a gap.
    public var lastResume: UInt64 { resumes.map(\.time).max() ?? 0 }

    /// Whether a gap lies between event positions `a` and `b` (a < b; a = -1: the start).
    func gap(between a: Int, and b: Int) -> Bool {
        resumes.contains { $0.index > a && $0.index <= b }
    }
}
