import NIOCore
import ZooKeeperProtocol

/// The newest transactions of the on-disk log, for a new leader's committed log
/// (`ZKDatabase.committedLog`, filled from the log as the database loads): what it can send a
/// learner in a DIFF.
public enum CommittedLog {
    /// Up to `count` transactions with zxids at most `lastProcessedZxid`, oldest first, read
    /// from the newest log files back. Unreadable files end the walk: a shorter log only means
    /// a learner further behind gets a SNAP.
    public static func recent(_ directory: DataDirectory, count: Int, upTo lastProcessedZxid: Int64) -> [(header: TxnHeader, txn: Txn)] {
        guard count > 0, let logs = try? directory.logs() else { return [] }
        var newestFirst: [[(header: TxnHeader, txn: Txn)]] = []
        var collected = 0
        for log in logs.reversed() where log.zxid <= lastProcessedZxid {
            guard let bytes = try? DataDirectory.readLog(log.path) else { break }
            let records = TxnLogScan(bytes: bytes).records.filter { $0.header.zxid <= lastProcessedZxid }
            newestFirst.append(records)
            collected += records.count
            if collected >= count { break }
        }
        return Array(newestFirst.reversed().joined().suffix(count))
    }
}
