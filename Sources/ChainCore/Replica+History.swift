/// The replica's history of committed updates (`recent`), and what the core answers from it
/// without reading storage:
///
/// - a key's committed value (`KeyState.cached`: its newest committed change, kept for recently
///   written keys within its own bound), so a replica reads storage for a forwarded write only
///   when the key was not written lately;
/// - the reply of a retried write that committed within the window (`replaced`: what each
///   update replaced), so a retry gets its first answer, old value included, without a storage
///   read and whatever the old value's size.
///
/// Outside the window a retry is answered from the outcome storage keeps with each write, which
/// holds an old value only up to `CoreLimits.outcomeValueKeptMax` bytes (see there for why).
extension Replica {
    /// What a committed update replaced: as much as a retry's reply needs.
    enum Replaced: Sendable, Equatable {
        /// The key did not exist.
        case nothing
        /// The key's value just before the update (a put: its reply carries it).
        case value([UInt8])
        /// The key existed (a delete's reply says only that; a failed condition needs nothing).
        case something
        /// A put's old value, dropped from memory to keep `recentReplacedBytesMax`: a retry of
        /// the put is answered from disk (`replyStored`).
        case dropped

        init(_ old: VersionedValue?, update: Update) {
            guard let old else { self = .nothing; return }
            // `changesKey` is false for a failed condition and a barrier: neither replies with a value.
            self = update.value != nil && update.changesKey ? .value(old.value) : .something
        }

        /// Bytes of a value this keeps alive beyond the update itself (counted against
        /// `CoreLimits.recentReplacedBytesMax`; often a buffer shared with the update before it).
        var bytes: Int {
            if case .value(let bytes) = self { return bytes.count }
            return 0
        }
    }

    /// Updates from `from` on stay in `recent` up to the pinned bounds: a snapshot is being sent
    /// from this node, and its joiner catches up from there.
    struct HistoryPin: Sendable, Equatable {
        var token: UInt64
        var from: UInt64
        /// Once a catch-up from the pin started: the last seq it forwarded. The pin is released
        /// when the successor acknowledges it (a link reset before that resends from `recent`).
        var releaseAt: UInt64?
    }

    /// What the history keeps beside each of its updates.
    struct HistoryEntry: Sendable {
        var replaced: Replaced
    }

    /// The reply `update` got, given what it replaced; nil when that is no longer in memory.
    static func reply(to update: Update, replaced: Replaced) -> Reply? {
        if let current = update.conditionFailed { return .conditionFailed(current: current) }
        switch (update.value, replaced) {
        case (nil, .nothing): return .delete(existed: false, version: update.seq)
        case (nil, _): return .delete(existed: true, version: update.seq)
        case (_?, .nothing): return .put(old: nil, version: update.seq)
        case (_?, .value(let old)): return .put(old: old, version: update.seq)
        case (_?, .dropped): return nil
        case (_?, .something):
            preconditionFailure("a put's history entry keeps the value it replaced")
        }
    }

    /// The first reply of the committed write `seq`, if the history still holds it.
    func historyReply(seq: UInt64) -> Reply? {
        guard let first = recentFirstSeq, seq >= first, seq <= stable else { return nil }
        let offset = Int(seq - first)
        guard offset < recent.count else { return nil }
        let update = recent[offset: offset]
        assert(update.seq == seq, "recent holds consecutive sequence numbers")
        return Self.reply(to: update, replaced: recentEntries[offset: offset].replaced)
    }

    /// Whether an event about `key` needs the key's value from local storage. When a write to the
    /// key is in flight, storage may hold an uncommitted value and the core answers from memory;
    /// when the key changed lately, its newest committed change is the value storage holds, and
    /// the core answers from memory too (`KeyState.cached`). A key with either has a state, and
    /// a state with neither is removed.
    public func needsStoredValue(for key: String) -> Bool {
        needsStoredValue(for: ByteKey(key))
    }

    /// `needsStoredValue(for:)` of a key already hashed (passed on in the event as `hashed`).
    public func needsStoredValue(for key: ByteKey) -> Bool {
        // `index(forKey:)`, not `keyStates[key] == nil`: the subscript copies the whole state out
        // (retaining every value it holds) only to compare it with nil.
        keyStates.index(forKey: key) == nil
    }

    /// The key's committed value: its cached change when it has one, else the value the shell
    /// read from storage. Only for a key with no write in flight. `state`: the key's state, copied
    /// out of `keyStates` once by the caller (each `keyStates.values[index]` read copies all of
    /// it, retaining every value it holds).
    static func committedValue(_ state: KeyState?, stored: VersionedValue?) -> VersionedValue? {
        if let known = state?.cached { return known.versioned }
        return stored
    }

