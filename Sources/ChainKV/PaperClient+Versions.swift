/// Versions and conditional writes as blocking calls with the paper's status codes, for the C
/// ABI's calls beside the five (`chainkv_get_version`, `chainkv_put_if`, `chainkv_delete_if`).
///
/// Status codes as for the five, plus 2: the condition failed, nothing was applied, and the
/// version returned is the key's current one (0: absent).
extension PaperClient {
    public static let conditionFailed: Int32 = 2
    /// `ifVersion` meaning "no condition" in the C ABI (`CHAINKV_ANY_VERSION`): no write ever has it.
    public static let anyVersion = UInt64.max

    /// 0 with the value and its version; 1 when the key does not exist (version 0); -1, -3.
    public func getVersion(_ key: String) -> (status: Int32, value: [UInt8]?, version: UInt64) {
        guard let c = current() else { return (Self.networkError, nil, 0) }
        do {
            let v = try blocking(on: c.taskExecutor) { try await c.getVersioned(key) }
            return v.map { (Self.ok, $0.value, $0.version) } ?? (Self.absent, nil, 0)
        } catch let e as ChainKVError {
            return (Self.readStatus(e), nil, 0)
        } catch {
            return (Self.networkError, nil, 0)
        }
    }

    /// 0 applied, with the version created; 2 the condition failed, with the current version;
    /// -1, -2, -3 as for put. `ifVersion` `anyVersion`: unconditional.
    public func put(_ key: String, _ value: [UInt8], ifVersion: UInt64) -> (status: Int32, version: UInt64) {
        guard let c = current() else { return (Self.networkError, 0) }
        let condition = ifVersion == Self.anyVersion ? nil : ifVersion
        return Self.status { try blocking(on: c.taskExecutor) { try await c.put(key, value, ifVersion: condition) } }
    }

    /// As the conditional put, for a delete.
    public func delete(_ key: String, ifVersion: UInt64) -> (status: Int32, version: UInt64) {
        guard let c = current() else { return (Self.networkError, 0) }
        let condition = ifVersion == Self.anyVersion ? nil : ifVersion
        return Self.status { try blocking(on: c.taskExecutor) { try await c.delete(key, ifVersion: condition) } }
    }

    private static func status(_ write: () throws -> WriteResult) -> (status: Int32, version: UInt64) {
        do {
            switch try write() {
            case .applied(let version, _): return (ok, version)
            case .conditionFailed(let current): return (conditionFailed, current)
            }
        } catch let e as ChainKVError {
            return (writeStatus(e), 0)
        } catch {
            return (chainFailure, 0)
        }
    }
}
