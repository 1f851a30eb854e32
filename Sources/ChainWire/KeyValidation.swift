/// Key rules shared by clients (to fail fast) and servers (to refuse): non-empty, at most
/// `keySizeMax` bytes of UTF-8, no NUL byte (the C ABI passes keys NUL-terminated).
public enum KeyValidation {
    public static func check(_ key: String) -> WireError? {
        var key = key  // `withUTF8` is mutating: it makes a (rare) non-contiguous string contiguous
        return key.withUTF8 { check(utf8: UnsafeRawBufferPointer($0)) }
    }

    /// The same rules over a key's UTF-8 bytes as they arrived (`MessageCodec.readKey` checks
    /// them in the receive buffer, before a `String` is made of them).
    public static func check(utf8 bytes: UnsafeRawBufferPointer) -> WireError? {
        if bytes.isEmpty { return .invalidKey("empty") }
        if bytes.count > WireLimits.keySizeMax { return .keyTooLarge(bytes.count) }
        // A plain loop over raw bytes, which the compiler vectorizes.
        if bytes.contains(0) { return .invalidKey("contains a NUL byte") }
        return nil
    }

    public static func check(value: [UInt8]) -> WireError? {
        value.count > WireLimits.valueSizeMax ? .valueTooLarge(value.count) : nil
    }
}
