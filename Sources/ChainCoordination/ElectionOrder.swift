/// One candidate in the election: an `election/leader-<sequence>` znode.
struct ElectionCandidate: Hashable, Sendable {
    let name: String
    let sequence: Int64
}

/// Ordering of election znodes by their server-assigned sequence, kept free of I/O so it can be tested alone.
enum ElectionOrder {
    /// Candidates sorted by sequence, lowest (the leader) first. Names that are not `<prefix><digits>` are
    /// ignored: they are not candidates of this recipe, whatever put them there.
    static func sorted(_ names: [String], prefix: String = ZnodePaths.electionNodePrefix) -> [ElectionCandidate] {
        names.compactMap { name -> ElectionCandidate? in
            guard name.hasPrefix(prefix) else { return nil }
            let digits = name.dropFirst(prefix.count)
            guard !digits.isEmpty, digits.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
                  let sequence = Int64(digits) else { return nil }
            return ElectionCandidate(name: name, sequence: sequence)
        }
        .sorted { ($0.sequence, $0.name) < ($1.sequence, $1.name) }
    }

    /// The candidate just below `name`, which is the only one `name` watches; nil if `name` is the lowest
    /// (or absent).
    static func predecessor(of name: String, in ordered: [ElectionCandidate]) -> ElectionCandidate? {
        guard let index = ordered.firstIndex(where: { $0.name == name }), index > 0 else { return nil }
        return ordered[index - 1]
    }
}
