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

    /// The logged transactions from `peerLastZxid` on (it first, when it is logged) up to
    /// `lastZxid`, oldest first, for a DIFF to a learner the committed log no longer reaches
    /// (`ZKDatabase.getProposalsFromTxnLog`). nil when the log does not reach back that far,
    /// cannot be read, or holds more than `sizeLimit` bytes of them: a SNAP is the better sync.
    public static func since(_ directory: DataDirectory, peerLastZxid: Int64, upTo lastZxid: Int64,
                             sizeLimit: Int) -> [(header: TxnHeader, txn: Txn)]? {
        guard let logs = try? directory.logs(after: peerLastZxid), let first = logs.first, first.zxid <= peerLastZxid + 1 else {
            return nil
        }
        var records: [(header: TxnHeader, txn: Txn)] = []
        var bytes = 0
        for log in logs {
            guard let contents = try? DataDirectory.readLog(log.path) else { return nil }
            let scan = TxnLogScan(bytes: contents)
            var previousEnd = FileHeader.size
            for (index, record) in scan.records.enumerated() {
                let end = scan.recordEnds[index]
                defer { previousEnd = end }
                guard record.header.zxid >= peerLastZxid else { continue }
                if record.header.zxid > lastZxid { return records }
                bytes += end - previousEnd
                if bytes > sizeLimit { return nil }
                records.append(record)
            }
        }
        return records
    }
}
