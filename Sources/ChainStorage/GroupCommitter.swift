/// Group commit on a dedicated thread: every update submitted while a commit is in progress goes
/// into the next single transaction (one fsync for the batch).
///
/// Order: updates are committed in submission order, and their seqs must be strictly increasing
/// in that order (a precondition; submit while holding whatever lock hands out seqs). A batch never
/// holds more than `maxBatch` updates. With a `delay`, a commit may wait a little for more
/// updates to share its fsync (`CommitDelay`).
///
/// Failure: if a commit fails, `onError` runs once, the updates still queued are dropped, pending
/// and later `withExclusiveStore` calls throw that error, later submissions are ignored, and the
/// thread exits. Nothing after the failed batch is ever reported durable.
///
/// The store belongs to the committer thread from `init` until `stop()` returns; touch it
/// meanwhile only through `withExclusiveStore`.
///
/// This is the facade; the thread, its queue and the exclusive-job handshake are `CommitLoop`
/// (CommitLoop.swift). Checked `Sendable` (not `@unchecked`): its only state is the internally
/// locked `CommitLoop`.
public final class GroupCommitter: Sendable {
    private let loop: CommitLoop

    /// `onDurable` runs on the committer thread after each successful commit with the batch's
    /// highest seq, the batch size and how long the commit (with its fsync) took. `onError` runs there if a commit fails (fatal for the server).
    /// Both may call `stop()` and `withExclusiveStore` (which then runs `body` at once, since the
    /// thread is between batches), but must not block waiting for later commits.
    public init(store: Store,
                maxBatch: Int = 1024,
                delay: CommitDelay = .none,
                onDurable: @escaping @Sendable (_ lastSeq: UInt64, _ batchSize: Int, _ duration: Duration) -> Void,
                onError: @escaping @Sendable (StorageError) -> Void) {
        precondition(maxBatch > 0, "maxBatch must be positive")
        loop = CommitLoop(store: store, maxBatch: maxBatch, delay: delay, onDurable: onDurable, onError: onError)
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
