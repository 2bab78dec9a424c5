import Foundation
import NIOCore
import Storage
import ZooKeeperProtocol

/// The durable-log stage of the write pipeline. Records are appended in zxid order; the
/// stage reports, on any thread, the highest zxid that is durable.
public protocol TransactionLogStage: AnyObject, Sendable {
    /// Queues encoded records (``TxnLogRecord``) for transactions `first...last`.
    func append(_ records: ByteBuffer, first: Int64, last: Int64)
    /// The next records start a new file.
    func roll()
    /// Writes what is queued and stops.
    func close()
    /// (fsyncs done, nanoseconds spent in them).
    var syncStatistics: (count: Int, nanoseconds: UInt64) { get }
    /// The durations of the most recent fsyncs, in milliseconds.
    var recentSyncs: [Int64] { get }
    /// Fsyncs slower than one second.
    var slowSyncCount: Int { get }
}

extension TxnLogWriter: TransactionLogStage {}
