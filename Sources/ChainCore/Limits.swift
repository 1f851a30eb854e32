/// Protocol limits of the core. Everything that grows with load is bounded so that a burst of
/// clients cannot exhaust a server's memory.
public enum CoreLimits {
    /// Writes a node holds but has not seen committed. The head refuses new writes past this, which
    /// bounds memory at about `inflightMax × (keySizeMax + valueSizeMax)` in the worst case.
    public static let inflightMax = 4096
}
