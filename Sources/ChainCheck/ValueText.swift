/// How values appear in reports: short printable ASCII as a quoted string, anything else as hex,
/// long values cut short with their length.
enum ValueText {
    static let maxShown = 32

    static func describe(_ value: [UInt8]) -> String {
        let shown = value.prefix(maxShown)
        let suffix = value.count > maxShown ? "…(\(value.count) bytes)" : ""
        if shown.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) {
            return "\"" + String(decoding: shown, as: UTF8.self) + "\"" + suffix
        }
        return "0x" + Hex.encode(shown) + suffix
    }

    static func describe(_ value: [UInt8]?) -> String {
        value.map { describe($0) } ?? "absent"
    }
}
