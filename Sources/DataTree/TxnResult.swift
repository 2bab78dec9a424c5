import ZooKeeperProtocol

/// What applying one transaction did (`DataTree.ProcessTxnResult`).
public struct TxnResult: Sendable, Hashable {
    /// The type of the transaction, or ``OpCode/error`` for a failed one.
    public var type: OpCode
    /// The path it touched.
    public var path: String
    /// The znode's stat after the change, for creates, setData and setACL.
    public var stat: Stat?
    /// ``KeeperError/ok`` or why it failed.
    public var error: KeeperError
    /// One result per operation, for a multi.
    public var multi: [TxnResult]

    public init(type: OpCode, path: String = "", stat: Stat? = nil, error: KeeperError = .ok, multi: [TxnResult] = []) {
        self.type = type; self.path = path; self.stat = stat; self.error = error; self.multi = multi
    }
}

/// A watch notification to deliver to one watcher.
public struct WatchNotification: Sendable, Hashable {
    public var watcher: WatcherID
    public var event: WatcherEvent
    public init(watcher: WatcherID, event: WatcherEvent) { self.watcher = watcher; self.event = event }
}
