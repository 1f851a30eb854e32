import FoundationEssentials
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// A full disk (README, "Disk faults"): the server leaves every chain, says why in its log, its
/// status (role `disk full`), `/readyz` and `chainkv_disk_full`, acknowledges nothing more, and
/// waits; once `diskFullResumeMiB` are free in its data folder again it starts afresh in the same
/// process (exec), as a new run that rejoins its chains by state transfer.
///
/// Why leave rather than stall and resume in place: a replica that stops acknowledging stops its
/// whole chain until space returns, however long that is; leaving lets the leader repair the chain
/// at once (the member znode goes with the closed session) and the others carry on. The failed
/// transaction rolled back, so the file is intact, but the replica missed every write since, and
/// a state transfer is how a server that missed writes comes back.
extension ServerNode {
    /// How often a server whose disk is full looks at the free space again.
    static let diskFullPollTicks: UInt64 = 10

    /// The disk filled (on the loop): leave the chains and the cluster, then wait for space.
    func diskFilled(_ reason: String) {
        loop.preconditionInEventLoop()
        guard diskFull == nil else { return }
        diskFull = reason
        metrics.diskFull.record(1)
        logger.error("disk full: leaving every chain and the cluster; this server acknowledges nothing until space returns, then restarts and rejoins by state transfer",
                     metadata: ["reason": "\(reason)", "dataDir": "\(config.dataDir)", "resumeFreeMiB": "\(config.diskFullResumeMiB)"])
        leave()
        for hosted in chains.values { hosted.shell.close() }
        context.outbox.closeAll()
        if let coordination {
            // Closing the session removes the member znode at once: the leader repairs the chains.
            Task { await coordination.close() }
        }
    }

    /// Every `diskFullPollTicks` ticks while the disk is full: restart once there is room.
    func checkDiskSpace() {
        guard diskFull != nil, context.ticks % Self.diskFullPollTicks == 0 else { return }
        guard let free = Self.freeBytes(config.dataDir), free >= UInt64(config.diskFullResumeMiB) << 20 else { return }
        logger.notice("disk space returned: restarting to rejoin the chains by state transfer",
                      metadata: ["freeMiB": "\(free >> 20)", "dataDir": "\(config.dataDir)"])
        ProcessRestart.exec(logger: logger)
    }

    /// Bytes an unprivileged writer may still use in the file system of `path`.
    static func freeBytes(_ path: String) -> UInt64? {
        var s = statvfs()
        guard statvfs(path, &s) == 0 else { return nil }
        return UInt64(s.f_bavail) * UInt64(s.f_frsize)
    }
}
