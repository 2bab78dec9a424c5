import ZooKeeperProtocol

/// The replicated state: znodes, ACLs, sessions, ephemerals and watches.
///
/// Changes arrive only as transactions through ``apply(_:txn:notifications:)``, in zxid
/// order; reads go through the accessors. Confined to one executor; not thread-safe.
public final class DataTree {
    /// Znodes by full path; the root is "/".
    private(set) public var nodes: [String: Znode] = [:]
    /// Interned ACL lists.
    private(set) public var aclCache = ACLCache()
    /// Live sessions and their negotiated timeouts, as snapshots store them.
    private(set) public var sessions: [Int64: Int32] = [:]
    /// Ephemeral znodes by owning session.
    private(set) public var ephemerals: [Int64: Set<String>] = [:]
    /// Paths of container znodes.
    private(set) public var containers: Set<String> = []
    /// Paths of TTL znodes.
    private(set) public var ttlNodes: Set<String> = []
    /// Data watches (data, exist and persistent).
    public var dataWatches = WatchTable()
    /// Child watches (children and persistent).
    public var childWatches = WatchTable()
    /// The zxid of the last transaction applied.
    private(set) public var lastProcessedZxid: Int64 = 0

    /// The reserved paths.
    public static let zookeeperPath = "/zookeeper"
    public static let quotaPath = "/zookeeper/quota"
    public static let configPath = "/zookeeper/config"

    /// Creates the tree a fresh server starts with: `/`, `/zookeeper`, `/zookeeper/quota`
    /// and `/zookeeper/config` (world-readable, aversion -1, as ZooKeeper sets it).
    public init(config: [UInt8] = []) {
        let open = ACLCache.openUnsafeReference
        nodes["/"] = Znode(data: nil, aclReference: open, stat: StatPersisted(), children: ["zookeeper"])
        nodes[Self.zookeeperPath] = Znode(data: nil, aclReference: open, stat: StatPersisted(), children: ["quota", "config"])
        nodes[Self.quotaPath] = Znode(data: nil, aclReference: open, stat: StatPersisted())
        var configStat = StatPersisted()
        configStat.aversion = -1
        nodes[Self.configPath] = Znode(data: config, aclReference: aclCache.reference(for: ACL.readUnsafe), stat: configStat)
    }

    /// Rebuilds a tree from a snapshot's contents: znodes by path (the root as "/"), the
    /// ACL lists by reference, and the sessions. Throws if a znode's parent is missing.
    ///
    /// Children are already in their parents' sets except for the paths listed in `unlinked`,
    /// which are linked here (a loader that reads in pre-order links as it goes). The loader
    /// also counts, as it reads, how many znodes use each ACL list and which znodes have an
    /// owner (ephemeral, container or TTL), so that no second pass over a large tree is needed.
    public init(restoring znodes: [String: Znode], acls: [Int64: [ACL]], sessions: [Int64: Int32], zxid: Int64,
                unlinked: [String], aclUses: [Int64: Int], owned: [(path: String, owner: Int64)]) throws(DataTreeError) {
        for (reference, list) in acls { aclCache.insert(list, reference: reference) }
        nodes = znodes
        for path in unlinked {
            guard let parent = znodes[ZNodePath.parent(of: path)] else { throw .missingParent(path) }
            parent.children.insert(ZNodePath.name(of: path))
        }
        for (reference, count) in aclUses { aclCache.addUses(reference, count) }
        for (path, owner) in owned { index(path, owner: owner) }
        if znodes["/"] == nil { throw .missingParent("/") }
        aclCache.purgeUnused()
        self.sessions = sessions
        lastProcessedZxid = zxid
    }

    /// Starts or ends keeping every ACL list while a fuzzy snapshot is written.
    public func holdACLs(_ hold: Bool) {
        if hold { aclCache.beginHold() } else { aclCache.endHold() }
    }

    // MARK: Reads

    /// The znode at `path`.
    public func node(_ path: String) -> Znode? { nodes[path] }

    /// The ACL of `node`.
    public func acl(of node: Znode) -> [ACL] { aclCache.acl(for: node.aclReference) }

    /// The number of znodes below `path` (`getAllChildrenNumber`).
    public func descendantCount(of path: String) -> Int {
        if path == "/" { return nodes.count - 1 }
        let prefix = path + "/"
        return nodes.keys.reduce(0) { $0 + ($1.hasPrefix(prefix) ? 1 : 0) }
    }

    /// The session's ephemerals under `prefix` ("" or "/" for all), sorted.
    public func ephemerals(of session: Int64, prefix: String) -> [String] {
        let all = ephemerals[session] ?? []
        let trimmed = prefix.trimmingWhitespace
        if trimmed.isEmpty || trimmed == "/" { return all.sorted() }
        return all.filter { $0.hasPrefix(prefix) }.sorted()
    }

