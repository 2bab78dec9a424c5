import DataTree
import Foundation
import NIOCore
import ZooKeeperProtocol

/// What recovery found and did, for the operator.
public struct RecoveryReport: Sendable {
    /// The snapshot the tree was loaded from, if any.
    public var snapshot: String?
    /// Snapshots that could not be used, with the reason.
    public var skippedSnapshots: [String] = []
    /// Transactions replayed from the logs.
    public var replayed = 0
    /// Log tails cut back to their last whole record.
    public var truncations: [String] = []
    /// Other things worth saying.
    public var notes: [String] = []

    /// Everything, one line each.
    public var lines: [String] {
        var lines: [String] = []
        if let snapshot { lines.append("loaded \(snapshot)") }
        lines += skippedSnapshots + truncations + notes
        lines.append("replayed \(replayed) transactions")
        return lines
    }
}

/// Why the server must not start on a data directory.
public struct RecoveryError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(description: String) { self.description = description }
}

/// Rebuilds the tree from a data directory: the newest valid snapshot plus every whole log
/// record after it (`FileTxnSnapLog.restore`).
public enum Recovery {
    /// Recovers the tree. With `repair`, a torn log tail is cut back to its last whole record
    /// on disk; without it (verification) nothing is changed. `readLog` reads a log file
    /// (tests pass one that fails as a disk can).
    public static func recover(_ directory: DataDirectory, repair: Bool,
                               readLog: (String) throws(SnapshotError) -> ByteBuffer = DataDirectory.readLog)
        throws(RecoveryError) -> (DataTree, RecoveryReport) {
        var report = RecoveryReport()
        let snapshots = try directory.snapshots()
        let logs = try directory.logs()
        var tree: DataTree?
        for candidate in snapshots {
            do {
                tree = try SnapshotLoader.load(candidate.path, zxid: candidate.zxid)
                report.snapshot = candidate.path
                break
            } catch {
                report.skippedSnapshots.append("skipped \(candidate.path): \(error)")
            }
        }
        if tree == nil {
            if logs.isEmpty && snapshots.isEmpty {
                tree = DataTree()
                report.notes.append("empty data directory: starting a new database")
            } else if snapshots.isEmpty {
                // As ZooKeeper (FileTxnSnapLog.restore): a server always writes a snapshot
                // before its first log, so logs alone mean files were lost or moved. Even logs
                // from zxid 1 are refused: a missing log in between could not be told.
                throw RecoveryError(description: "No snapshot found in \(directory.snapshotDirectory), but there are log entries in \(directory.logDirectory). Something is broken: starting would lose committed data. Restore the snapshots, or move the logs away to start empty.")
            } else {
                throw RecoveryError(description: "No usable snapshot in \(directory.snapshotDirectory) (\(report.skippedSnapshots.joined(separator: "; "))): starting would lose committed data. Restore a snapshot, or move the data directory away to start empty.")
            }
        }
        guard let tree else { throw RecoveryError(description: "no tree") }
        let relevant = try directory.logs(after: tree.lastProcessedZxid)
        var notifications: [WatchNotification] = []
        for (index, log) in relevant.enumerated() {
            let bytes: ByteBuffer
            do { bytes = try readLog(log.path) } catch {
                throw RecoveryError(description: "\(error.description); stopping recovery without changing anything (a read error is not a torn tail)")
            }
            let scan = TxnLogScan(bytes: bytes)
            for record in scan.records where record.header.zxid > tree.lastProcessedZxid {
                if record.header.zxid != tree.lastProcessedZxid + 1 && report.replayed == 0 && tree.lastProcessedZxid > 0 {
                    report.notes.append("warning: the logs continue at zxid 0x\(String(record.header.zxid, radix: 16)) after snapshot zxid 0x\(String(tree.lastProcessedZxid, radix: 16))")
                }
                notifications.removeAll(keepingCapacity: true)
                _ = tree.apply(record.header, txn: record.txn, notifications: &notifications)
                report.replayed += 1
            }
            if case .torn(let reason) = scan.end {
                let isLast = index == relevant.count - 1
                if !isLast {
                    throw RecoveryError(description: "\(log.path) is damaged (\(reason)) and later logs exist: refusing to skip transactions. Inspect it with 'aviary data log \(log.path)'.")
                }
                let line = "\(log.path): cut back to offset \(scan.validLength) after \(scan.records.count) whole records; dropped \(scan.droppedBytes) bytes (\(reason))"
                report.truncations.append(line)
                if repair {
                    if truncate(log.path, off_t(scan.validLength)) != 0 {
                        throw RecoveryError(description: "cannot truncate \(log.path): errno \(errno)")
                    }
                }
            }
        }
        return (tree, report)
    }
}