    /// Local storage was emptied or replaced (a snapshot is being received): the history no
    /// longer says what storage holds. A core is restarted after the snapshot anyway; this keeps
    /// the one in between from answering from a history of the storage it replaced. Writes in
    /// flight keep their state.
    public mutating func storageReplaced() {
        keyStates = keyStates.compactMapValues { state in state.pending.map { KeyState(pending: $0, cached: nil) } }
        valueOrder.removeAll()
        valueOrderSeqs.removeAll()
        valueBytes = 0
    }

    /// Keys with a cached committed value (tests).
    var cachedKeyCount: Int { keyStates.values.reduce(0) { $0 + ($1.cached == nil ? 0 : 1) } }

    /// The key's cached committed change, if any.
    func cachedValue(_ key: ByteKey) -> HistoryValue? { keyStates[key]?.cached }

    /// Keeps every update after the committed point in the history, past `recentBytesMax` and
    /// `recentMax` up to `recentPinnedBytesMax` and `recentPinnedMax`: this node is about to send
    /// a snapshot, which holds at least what is committed now (at a tail, committed is durable,
    /// and the snapshot is read from storage after this), and its joiner catches up from the
    /// snapshot's point (`catchUp`) as long as the pinned bounds hold what was written meanwhile.
    /// One pin at a time: a new one replaces the last (a transfer the leader gave up on). Released
    /// once a catch-up from it is acknowledged, when a catch-up finds it was not enough, or by
    /// `unpinHistory` (the transfer failed, or its joiner never came). Returns the pin's token.
    public mutating func pinHistory() -> UInt64 {
        let token = nextPinToken
        nextPinToken += 1
        historyPin = HistoryPin(token: token, from: stable + 1)
        return token
    }

    /// Releases the pin `token` if it is still the pin, and trims the history back to its bounds.
    public mutating func unpinHistory(_ token: UInt64) {
        guard historyPin?.token == token else { return }
        historyPin = nil
        trimHistory()
        recent.shrink()
        recentEntries.shrink()
    }

    /// Adds a committed update to the history, then trims the oldest past the limits. The key's
    /// value was cached by the caller (`cacheValue`), with the key's other state in one lookup.
    mutating func appendToHistory(_ update: Update, key: ByteKey, old: VersionedValue?) {
        assert(key.key == update.key, "the hashed key is the update's")
        let replaced = Replaced(old, update: update)
        // Room first, then the update: the rings never hold more than the bounds (`Ring`).
        trimHistory(room: 1, roomBytes: update.size)
        assert(recent.isEmpty || update.seq == recentLastSeq + 1, "the history holds consecutive seqs")
        recent.append(update)
        recentLastSeq = update.seq
        recentEntries.append(HistoryEntry(replaced: replaced))
        recentBytes += update.size
        recentReplacedBytes += replaced.bytes
        if let barrier = update.barrier {
            barrierLog.append(Change(barrier: barrier, version: update.seq))
            if barrierLog.count > CoreLimits.barriersKeptMax { barrierLog.removeFirst() }
        }
        dropReplacedValuesOverTheBound()
        assert(recent.count == recentEntries.count, "every update in the history has its entry beside it")
        assert(recentReplacedBytes <= CoreLimits.recentReplacedBytesMax, "replaced values within their bound")
    }

    /// Drops the oldest updates past the history's bounds: the pinned ones for updates at or
    /// after the pin, the ordinary ones for the others. `room`, `roomBytes`: an update about to
    /// be added, which must fit too.
    private mutating func trimHistory(room: Int = 0, roomBytes: Int = 0) {
        while let first = recentFirstSeq {
            let pinned = historyPin.map { first >= $0.from } ?? false
            let count = recent.count + room, bytes = recentBytes + roomBytes
            let over = pinned
                ? count > CoreLimits.recentPinnedMax || bytes > CoreLimits.recentPinnedBytesMax
                : count > CoreLimits.recentMax || bytes > CoreLimits.recentBytesMax
            guard over else { break }
            let gone = recent.removeFirst()
            let entry = recentEntries.removeFirst()
            recentBytes -= gone.size
            recentReplacedBytes -= entry.replaced.bytes
        }
    }

    /// The seq of the oldest update in `recent`. Reading `recent.first?.seq` copied the update
    /// (its key, value and request retained and released: 1 % of a middle server's CPU; cut 16).
    var recentFirstSeq: UInt64? { recent.isEmpty ? nil : recentLastSeq - UInt64(recent.count) + 1 }

    /// Bytes a cached value counts for: its key and value, and the entry.
    static func cachedBytes(_ key: ByteKey, _ value: [UInt8]?) -> Int { key.key.utf8.count + (value?.count ?? 0) + 64 }

