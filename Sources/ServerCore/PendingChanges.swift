import DataTree
import ZooKeeperProtocol

/// A znode as it will be once every prepared transaction is applied
/// (`PrepRequestProcessor.ChangeRecord`).
public struct ChangeRecord: Sendable, Hashable {
    public var zxid: Int64
    public var path: String
    /// nil when the znode will not exist.
    public var stat: StatPersisted?
    public var childCount: Int
    public var acl: [ACL]
}

/// Changes prepared but not yet applied, so that a request is validated against the
/// state all earlier requests will leave (`outstandingChanges`).
public struct PendingChanges: Sendable {
    private(set) var records: [String: ChangeRecord] = [:]
    private var pathsByZxid: [Int64: [String]] = [:]

    public init() {}

    public var isEmpty: Bool { records.isEmpty }

    /// The record for `path`: pending if any, else from the tree.
    func record(_ path: String, tree: DataTree) -> ChangeRecord? {
        if let pending = records[path] { return pending.stat == nil ? nil : pending }
        guard let node = tree.node(path) else { return nil }
        return ChangeRecord(zxid: node.stat.mzxid, path: path, stat: node.stat, childCount: node.childCount, acl: tree.acl(of: node))
    }

    mutating func add(_ record: ChangeRecord) {
        records[record.path] = record
        pathsByZxid[record.zxid, default: []].append(record.path)
    }

    /// Forgets the records of `zxid` once it is applied.
    mutating func applied(_ zxid: Int64) {
        guard let paths = pathsByZxid.removeValue(forKey: zxid) else { return }
        for path in paths where records[path]?.zxid == zxid { records[path] = nil }
    }

    /// Pending ephemerals of `session`: (created, deleted).
    func ephemeralChanges(of session: Int64) -> (created: Set<String>, deleted: Set<String>) {
        var created = Set<String>(), deleted = Set<String>()
        for record in records.values {
            if let stat = record.stat {
                if stat.ephemeralOwner == session { created.insert(record.path) }
            } else {
                deleted.insert(record.path)
            }
        }
        return (created, deleted)
    }

    /// A copy to restore if a multi fails part way.
    var checkpoint: (records: [String: ChangeRecord], pathsByZxid: [Int64: [String]]) { (records, pathsByZxid) }

    mutating func restore(_ checkpoint: (records: [String: ChangeRecord], pathsByZxid: [Int64: [String]])) {
        records = checkpoint.records
        pathsByZxid = checkpoint.pathsByZxid
    }
}
