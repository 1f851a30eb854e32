/// Interns a key's values as small integers, so that a model state is one `Int32` and comparing
/// states never compares bytes. Id 0 (`ModelState.absent`) stands for an absent key.
struct ValueTable {
    private var ids: [[UInt8]: Int32] = [:]
    /// `values[id]` is the value with id `id`; `values[0]` is nil.
    private(set) var values: [[UInt8]?] = [nil]

    mutating func id(of value: [UInt8]?) -> Int32 {
        guard let value else { return ModelState.absent }
        if let id = ids[value] { return id }
        precondition(values.count < Int(Int32.max), "too many distinct values for one key")
        let id = Int32(values.count)
        ids[value] = id
        values.append(value)
        return id
    }

    /// A normalized operation (see `Operation.normalized`) as the search sees it.
    mutating func timed(_ op: Operation) -> TimedOperation {
        let model: ModelOperation
        switch op.kind {
        case .get(let value): model = .get(value: id(of: value))
        case .put(let value, let old): model = .put(value: id(of: value), old: id(of: old))
        case .delete(let existed): model = .delete(existed: existed)
        case .putUnknown(let value): model = .write(value: id(of: value))
        case .deleteUnknown: model = .erase
        }
        precondition(model.isUnknown == !op.outcomeIsKnown, "operation not normalized")
        return TimedOperation(op: model, invoke: op.invoke, complete: op.outcomeIsKnown ? op.complete : nil)
    }

    /// The start state allowing exactly `possible` (which must not be empty).
    mutating func startState(allowing possible: [[UInt8]?]) -> StartState {
        let allowed = Set(possible.map { id(of: $0) })
        precondition(!allowed.isEmpty, "a start state needs a value")
        if allowed.count == 1 { return .exactly(allowed.first!) }
        let members = values.indices.map { allowed.contains(Int32($0)) }
        return .oneOf(members: members, anyPresent: allowed.contains { $0 != ModelState.absent })
    }
}
