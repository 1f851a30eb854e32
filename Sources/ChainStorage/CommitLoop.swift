import CSQLite
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

private let logger = Logger(label: "chainkv.storage.group-commit")

/// The committer thread and the state it shares with submitters.
///
/// `@unchecked Sendable`: every `var` below is read and written only while holding `monitor`
/// (the store and callbacks are used only by the committer thread, or under the exclusive-job
/// handshake).
final class CommitLoop: @unchecked Sendable {
    private let store: Store
    private let maxBatch: Int
    private let delay: CommitDelay
    private let onDurable: @Sendable (UInt64, Int, Duration) -> Void
    private let onError: @Sendable (StorageError) -> Void
    private let monitor = Monitor()

    // Guarded by `monitor`.
    /// Submitted updates; those before `head` were already taken by the committer.
    private var queue: [StoredUpdate] = []
    private var head = 0
    /// Count of updates ever queued / ever taken for a batch; jobs are ordered against them.
    private var submittedCount = 0
    private var takenCount = 0
    private var jobs: [ExclusiveJob] = []
    private var stopping = false
    private var exited = false
    private var failure: StorageError?
    private var committerThread: pthread_t?
    /// Updates in the last batch taken (`CommitDelay`).
    private var lastBatch = 0
    /// Set while the committer waits for a batch as large as the last (`CommitDelay`): a
    /// submission that leaves fewer queued than this does not wake it, only to wait again.
    private var delayTarget: Int?

    init(store: Store, maxBatch: Int, delay: CommitDelay,
         onDurable: @escaping @Sendable (UInt64, Int, Duration) -> Void,
         onError: @escaping @Sendable (StorageError) -> Void) {
        self.store = store
        self.maxBatch = maxBatch
        self.delay = delay
        self.onDurable = onDurable
        self.onError = onError
    }

    func start() {
        // The thread holds this loop until `run` returns, so the loop outlives the facade's deinit.
        DetachedThread.start("group commit") { self.run() }
    }

    // MARK: Called by any thread

    func submit<C: Collection>(_ updates: C) where C.Element == StoredUpdate {
        guard !updates.isEmpty else { return }
        monitor.withLock {
            guard !stopping, failure == nil else { return }
            checkOrder(of: updates)
            submittedCount += updates.count
            wakeCommitter(adding: updates.count)
            queue.append(contentsOf: updates)
        }
    }

    /// Wakes the committer for `added` updates about to be queued, unless it is waiting for a
    /// larger batch than they make (`CommitDelay`): it would only wait again. Only under `monitor`.
    private func wakeCommitter(adding added: Int) {
        if let delayTarget, queue.count - head + added < delayTarget { return }
        monitor.broadcast()
    }

    /// The submission's seqs increase strictly, from above the last one still queued. Only under `monitor`.
    private func checkOrder<C: Collection>(of updates: C) where C.Element == StoredUpdate {
        var previous = head < queue.count ? queue[queue.count - 1].seq : nil
        for update in updates {
            if let previous {
                precondition(previous < update.seq, "submitted seqs must be strictly increasing: \(previous) then \(update.seq)")
            }
            previous = update.seq
        }
    }

    func submit(taking updates: inout [StoredUpdate]) {
        guard !updates.isEmpty else { return }
        let swapped = monitor.withLock { () -> Bool in
            guard !stopping, failure == nil else { return false }
            checkOrder(of: updates)
            submittedCount += updates.count
            wakeCommitter(adding: updates.count)
            guard head == queue.count else {
                queue.append(contentsOf: updates)
                return false
            }
            // Nothing left untaken: the submitted array becomes the queue.
            queue.removeAll(keepingCapacity: true)
            head = 0
            swap(&queue, &updates)
            return true
        }
        // Outside the lock: releasing the copies (or what a stopped committer ignores) is not its work.
        if !swapped { updates.removeAll(keepingCapacity: true) }
        assert(updates.isEmpty, "the caller's array comes back empty")
    }

    func run(exclusive body: @escaping @Sendable (Store) -> Void) throws {
        if monitor.withLock({ isCommitterThread }) {
            // Called from onDurable/onError: the thread is between batches already, and
            // waiting for itself would deadlock.
            body(store)
            return
        }
        let job = ExclusiveJob(body: body)
        try monitor.withLock {
            if let failure { throw failure }
            guard !stopping else { throw StorageError.misuse("group committer is stopped") }
            job.barrier = submittedCount
            jobs.append(job)
            monitor.broadcast()
            while !job.finished { monitor.wait() }
            if let cancellation = job.cancellation { throw cancellation }
        }
    }

