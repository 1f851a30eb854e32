import CSQLite
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Group commit on a dedicated thread: every update submitted while a commit is in progress goes
/// into the next single transaction (one fsync for the batch).
///
/// Order: updates are committed in submission order, and their seqs must be strictly increasing
/// in that order (a precondition; submit while holding whatever lock hands out seqs). A batch never
/// holds more than `maxBatch` updates.
///
/// Failure: if a commit fails, `onError` runs once, the updates still queued are dropped, pending
/// and later `withExclusiveStore` calls throw that error, later submissions are ignored, and the
/// thread exits. Nothing after the failed batch is ever reported durable.
///
/// The store belongs to the committer thread from `init` until `stop()` returns; touch it
/// meanwhile only through `withExclusiveStore`.
///
/// Checked `Sendable` (not `@unchecked`): its only state is the internally locked `CommitLoop`.
public final class GroupCommitter: Sendable {
    private let loop: CommitLoop

    /// `onDurable` runs on the committer thread after each successful commit with the batch's
    /// highest seq, the batch size and how long the commit (with its fsync) took. `onError` runs there if a commit fails (fatal for the server).
    /// Both may call `stop()` and `withExclusiveStore` (which then runs `body` at once, since the
    /// thread is between batches), but must not block waiting for later commits.
    public init(store: Store,
                maxBatch: Int = 1024,
                onDurable: @escaping @Sendable (_ lastSeq: UInt64, _ batchSize: Int, _ duration: Duration) -> Void,
                onError: @escaping @Sendable (StorageError) -> Void) {
        precondition(maxBatch > 0, "maxBatch must be positive")
        loop = CommitLoop(store: store, maxBatch: maxBatch, onDurable: onDurable, onError: onError)
        loop.start()
    }

    /// Dropping the committer stops it (committing what is queued) instead of leaking its thread.
    deinit {
        loop.stop()
    }

    /// Queues one update for the next batch. Thread-safe; takes a lock briefly, never waits for disk.
    /// After `stop()` or a failure the update is ignored: it never becomes durable or reported.
    public func submit(_ update: StoredUpdate) {
        loop.submit(CollectionOfOne(update))
    }

    /// Queues updates (strictly increasing seqs) for the next batches, like `submit(_:)`.
    public func submit(contentsOf updates: [StoredUpdate]) {
        loop.submit(updates)
    }

    /// Queues `updates` like `submit(contentsOf:)` and leaves `updates` empty. When the committer
    /// has taken everything queued before (the usual case: it is committing or waiting), the
    /// array itself becomes the queue, and `updates` gets the committer's empty one back: no
    /// update is copied, retained or released on the way (cut 17).
    public func submit(taking updates: inout [StoredUpdate]) {
        loop.submit(taking: &updates)
    }

    /// Runs `body` on the committer thread between batches (for reset/load/setEpoch with exclusive
    /// use of the store) and returns its result; blocks the caller. Updates submitted before this
    /// call are committed before `body` runs; later ones after it. Throws what `body` throws, or
    /// the commit failure / a "stopped" StorageError if `body` could not run.
    public func withExclusiveStore<T: Sendable>(_ body: @Sendable (Store) throws -> T) throws -> T {
        try withoutActuallyEscaping(body) { escapableBody in
            let box = ResultBox<T>()
            // The committer drops its references to this closure before it reports the job
            // finished, so nothing keeps `escapableBody` once `run` returns (which
            // withoutActuallyEscaping checks).
            try loop.run(exclusive: { store in box.result = Result { try escapableBody(store) } })
            guard let result = box.result else {
                preconditionFailure("exclusive job finished without a result")
            }
            return try result.get()
        }
    }

    /// Commits what is queued, then the thread exits; returns after that. Idempotent.
    /// Called on the committer thread (from a callback) it only asks the thread to stop.
    public func stop() {
        loop.stop()
    }
}

/// Hands a result from the committer thread to the blocked caller.
/// `@unchecked Sendable`: written once before the job is marked finished under the monitor's lock,
/// and read only after the caller saw that under the same lock.
private final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, any Error>?
}

private let logger = Logger(label: "chainkv.storage.group-commit")

/// The committer thread and the state it shares with submitters.
///
/// `@unchecked Sendable`: every `var` below is read and written only while holding `monitor`
/// (the store and callbacks are used only by the committer thread, or under the exclusive-job
/// handshake).
private final class CommitLoop: @unchecked Sendable {
    private let store: Store
    private let maxBatch: Int
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

    init(store: Store, maxBatch: Int,
         onDurable: @escaping @Sendable (UInt64, Int, Duration) -> Void,
         onError: @escaping @Sendable (StorageError) -> Void) {
        self.store = store
        self.maxBatch = maxBatch
        self.onDurable = onDurable
        self.onError = onError
    }

    func start() {
        // The thread owns a reference until `run` returns, so the loop outlives the facade's deinit.
        let context = Unmanaged.passRetained(self).toOpaque()
        #if canImport(Darwin)
        var thread: pthread_t?
        let rc = pthread_create(&thread, nil, { context in
            commitLoopMain(context)
            return nil
        }, context)
        #else
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { context in
            commitLoopMain(context!)
            return nil
        }, context)
        #endif
        guard rc == 0 else {
            Unmanaged<CommitLoop>.fromOpaque(context).release()
            preconditionFailure("cannot start the group commit thread: pthread_create returned \(rc)")
        }
        // Nobody joins it: stop() waits for `exited` instead, which any number of callers can do.
        #if canImport(Darwin)
        pthread_detach(thread!)
        #else
        pthread_detach(thread)
        #endif
    }

    // MARK: Called by any thread

    func submit<C: Collection>(_ updates: C) where C.Element == StoredUpdate {
        guard !updates.isEmpty else { return }
        monitor.withLock {
            guard !stopping, failure == nil else { return }
            checkOrder(of: updates)
            queue.append(contentsOf: updates)
            submittedCount += updates.count
            monitor.broadcast()
        }
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
            monitor.broadcast()
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
    /// updates (not crossing a job's barrier), else exit when stopping.
    private func nextWork() -> Work {
        monitor.withLock {
            while true {
                if let job = jobs.first, job.barrier <= takenCount {
                    jobs.removeFirst()
                    return .job(job)
                }
                let pending = queue.count - head
                if pending > 0 {
                    var size = min(pending, maxBatch)
                    if let job = jobs.first {
                        size = min(size, job.barrier - takenCount)
                    }
                    takenCount += size
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

/// Entry point of the committer thread: takes over the reference retained by `start()`.
private func commitLoopMain(_ context: UnsafeMutableRawPointer) {
    Unmanaged<CommitLoop>.fromOpaque(context).takeRetainedValue().run()
}

/// A `withExclusiveStore` call waiting for its turn on the committer thread.
/// `@unchecked Sendable`: its `var`s are guarded by the committer's monitor.
private final class ExclusiveJob: @unchecked Sendable {
    var body: (@Sendable (Store) -> Void)?
    /// Runs once this many updates have been taken for batches (all submitted before the call).
    var barrier = 0
    var finished = false
    var cancellation: StorageError?

    init(body: @escaping @Sendable (Store) -> Void) {
        self.body = body
    }
}
