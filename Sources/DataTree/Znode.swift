import ZooKeeperProtocol

/// One znode: its data, ACL reference, persisted stat and child names.
///
/// `stat.cversion` is kept as ZooKeeper keeps it: the number of children ever created.
/// Clients see `2 * cversion - numChildren` (creates plus deletes), see ``clientStat``.
public final class Znode {
    /// nil when created without data, which clients read back as null.
    public var data: [UInt8]?
    public var aclReference: Int64
    public var stat: StatPersisted
    public var children: Set<String>

    public init(data: [UInt8]?, aclReference: Int64, stat: StatPersisted, children: Set<String> = []) {
        self.data = data; self.aclReference = aclReference; self.stat = stat; self.children = children
    }

    /// The stat as clients see it.
    public var clientStat: Stat {
        var s = Stat()
        s.czxid = stat.czxid; s.mzxid = stat.mzxid; s.ctime = stat.ctime; s.mtime = stat.mtime
        s.version = stat.version; s.aversion = stat.aversion
        // Clients see only real owners; container and TTL markers stay on disk (`getClientEphemeralOwner`).
        s.ephemeralOwner = EphemeralOwner.session(stat.ephemeralOwner) ?? 0
        s.pzxid = stat.pzxid
        s.dataLength = Int32(truncatingIfNeeded: data?.count ?? 0)
        s.numChildren = Int32(truncatingIfNeeded: children.count)
        s.cversion = stat.cversion &* 2 &- s.numChildren
        return s
    }
}
