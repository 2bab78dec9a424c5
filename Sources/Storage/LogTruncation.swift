import Foundation
import NIOCore

/// Cutting the history back to a zxid, as a learner does when its leader sends TRUNC
/// (`FileTxnLog.truncate`, `ZKDatabase.truncateLog`): the transactions after it are not part
/// of the leader's history and must not be replayed.
public enum LogTruncation {
    /// Removes every logged transaction after `zxid`: the log file holding it is cut just past
    /// it, later log files are deleted, and so are snapshots taken after it (they hold the
    /// transactions being removed). The log writer must be closed. Returns what was changed.
    public static func truncate(_ directory: DataDirectory, to zxid: Int64) throws(RecoveryError) -> [String] {
        var changes: [String] = []
        let snapshots = try directory.snapshots()
        let newer = snapshots.filter { $0.zxid > zxid }
        if !newer.isEmpty && newer.count == snapshots.count {
            throw RecoveryError(description: "cannot truncate to 0x\(String(UInt64(bitPattern: zxid), radix: 16)): every snapshot is newer, so the tree at that zxid cannot be rebuilt")
        }
        for snapshot in newer {
            guard unlink(snapshot.path) == 0 else { throw RecoveryError(description: "cannot remove \(snapshot.path): errno \(errno)") }
            changes.append("removed \(snapshot.path)")
        }
        for log in try directory.logs() {
            if log.zxid > zxid {
                guard unlink(log.path) == 0 else { throw RecoveryError(description: "cannot remove \(log.path): errno \(errno)") }
                changes.append("removed \(log.path)")
                continue
            }
            let bytes: ByteBuffer
            do { bytes = try DataDirectory.readLog(log.path) } catch { throw RecoveryError(description: error.description) }
            let scan = TxnLogScan(bytes: bytes)
            guard let index = scan.records.firstIndex(where: { $0.header.zxid > zxid }) else { continue }
            let end = index == 0 ? FileHeader.size : scan.recordEnds[index - 1]
            guard Foundation.truncate(log.path, off_t(end)) == 0 else {
                throw RecoveryError(description: "cannot truncate \(log.path): errno \(errno)")
            }
            changes.append("\(log.path): cut at offset \(end), dropping \(scan.records.count - index) transactions")
        }
        if let failure = SnapshotFileWriter.syncDirectory(directory.logDirectory) { throw RecoveryError(description: failure) }
        return changes
    }
}
