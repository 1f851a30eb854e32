/// One operation of the per-key model, with values interned to small integers (see `KeyHistory`):
/// a model state is then one `Int32`, which keeps memoization cheap to hash and compare.
///
/// Value id 0 means "the key is absent"; `ModelState.anyStart` is the start of a window whose
/// initial value is only known to lie in a set (see `StartState`).
enum ModelOperation: Equatable {
    /// A read that observed `value`.
    case get(value: Int32)
    /// A write of `value` that observed `old`.
    case put(value: Int32, old: Int32)
    /// A delete that observed whether the key existed.
    case delete(existed: Bool)
    /// A put whose outcome is unknown: only its effect, which needs no particular state.
    case write(value: Int32)
    /// A delete whose outcome is unknown.
    case erase

    /// Whether the outcome is unknown: the operation needs no particular state and observed
    /// nothing.
    var isUnknown: Bool {
        switch self {
        case .write, .erase: return true
        case .get, .put, .delete: return false
        }
    }

    /// The value this operation leaves in the key when it takes effect.
    var effect: Int32? {
        switch self {
        case .get: return nil
        case .put(let value, _), .write(let value): return value
        case .delete, .erase: return ModelState.absent
        }
    }
}

enum ModelState {
    /// The value id of an absent key.
    static let absent: Int32 = 0
    /// The state before the first operation of a search that starts from a set of possible values.
    static let anyStart: Int32 = -1
}

/// Where a search starts: one known value, or any value of a set (for windows that start after
/// the beginning of a history, where the value depends on how earlier operations were ordered).
enum StartState: Equatable {
    case exactly(Int32)
    /// `members[id]` says whether value id `id` is possible; `anyPresent` whether any id but
    /// `ModelState.absent` is (kept apart so a delete's step need not scan `members`).
    case oneOf(members: [Bool], anyPresent: Bool)
}

extension StartState {
    /// The model's transition: the state after `op` from `state`, or nil if `op` is illegal there.
    ///
    /// From `ModelState.anyStart` the operation picks the start value it needs (if the set allows
    /// it); after the first operation the state is always a single value, because every operation
    /// either requires a value it then leaves unchanged (get) or sets one.
    @inline(__always)
    func step(_ op: ModelOperation, from state: Int32) -> Int32? {
        if state == ModelState.anyStart {
            guard case .oneOf(let members, let anyPresent) = self else { preconditionFailure("anyStart without a start set") }
            switch op {
            case .get(let value): return members[Int(value)] ? value : nil
            case .put(let value, let old): return members[Int(old)] ? value : nil
            case .delete(let existed):
                let possible = existed ? anyPresent : members[Int(ModelState.absent)]
                return possible ? ModelState.absent : nil
            case .write(let value): return value
            case .erase: return ModelState.absent
            }
        }
        switch op {
        case .get(let value): return state == value ? state : nil
        case .put(let value, let old): return state == old ? value : nil
        case .delete(let existed): return (state != ModelState.absent) == existed ? ModelState.absent : nil
        case .write(let value): return value
        case .erase: return ModelState.absent
        }
    }

    var initialState: Int32 {
        switch self {
        case .exactly(let value): return value
        case .oneOf: return ModelState.anyStart
        }
    }
}
