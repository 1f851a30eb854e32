/// Metric handles (counters, timers) by their label values, each made once.
///
/// A request's labels are a few short literals ("get", "ok", "c0"): Swift keeps them inline and
/// compares two in a few instructions. The first `recentMax` label sets are searched that way,
/// before the dictionary that holds them all; joining the labels into a dictionary key and
/// hashing it on every request was about 1 % of a head's CPU under reads (issue 18, cut 20). A
/// steady load uses a handful of label sets, all of them seen early.
struct MetricHandles<Handle> {
    /// Up to three label values; unused ones are empty.
    struct Labels: Hashable {
        var first: String
        var second = ""
        var third = ""
    }

    static var recentMax: Int { 8 }
    private var recent: [(labels: Labels, handle: Handle)] = []
    private var all: [Labels: Handle] = [:]

    /// The handle of `labels`, made by `make` the first time they are seen.
    mutating func handle(_ labels: Labels, make: () -> Handle) -> Handle {
        for i in recent.indices where recent[i].labels == labels { return recent[i].handle }
        if let known = all[labels] { return known }
        let made = make()
        all[labels] = made
        if recent.count < Self.recentMax { recent.append((labels, made)) }
        return made
    }

    /// Distinct label sets seen.
    var count: Int { all.count }
}
