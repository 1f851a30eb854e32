/// The little JSON a history file needs, written by hand because this target uses only the
/// standard library: one flat object per line whose members are strings, integers, booleans or
/// null. Anything else (nesting, fractions, exponents, duplicate names, trailing text) is an error,
/// so a damaged or hand-edited file is rejected rather than half-read.
enum JSONScalar: Equatable {
    case string(String)
    case integer(negative: Bool, magnitude: UInt64)
    case bool(Bool)
    case null
}

struct JSONLineError: Error, Equatable {
    let message: String
}

enum JSONLine {
    /// The members of the object on `line`, in order.
    static func parseObject(_ line: ArraySlice<UInt8>) throws(JSONLineError) -> [(name: String, value: JSONScalar)] {
        var parser = Parser(bytes: line)
        return try parser.object()
    }

    /// `text` as a JSON string literal, quotes included.
    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = Hex.encode([UInt8(scalar.value)])
                out += "\\u00" + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    private struct Parser {
        let bytes: ArraySlice<UInt8>
        var index: Int

        init(bytes: ArraySlice<UInt8>) {
            self.bytes = bytes
            self.index = bytes.startIndex
        }

        mutating func object() throws(JSONLineError) -> [(name: String, value: JSONScalar)] {
            skipSpace()
            try expect(UInt8(ascii: "{"), "a line must hold one JSON object")
            var members: [(name: String, value: JSONScalar)] = []
            skipSpace()
            if peek() == UInt8(ascii: "}") {
                index += 1
            } else {
                while true {
                    skipSpace()
                    guard peek() == UInt8(ascii: "\"") else { throw fail("expected a member name") }
                    let name = try string()
                    if members.contains(where: { $0.name == name }) { throw fail("duplicate member \"\(name)\"") }
                    skipSpace()
                    try expect(UInt8(ascii: ":"), "expected ':' after a member name")
                    skipSpace()
                    members.append((name, try scalar()))
                    skipSpace()
                    if peek() == UInt8(ascii: ",") { index += 1; continue }
                    try expect(UInt8(ascii: "}"), "expected ',' or '}'")
                    break
                }
            }
            skipSpace()
            guard index == bytes.endIndex else { throw fail("text after the object") }
            return members
        }

        private mutating func scalar() throws(JSONLineError) -> JSONScalar {
            guard let c = peek() else { throw fail("line ends where a value should be") }
            switch c {
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try word("true"); return .bool(true)
            case UInt8(ascii: "f"): try word("false"); return .bool(false)
            case UInt8(ascii: "n"): try word("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try integer()
            case UInt8(ascii: "{"), UInt8(ascii: "["): throw fail("nested objects and arrays are not allowed")
            default: throw fail("expected a string, integer, true, false or null")
            }
        }

        private mutating func integer() throws(JSONLineError) -> JSONScalar {
            let negative = peek() == UInt8(ascii: "-")
            if negative { index += 1 }
            guard let first = peek(), isDigit(first) else { throw fail("expected digits") }
            var magnitude: UInt64 = 0
            var digits = 0
            while let d = peek(), isDigit(d) {
                let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(UInt64(d - UInt8(ascii: "0")))
                guard !o1 && !o2 else { throw fail("integer too large") }
                magnitude = sum
                digits += 1
                index += 1
            }
            if first == UInt8(ascii: "0") && digits > 1 { throw fail("integers must not have leading zeros") }
            if let c = peek(), c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
                throw fail("numbers must be integers")
            }
            return .integer(negative: negative, magnitude: magnitude)
        }

        private mutating func string() throws(JSONLineError) -> String {
            try expect(UInt8(ascii: "\""), "expected a string")
            var out: [UInt8] = []
            while true {
                guard let c = peek() else { throw fail("unterminated string") }
                index += 1
                switch c {
                case UInt8(ascii: "\""):
                    guard isValidUTF8(out) else { throw fail("string is not valid UTF-8") }
                    return String(decoding: out, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard let e = peek() else { throw fail("unterminated string") }
                    index += 1
                    switch e {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"): out.append(contentsOf: try unicodeEscape())
                    default: throw fail("unknown escape in string")
                    }
                case 0..<0x20:
                    throw fail("control character in string")
                default:
                    out.append(c)
                }
            }
        }

        /// After `\u`: four hex digits, or a surrogate pair as two escapes; the scalar as UTF-8.
        private mutating func unicodeEscape() throws(JSONLineError) -> [UInt8] {
            var value = try hex4()
            if (0xD800..<0xDC00).contains(value) {
                guard peek() == UInt8(ascii: "\\") else { throw fail("unpaired surrogate in string") }
                index += 1
                guard peek() == UInt8(ascii: "u") else { throw fail("unpaired surrogate in string") }
                index += 1
                let low = try hex4()
                guard (0xDC00..<0xE000).contains(low) else { throw fail("unpaired surrogate in string") }
                value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00..<0xE000).contains(value) {
                throw fail("unpaired surrogate in string")
            }
            guard let scalar = Unicode.Scalar(value) else { throw fail("invalid \\u escape") }
            return Array(String(Character(scalar)).utf8)
        }

        private mutating func hex4() throws(JSONLineError) -> UInt32 {
            guard bytes.endIndex - index >= 4, let digits = Hex.decode(bytes[index..<index + 4]) else {
                throw fail("\\u needs four hex digits")
            }
            index += 4
            return UInt32(digits[0]) << 8 | UInt32(digits[1])
        }

        private mutating func word(_ text: StaticString) throws(JSONLineError) {
            let count = text.utf8CodeUnitCount
            guard bytes.endIndex - index >= count,
                  bytes[index..<index + count].elementsEqual(UnsafeBufferPointer(start: text.utf8Start, count: count))
            else { throw fail("expected a string, integer, true, false or null") }
            index += count
        }

        private mutating func expect(_ byte: UInt8, _ message: String) throws(JSONLineError) {
            guard peek() == byte else { throw fail(message) }
            index += 1
        }

        private func peek() -> UInt8? {
            index < bytes.endIndex ? bytes[index] : nil
        }

        private mutating func skipSpace() {
            while let c = peek(), c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0A { index += 1 }
        }

        private func isDigit(_ c: UInt8) -> Bool {
            c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")
        }

        private func fail(_ message: String) -> JSONLineError {
            JSONLineError(message: "\(message) (column \(index - bytes.startIndex + 1))")
        }
    }
}

/// Whether `bytes` is well-formed UTF-8 (no overlong forms, surrogates or values past U+10FFFF),
/// checked with the standard library's strict decoder.
func isValidUTF8(_ bytes: [UInt8]) -> Bool {
    var iterator = bytes.makeIterator()
    var decoder = UTF8()
    while true {
        switch decoder.decode(&iterator) {
        case .scalarValue: continue
        case .emptyInput: return true
        case .error: return false
        }
    }
}
