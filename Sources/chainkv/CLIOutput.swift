import Foundation

/// How the CLI writes values and JSON to stdout.
enum CLIOutput {
    /// `--json` was given: results, and errors too, are one JSON object on stdout. Read from the
    /// raw arguments so that usage errors, which stop before the flag is parsed, follow it as well.
    static let json: Bool = CommandLine.arguments.dropFirst().prefix { $0 != "--" }.contains("--json")

    /// Whether stdout is a terminal: values are then printed as text with a newline, else as the
    /// exact bytes.
    static var stdoutIsTerminal: Bool { isatty(STDOUT_FILENO) == 1 }

    /// Writes `bytes` to stdout exactly: no newline added, nothing replaced.
    static func writeRaw(_ bytes: [UInt8]) {
        FileHandle.standardOutput.write(Data(bytes))
    }

    /// A value for a JSON object: `name` holds the text when the bytes are valid UTF-8 (else null,
    /// never replacement characters), `nameBase64` always holds the exact bytes.
    static func jsonFields(_ name: String, _ bytes: [UInt8]?) -> [String: Any?] {
        guard let bytes else { return [name: nil, name + "Base64": nil] }
        return [name: String(validating: bytes, as: UTF8.self), name + "Base64": Data(bytes).base64EncodedString()]
    }
}

/// The bytes as text for a terminal (invalid UTF-8 shows as U+FFFD).
func text(_ bytes: [UInt8]) -> String {
    String(decoding: bytes, as: UTF8.self)
}

func printJSON(_ object: [String: Any?]) {
    let cleaned = object.mapValues { $0 ?? NSNull() }
    let data = try! JSONSerialization.data(withJSONObject: cleaned, options: [.sortedKeys, .withoutEscapingSlashes])
    print(String(decoding: data, as: UTF8.self))
}
