import Foundation

/// Removes old snapshots and the logs only they needed, keeping the `retain` newest
/// snapshots (`PurgeTxnLog`; ZooKeeper's minimum is 3).
public enum Purge {
    /// The files that purging would remove, oldest first.
    public static func plan(_ directory: DataDirectory, retain: Int) throws(RecoveryError) -> [String] {
        let snapshots = try directory.snapshots()
        let keep = max(3, retain)
        guard snapshots.count > keep else { return [] }
        let oldestKept = snapshots[keep - 1].zxid
        let neededLogs = Set(try directory.logs(after: oldestKept).map(\.path))
        let oldSnapshots = snapshots[keep...].map(\.path)
        let oldLogs = try directory.logs().filter { $0.zxid < oldestKept && !neededLogs.contains($0.path) }.map(\.path)
        return (oldLogs + oldSnapshots.reversed())
    }

    /// Removes what ``plan(_:retain:)`` lists; returns the paths removed.
    @discardableResult
    public static func run(_ directory: DataDirectory, retain: Int) throws(RecoveryError) -> [String] {
        try plan(directory, retain: retain).filter { unlink($0) == 0 }
    }
}