    func stop() {
        monitor.withLock {
            if !stopping {
                stopping = true
                monitor.broadcast()
            }
            if isCommitterThread { return }
            while !exited { monitor.wait() }
        }
    }

    /// Only under `monitor`.
    private var isCommitterThread: Bool {
        guard let committerThread else { return false }
        return pthread_equal(committerThread, pthread_self()) != 0
    }

    // MARK: The committer thread

    private enum Work {
        case batch([StoredUpdate])
        case job(ExclusiveJob)
        case exit
    }

    fileprivate func run() {
        ThreadName.set("ckv-commit")
        monitor.withLock { committerThread = pthread_self() }
        loop: while true {
            switch nextWork() {
            case .batch(let batch):
                guard commit(batch) else { break loop }
            case .job(let job):
                runJob(job)
                monitor.withLock {
                    job.finished = true
                    monitor.broadcast()
                }
            case .exit:
                break loop
            }
        }
        monitor.withLock {
            exited = true
            // Thread ids are reused after exit.
            committerThread = nil
            monitor.broadcast()
        }
    }

    /// Waits for the next thing to do: a job whose turn has come, else up to `maxBatch` queued
    /// updates (not crossing a job's barrier), once the commit delay allows, else exit when
    /// stopping.
    private func nextWork() -> Work {
        monitor.withLock {
            var waitingSince: UInt64?
            while true {
                if let job = jobs.first, job.barrier <= takenCount {
                    jobs.removeFirst()
                    return .job(job)
                }
                let pending = queue.count - head
                if pending > 0, jobs.isEmpty, !stopping {
                    let now = monotonicNanoseconds()
                    let since = waitingSince ?? now
                    waitingSince = since
                    if let wait = delay.remaining(lastBatch: lastBatch, pending: pending, waited: Int(now - since)) {
                        delayTarget = lastBatch
                        monitor.wait(nanoseconds: wait)
                        delayTarget = nil
                        continue
                    }
                }
                if pending > 0 {
                    var size = min(pending, maxBatch)
                    if let job = jobs.first {
                        size = min(size, job.barrier - takenCount)
                    }
                    takenCount += size
                    lastBatch = size
                    if head == 0 && size == queue.count {
                        // The whole queue: it becomes the batch without copying an update (each
                        // copy retained and later released the update's key, value and outcome).
                        let batch = queue
                        queue = []
                        return .batch(batch)
                    }
                    let batch = Array(queue[head ..< head + size])
                    head += size
                    // Compact once the taken prefix dominates, so the queue stays amortized O(1).
                    if head == queue.count {
                        queue.removeAll(keepingCapacity: true)
                        head = 0
                    } else if head > queue.count / 2 {
                        queue.removeFirst(head)
                        head = 0
                    }
                    return .batch(batch)
                }
                if stopping { return .exit }
                monitor.wait()
            }
        }
    }

    /// Commits one batch and reports it; on failure records it, reports it and returns false.
    private func commit(_ batch: [StoredUpdate]) -> Bool {
        let started = ContinuousClock.now
        do {
            try store.apply(batch)
        } catch {
            let storageError = error as? StorageError
                ?? StorageError(code: SQLITE_ERROR, message: "commit failed: \(error)")
            logger.error("group commit failed; no further updates will be committed", metadata: [
                "error": "\(storageError)",
                "batchSize": "\(batch.count)",
                "firstSeq": "\(batch.first?.seq ?? 0)",
            ])
            monitor.withLock {
                failure = storageError
                stopping = true
                queue.removeAll()
                head = 0
                for job in jobs {
                    job.body = nil
                    job.cancellation = storageError
                    job.finished = true
                }
                jobs.removeAll()
                monitor.broadcast()
            }
            onError(storageError)
            return false
        }
        // Ordered queue: the last update has the batch's highest seq.
        onDurable(batch[batch.count - 1].seq, batch.count, ContinuousClock.now - started)
        return true
    }

    /// A separate function so that its local reference to the job's closure is gone before the
    /// caller marks the job finished.
    @inline(never)
    private func runJob(_ job: ExclusiveJob) {
        let body = monitor.withLock { () -> (@Sendable (Store) -> Void)? in
            defer { job.body = nil }
            return job.body
        }
        body?(store)
    }
}

private func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}
