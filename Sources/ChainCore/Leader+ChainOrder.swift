extension Leader {
    /// Node ids in "natural" order, so that n2 comes before n10.
    public static func chainOrder(_ a: NodeID, _ b: NodeID) -> Bool {
        let (pa, na) = split(a), (pb, nb) = split(b)
        if pa != pb { return pa < pb }
        if na != nb { return (na ?? -1) < (nb ?? -1) }
        return a < b
    }

    fileprivate static func split(_ s: NodeID) -> (Substring, Int?) {
        let digits = s.reversed().prefix(while: { $0.isASCII && $0.isNumber }).count
        let prefix = s.dropLast(digits)
        return (prefix, digits > 0 && digits < 18 ? Int(s.suffix(digits)) : nil)
    }
}
