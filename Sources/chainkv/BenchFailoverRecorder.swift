import Foundation
import Synchronization

/// Collects the failover run's results as they come and rewrites failover.json after each kill, so
/// an interrupted run still leaves what it measured.
final class BenchFailoverRecorder: Sendable {
    private let file: Mutex<BenchFailoverFile>
    let url: URL

    init(_ file: BenchFailoverFile, url: URL) {
        self.file = Mutex(file)
        self.url = url
    }

    var current: BenchFailoverFile { file.withLock { $0 } }

    func add(_ kill: BenchFailoverKill) {
        file.withLock {
            $0.kills.append(kill)
            $0.summary = BenchFailoverSummary.of($0.kills)
        }
        save()
    }

    func problem(_ text: String) {
        BenchFailoverLog.say("problem: " + text)
        file.withLock { $0.problems.append(text) }
        save()
    }

    /// Fills in the summary and the end time.
    func finish(duration: Double) -> BenchFailoverFile {
        let done = file.withLock { f -> BenchFailoverFile in
            f.summary = BenchFailoverSummary.of(f.kills)
            f.finishedAt = ISO8601DateFormatter().string(from: Date())
            f.durationSeconds = duration
            return f
        }
        save()
        return done
    }

    func save() {
        let snapshot = current
        do {
            try snapshot.write(to: url)
        } catch {
            BenchFailoverLog.write("failover: cannot write \(url.path): \(error)\n")
        }
    }
}
