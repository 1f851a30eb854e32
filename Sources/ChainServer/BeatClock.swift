import NIOCore

/// The clock of a periodic heartbeat check that does not blame peers for this server's own
/// stalls. When the check runs late (this process was paused or starved of CPU) nothing could be
/// read meanwhile, so the silence is ours: `beat` returns how much longer than `interval` this
/// server did not run, and the caller moves its peers' last-answer times forward by that much.
/// Used by the leader's heartbeats (`LeaderLinks`) and a candidate's watch (`CandidateWatch`).
struct BeatClock {
    let interval: TimeAmount
    private var lastBeat = NIODeadline.now()

    init(interval: TimeAmount) {
        self.interval = interval
    }

    /// Records a beat at `now`; the stall to excuse (zero when the beat came about on time: a
    /// delay of up to one more interval is ordinary scheduling jitter).
    mutating func beat(now: NIODeadline) -> TimeAmount {
        let stall = now - lastBeat - interval
        lastBeat = now
        return stall > interval ? stall : .zero
    }
}
