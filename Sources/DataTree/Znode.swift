import ZooKeeperProtocol

/// One znode as read from a ``DataTree``: its stat, ACL reference and counts. Its data and
/// children are read through the tree (``DataTree/data(of:)``, ``DataTree/childNames(of:)``)
/// and only until the tree next changes.
///
/// `stat.cversion` is kept as ZooKeeper keeps it: the number of children ever created.
/// Clients see `2 * cversion - numChildren` (creates plus deletes), see ``clientStat``.
public struct Znode: Equatable, Sendable {
    /// The store's record; valid until the tree changes.
    let record: UInt32
    public var stat: StatPersisted
    public var aclReference: Int64
    public var childCount: Int
    /// −1 for null data.
    public var dataLength: Int

    init(record: UInt32, header: ZnodeHeader) {
        self.record = record
        stat = header.stat
        aclReference = header.aclReference
        childCount = header.childCount
        dataLength = header.dataLength
    }

    /// The stat as clients see it.
    public var clientStat: Stat {
        var s = Stat()
        s.czxid = stat.czxid; s.mzxid = stat.mzxid; s.ctime = stat.ctime; s.mtime = stat.mtime
        s.version = stat.version; s.aversion = stat.aversion
        // Clients see only real owners; container and TTL markers stay on disk (`getClientEphemeralOwner`).
        s.ephemeralOwner = EphemeralOwner.session(stat.ephemeralOwner) ?? 0
        s.pzxid = stat.pzxid
        s.dataLength = Int32(truncatingIfNeeded: max(0, dataLength))
        s.numChildren = Int32(truncatingIfNeeded: childCount)
        s.cversion = stat.cversion &* 2 &- s.numChildren
        return s
    }

    var header: ZnodeHeader {
        ZnodeHeader(stat: stat, aclReference: aclReference, childCount: childCount, dataLength: dataLength)
    }
}