    /// Makes `update` its key's newest committed change (the key's entry is at `index`), then
    /// drops what is past the cache's bounds (those keys are read from storage again): keys
    /// whose newest change is older than the last `recentMax` commits, and the oldest records
    /// while the values take more than `valueCacheBytesMax`.
    ///
    /// `valueOrder` holds each cached key once, with the seq it had when recorded
    /// (`valueOrderSeqs`); a rewrite changes the value in place and leaves the record where it
    /// is. It used to hold a record per change, so every write appended one and removed the
    /// oldest, a lookup of a random key only to find that record stale (`evictOldestValue` and
    /// the append were 4 to 5 % of a middle server's CPU under 8 × 32 writes; cut 16). Now a
    /// record is looked at when it is `recentMax` commits old: its key leaves, or goes to the back
    /// with its newer seq if it was rewritten since (once per key per `recentMax` writes; a
    /// working set of 4,000 keys costs 0.06 lookups per write). A key therefore stays cached
    /// up to about twice `recentMax` commits after its last change, never past the count and
    /// byte bounds.
    mutating func cacheValue(of update: Update, at index: Dictionary<ByteKey, KeyState>.Index) {
        assert(update.changesKey, "only a change of the key is its value")
        let key = keyStates.keys[index]
        assert(key.key == update.key, "the entry is the update's key")
        let value = HistoryValue(seq: update.seq, value: update.value)
        valueBytes += Self.cachedBytes(key, update.value)
        if let old = keyStates.values[index].cached {
            valueBytes -= Self.cachedBytes(key, old.value)
            keyStates.values[index].cached = value
        } else {
            keyStates.values[index].cached = value
            // Room first, then the record: the rings never hold more than `recentMax` (`Ring`).
            // The record names the key by the dictionary's own copy of it: each update's key is
            // a string of its own, and 65,536 records holding them kept 11 MB of keys alive.
            while valueOrder.count >= CoreLimits.recentMax { evictOldestValue() }
            valueOrder.append(key)
            valueOrderSeqs.append(update.seq)
        }
        expireOldValues(now: update.seq)
        while valueBytes > CoreLimits.valueCacheBytesMax, !valueOrder.isEmpty { evictOldestValue() }
        assert(valueOrder.count == valueOrderSeqs.count, "every record has its seq")
        assert(valueBytes >= 0 && keyStates.count <= valueOrder.count + inflightCount, "every cached value has its record")
    }

    /// Records `recentMax` commits old or more: their key leaves the cache unless it changed
    /// since, and then its record goes to the back. Only the seqs' ring is read until then
    /// (reading a key's record copies it: a retain of a string nobody touched lately).
    private mutating func expireOldValues(now: UInt64) {
        let window = UInt64(CoreLimits.recentMax)
        while let seq = valueOrderSeqs.first, seq + window <= now {
            let (key, index) = takeOldestRecord()
            let cachedSeq = keyStates.values[index].cached!.seq
            if cachedSeq + window > now {
                // Changed since it was recorded: recorded again, within the window, so the loop
                // meets each record at most once.
                assert(cachedSeq > seq, "a record is never newer than its key's value")
                valueOrder.append(key)
                valueOrderSeqs.append(cachedSeq)
                continue
            }
            dropCachedValue(of: key, at: index)
        }
    }

    /// Drops the oldest record and its key's value, whatever its age (a bound is exceeded).
    private mutating func evictOldestValue() {
        let (key, index) = takeOldestRecord()
        dropCachedValue(of: key, at: index)
    }

    /// Removes the oldest record of `valueOrder`; returns its key and the key's entry, which has
    /// a cached value (one record per cached key).
    private mutating func takeOldestRecord() -> (key: ByteKey, index: Dictionary<ByteKey, KeyState>.Index) {
        let key = valueOrder.removeFirst()
        _ = valueOrderSeqs.removeFirst()
        guard let index = keyStates.index(forKey: key), keyStates.values[index].cached != nil else {
            preconditionFailure("a key in valueOrder has its cached value")
        }
        return (key, index)
    }

    /// Forgets `key`'s cached value (its record is already gone), and the entry if nothing else is in it.
    private mutating func dropCachedValue(of key: ByteKey, at index: Dictionary<ByteKey, KeyState>.Index) {
        valueBytes -= Self.cachedBytes(key, keyStates.values[index].cached!.value)
        if keyStates.values[index].pending == nil {
            keyStates.remove(at: index)
        } else {
            keyStates.values[index].cached = nil
        }
    }

    /// Past `recentReplacedBytesMax`, the oldest replaced values are dropped (their retries are
    /// answered from disk); the history itself stays, for catch-up and watches. Each entry is
    /// passed over once (`replacedKeptFrom` only moves forward).
    private mutating func dropReplacedValuesOverTheBound() {
        guard recentReplacedBytes > CoreLimits.recentReplacedBytesMax, let first = recentFirstSeq else { return }
        var seq = max(replacedKeptFrom, first)
        while recentReplacedBytes > CoreLimits.recentReplacedBytesMax {
            let offset = Int(seq - first)
            precondition(offset < recentEntries.count, "replaced bytes are counted only for entries in the history")
            let bytes = recentEntries[offset: offset].replaced.bytes
            if bytes > 0 {
                recentEntries[offset: offset].replaced = .dropped
                recentReplacedBytes -= bytes
            }
            seq += 1
        }
        replacedKeptFrom = seq
    }
}
