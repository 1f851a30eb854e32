/// A `withExclusiveStore` call waiting for its turn on the committer thread.
/// `@unchecked Sendable`: its `var`s are guarded by the committer's monitor.
final class ExclusiveJob: @unchecked Sendable {
    var body: (@Sendable (Store) -> Void)?
    /// Runs once this many updates have been taken for batches (all submitted before the call).
    var barrier = 0
    var finished = false
    var cancellation: StorageError?

    init(body: @escaping @Sendable (Store) -> Void) {
        self.body = body
    }
}
