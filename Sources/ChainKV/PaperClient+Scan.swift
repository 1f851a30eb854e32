/// Scans as a blocking call with the paper's status codes, for the C ABI's `chainkv_scan`.
extension PaperClient {
    /// 0 with a page (`prefix` given: the keys with it; else `from`..<`to`); -1 network error,
    /// -3 bad argument.
    public func scan(prefix: String?, from: String?, to: String?, after: String?, limit: Int) -> (status: Int32, page: ScanResult?) {
        guard let c = current() else { return (Self.networkError, nil) }
        do {
            let page = try blocking {
                if let prefix { return try await c.scan(prefix: prefix, after: after, limit: limit) }
                return try await c.scan(from: from, to: to, after: after, limit: limit)
            }
            return (Self.ok, page)
        } catch let e as ChainKVError {
            return (Self.readStatus(e), nil)
        } catch {
            return (Self.networkError, nil)
        }
    }
}
