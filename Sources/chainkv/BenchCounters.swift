import ChainBench
import Foundation
import Histogram
import Synchronization

/// Counters shared by every loop of one point.
final class BenchShared: Sendable {
    let issued = Atomic<Int>(0)
    let done = Atomic<Int>(0)
    let failed = Atomic<Int>(0)
    let samples = Mutex<[String]>([])
    let start: UInt64
    let measureStart: UInt64
    let deadline: UInt64
    let ops: Int
    /// Servers whose CPU time the measured window records.
    let cpuPids: [Int]
    private let cpuStarted = Atomic<Bool>(false)
    /// CPU times when the first measured operation started; nil until then.
    let cpuStart = Mutex<CPUSnapshot?>(nil)

    init(ops: Int, warmup: Double, duration: Double, cpuPids: [Int] = []) {
        self.ops = ops
        self.cpuPids = cpuPids
        start = benchNow()
        measureStart = start + UInt64(warmup * 1e9)
        deadline = measureStart + UInt64(duration * 1e9)
    }

    /// Called by each loop before its first measured operation: the first call reads the CPU times
    /// the measured window starts from (a few /proc reads and a getrusage).
    func measuring() {
        guard cpuStarted.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        let snapshot = CPUSnapshot.take(pids: cpuPids)
        cpuStart.withLock { $0 = snapshot }
    }
}

/// One client's histograms; its loops record into them under a lock.
final class BenchCollector: Sendable {
    struct Stats {
        var get = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: BenchCollector.maxMicros, numberOfSignificantValueDigits: .three)
        var put = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: BenchCollector.maxMicros, numberOfSignificantValueDigits: .three)
        var getErrors: UInt64 = 0
        var putErrors: UInt64 = 0
        var missing: UInt64 = 0
        var samples: [String] = []
        var lastEnd: UInt64 = 0
    }

    static let maxMicros: UInt64 = 600_000_000
    let stats = Mutex(Stats())

    func record(get: Bool, micros: UInt64, end: UInt64, failure: String?, missing: Bool) {
        stats.withLock { s in
            if let failure {
                if get { s.getErrors += 1 } else { s.putErrors += 1 }
                if s.samples.count < 3, !s.samples.contains(failure) { s.samples.append(failure) }
            } else if missing {
                s.missing += 1
            } else if get {
                _ = s.get.record(Swift.min(micros, BenchCollector.maxMicros))
            } else {
                _ = s.put.record(Swift.min(micros, BenchCollector.maxMicros))
            }
            if end > s.lastEnd { s.lastEnd = end }
        }
    }
}

