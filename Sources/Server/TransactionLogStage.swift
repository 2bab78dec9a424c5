import ZooKeeperProtocol

/// The durable-log stage of the write pipeline: transactions are appended in zxid order,
/// and `sync` reports the highest zxid that is durable.
///
/// The standalone server of this release keeps its log in memory (``InMemoryTransactionLog``);
/// the on-disk log in ZooKeeper's format replaces it without changing the pipeline.
public protocol TransactionLogStage: AnyObject {
    /// Appends one transaction.
    func append(_ header: TxnHeader, _ txn: Txn)
    /// Makes everything appended durable, then calls `completion` with the last zxid
    /// appended (on any thread).
    func sync(_ completion: @escaping @Sendable (Int64) -> Void)
}

/// A log that holds nothing and is durable at once: the pipeline's stage with no disk.
public final class InMemoryTransactionLog: TransactionLogStage {
    private var lastZxid: Int64 = 0
    /// How many transactions have passed through.
    public private(set) var count = 0

    public init() {}

    public func append(_ header: TxnHeader, _ txn: Txn) {
        lastZxid = header.zxid
        count += 1
    }

    public func sync(_ completion: @escaping @Sendable (Int64) -> Void) {
        completion(lastZxid)
    }
}