    /// The total bytes of data held (`approximateDataSize`: path lengths plus data).
    public var approximateDataSize: Int {
        nodes.reduce(0) { $0 + $1.key.utf8.count + ($1.value.data?.count ?? 0) }
    }

    /// The number of watches of both kinds.
    public var watchCount: Int { dataWatches.count + childWatches.count }

    // MARK: Watches

    /// Registers a one-shot data (or exist) watch.
    public func addDataWatch(_ path: String, watcher: WatcherID) { dataWatches.add(path: path, watcher: watcher, mode: .standard) }
    /// Registers a one-shot child watch.
    public func addChildWatch(_ path: String, watcher: WatcherID) { childWatches.add(path: path, watcher: watcher, mode: .standard) }
    /// Registers a persistent or persistent-recursive watch (`addWatch`).
    public func addPersistentWatch(_ path: String, watcher: WatcherID, recursive: Bool) {
        let mode: WatchModes = recursive ? .persistentRecursive : .persistent
        dataWatches.add(path: path, watcher: watcher, mode: mode)
        childWatches.add(path: path, watcher: watcher, mode: mode)
    }
    /// Drops every watch of `watcher` (its connection closed).
    public func removeWatcher(_ watcher: WatcherID) {
        dataWatches.removeWatcher(watcher)
        childWatches.removeWatcher(watcher)
    }

    // MARK: Applying transactions

    /// Applies one transaction and appends the watch notifications it causes, in order.
    public func apply(_ header: TxnHeader, txn: Txn, notifications: inout [WatchNotification]) -> TxnResult {
        let type = OpCode(rawValue: header.type) ?? .error
        let result = apply(type: type, txn: txn, header: header, notifications: &notifications)
        if header.zxid > lastProcessedZxid { lastProcessedZxid = header.zxid }
        return result
    }

    private func apply(type: OpCode, txn: Txn, header: TxnHeader, notifications: inout [WatchNotification]) -> TxnResult {
        switch txn {
        case .create(let path, let data, let acl, let ephemeral, let cversion):
            return create(type: type, path: path, data: data, acl: acl, owner: ephemeral ? header.clientId : 0,
                          parentCVersion: cversion, header: header, notifications: &notifications)
        case .createTTL(let path, let data, let acl, let cversion, let ttl):
            return create(type: type, path: path, data: data, acl: acl, owner: EphemeralOwner.ttl(ttl),
                          parentCVersion: cversion, header: header, notifications: &notifications)
        case .createContainer(let path, let data, let acl, let cversion):
            return create(type: type, path: path, data: data, acl: acl, owner: EphemeralOwner.container,
                          parentCVersion: cversion, header: header, notifications: &notifications)
        case .delete(let path):
            let error = delete(path, zxid: header.zxid, notifications: &notifications)
            return TxnResult(type: type, path: path, error: error)
        case .setData(let path, let data, let version):
            guard let node = nodes[path] else { return TxnResult(type: type, path: path, error: .noNode) }
            node.data = data
            node.stat.version = version
            node.stat.mzxid = header.zxid
            node.stat.mtime = header.time
            notify(dataWatches.trigger(path: path, type: .nodeDataChanged), .nodeDataChanged, path, &notifications)
            return TxnResult(type: type, path: path, stat: node.clientStat)
        case .setACL(let path, let acl, let version):
            guard let node = nodes[path] else { return TxnResult(type: type, path: path, error: .noNode) }
            aclCache.release(node.aclReference)
            node.aclReference = aclCache.reference(for: acl)
            node.stat.aversion = version
            return TxnResult(type: type, path: path, stat: node.clientStat)
        case .check(let path, _):
            return TxnResult(type: type, path: path, stat: nodes[path]?.clientStat)
        case .createSession(let timeout):
            sessions[header.clientId] = timeout
            return TxnResult(type: type)
        case .closeSession(let paths):
            let owned = ephemerals[header.clientId] ?? []
            for path in (paths.isEmpty ? Array(owned) : paths).sorted() {
                _ = delete(path, zxid: header.zxid, notifications: &notifications)
            }
            ephemerals[header.clientId] = nil
            sessions[header.clientId] = nil
            return TxnResult(type: type)
        case .error(let code):
            return TxnResult(type: .error, error: KeeperError(rawValue: code) ?? .systemError)
        case .multi(let txns):
            return applyMulti(txns, header: header, notifications: &notifications)
        }
    }

