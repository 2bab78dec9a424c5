/// A request type of the client protocol (`ZooDefs.OpCode`).
public enum OpCode: Int32, Sendable, CaseIterable {
    case notification = 0
    case create = 1
    case delete = 2
    case exists = 3
    case getData = 4
    case setData = 5
    case getACL = 6
    case setACL = 7
    case getChildren = 8
    case sync = 9
    case ping = 11
    case getChildren2 = 12
    case check = 13
    case multi = 14
    case create2 = 15
    case reconfig = 16
    case checkWatches = 17
    case removeWatches = 18
    case createContainer = 19
    case deleteContainer = 20
    case createTTL = 21
    case multiRead = 22
    case auth = 100
    case setWatches = 101
    case sasl = 102
    case getEphemerals = 103
    case getAllChildrenNumber = 104
    case setWatches2 = 105
    case addWatch = 106
    case whoAmI = 107
    /// Aviary's own: ask the leader of an all-Aviary ensemble to hand its leadership to
    /// another voter (`aviary leader transfer`). ZooKeeper answers it Unimplemented.
    case transferLeadership = 1001
    case createSession = -10
    case closeSession = -11
    case error = -1

    /// The short name ZooKeeper's `cons` and audit log use for the operation.
    public var name: String { String(describing: self) }
}

/// Special xids the client protocol reserves (`ClientCnxn`).
public enum SpecialXid {
    /// A watch notification sent by the server.
    public static let notification: Int32 = -1
    /// A ping.
    public static let ping: Int32 = -2
    /// An authentication packet.
    public static let auth: Int32 = -4
    /// A setWatches request sent on reconnect.
    public static let setWatches: Int32 = -8
}
