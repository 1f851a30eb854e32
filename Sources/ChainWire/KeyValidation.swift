/// Key rules shared by clients (to fail fast) and servers (to refuse): non-empty, at most
/// `keySizeMax` bytes of UTF-8, no NUL byte (the C ABI passes keys NUL-terminated).
public enum KeyValidation {
    public static func check(_ key: String) -> WireError? {
        let n = key.utf8.count
        if n == 0 { return .invalidKey("empty") }
        if n > WireLimits.keySizeMax { return .keyTooLarge(n) }
        // Over the contiguous bytes when the string has them (a native string does): a plain
        // loop the compiler can vectorize, where the UTF-8 view's iterator cannot.
        let hasNUL = key.utf8.withContiguousStorageIfAvailable { $0.contains(0) } ?? key.utf8.contains(0)
        if hasNUL { return .invalidKey("contains a NUL byte") }
        return nil
    }

    public static func check(value: [UInt8]) -> WireError? {
        value.count > WireLimits.valueSizeMax ? .valueTooLarge(value.count) : nil
    }
}
