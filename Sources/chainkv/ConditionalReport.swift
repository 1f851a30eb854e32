import ArgumentParser
import ChainKV
import Foundation

/// Prints what a `put`/`delete --if-version` did: "OK (version N)", or the version found and
/// exit 6 when the condition failed (nothing was applied).
func report(_ result: WriteResult, key: String, json: Bool) throws {
    switch result {
    case .applied(let version, let existed):
        if json { printJSON(["key": key, "applied": true, "version": version, "existed": existed]) } else { print("OK (version \(version))") }
    case .conditionFailed(let current):
        if json {
            printJSON(["key": key, "applied": false, "current": current])
        } else {
            FileHandle.standardError.write(Data("chainkv: condition failed: \(key) is at version \(current)\n".utf8))
        }
        throw ExitCode(ExitStatus.conditionFailed.rawValue)
    }
}