    private func applyMulti(_ txns: [TypedTxn], header: TxnHeader, notifications: inout [WatchNotification]) -> TxnResult {
        let failed = txns.contains { $0.type == .error }
        var results: [TxnResult] = []
        var afterFailure = false
        for sub in txns {
            if failed {
                if case .error(let code) = sub.txn, sub.type == .error {
                    afterFailure = true
                    results.append(TxnResult(type: .error, error: KeeperError(rawValue: code) ?? .systemError))
                } else {
                    results.append(TxnResult(type: .error, error: afterFailure ? .runtimeInconsistency : .ok))
                }
                continue
            }
            var subHeader = header
            subHeader.type = sub.type.rawValue
            results.append(apply(type: sub.type, txn: sub.txn, header: subHeader, notifications: &notifications))
        }
        return TxnResult(type: .multi, multi: results)
    }

    private func create(type: OpCode, path: String, data: [UInt8]?, acl: [ACL], owner: Int64, parentCVersion: Int32,
                        header: TxnHeader, notifications: inout [WatchNotification]) -> TxnResult {
        let parentPath = ZNodePath.parent(of: path)
        guard let parent = nodes[parentPath] else { return TxnResult(type: type, path: path, error: .noNode) }
        let name = ZNodePath.name(of: path)
        var cversion = parentCVersion
        if parent.children.contains(name) {
            // Replaying over a fuzzy snapshot: keep the parent's counters as the log says.
            if cversion > parent.stat.cversion {
                parent.stat.cversion = cversion
                parent.stat.pzxid = header.zxid
            }
            return TxnResult(type: type, path: path, error: .nodeExists)
        }
        if cversion == -1 { cversion = parent.stat.cversion + 1 }
        if cversion > parent.stat.cversion {
            parent.stat.cversion = cversion
            parent.stat.pzxid = header.zxid
        }
        var stat = StatPersisted()
        stat.czxid = header.zxid; stat.mzxid = header.zxid; stat.pzxid = header.zxid
        stat.ctime = header.time; stat.mtime = header.time
        stat.ephemeralOwner = owner
        let node = Znode(data: data, aclReference: aclCache.reference(for: acl), stat: stat)
        nodes[path] = node
        parent.children.insert(name)
        index(path, owner: owner)
        notify(dataWatches.trigger(path: path, type: .nodeCreated), .nodeCreated, path, &notifications)
        notify(childWatches.trigger(path: parentPath, type: .nodeChildrenChanged), .nodeChildrenChanged, parentPath, &notifications)
        return TxnResult(type: type, path: path, stat: node.clientStat)
    }

    private func delete(_ path: String, zxid: Int64, notifications: inout [WatchNotification]) -> KeeperError {
        let parentPath = ZNodePath.parent(of: path)
        guard path != "/", let node = nodes[path], let parent = nodes[parentPath] else { return .noNode }
        nodes[path] = nil
        aclCache.release(node.aclReference)
        parent.children.remove(ZNodePath.name(of: path))
        if zxid > parent.stat.pzxid { parent.stat.pzxid = zxid }
        let owner = node.stat.ephemeralOwner
        if let session = EphemeralOwner.session(owner) {
            ephemerals[session]?.remove(path)
            if ephemerals[session]?.isEmpty == true { ephemerals[session] = nil }
        }
        containers.remove(path)
        ttlNodes.remove(path)
        let fired = dataWatches.trigger(path: path, type: .nodeDeleted)
        notify(fired, .nodeDeleted, path, &notifications)
        notify(childWatches.trigger(path: path, type: .nodeDeleted, suppress: Set(fired)), .nodeDeleted, path, &notifications)
        notify(childWatches.trigger(path: parentPath, type: .nodeChildrenChanged), .nodeChildrenChanged, parentPath, &notifications)
        return .ok
    }

    /// Files a znode under its owning session, or as a container or TTL znode.
    private func index(_ path: String, owner: Int64) {
        if let session = EphemeralOwner.session(owner) {
            ephemerals[session, default: []].insert(path)
        } else if EphemeralOwner.isContainer(owner) {
            containers.insert(path)
        } else if EphemeralOwner.ttlValue(owner) != nil {
            ttlNodes.insert(path)
        }
    }

    private func notify(_ watchers: [WatcherID], _ type: WatchEventType, _ path: String, _ out: inout [WatchNotification]) {
        for watcher in watchers {
            out.append(WatchNotification(watcher: watcher, event: WatcherEvent(type: type, path: path)))
        }
    }
}

/// A snapshot that does not describe a tree.
public enum DataTreeError: Error, Equatable, CustomStringConvertible {
    case missingParent(String)
    public var description: String {
        switch self {
        case .missingParent(let path): return "znode \(path) has no parent in the snapshot"
        }
    }
}

extension String {
    var trimmingWhitespace: String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
