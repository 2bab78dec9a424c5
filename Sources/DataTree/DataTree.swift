import ZooKeeperProtocol

/// The replicated state: znodes, ACLs, sessions, ephemerals and watches.
///
/// Changes arrive only as transactions through ``apply(_:txn:notifications:)``, in zxid
/// order; reads go through the accessors. Confined to one executor; not thread-safe.
public final class DataTree {
    /// The znodes, packed (see ``ZnodeStore``).
    var store: ZnodeStore
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
    /// ZooKeeper's tree digest (``ZnodeDigest``), kept up to date with every change while
    /// ``digestEnabled``.
    private(set) public var digest: Int64 = 0
    /// `digest.enabled`: when off, no digest is kept or logged, as in ZooKeeper.
    public var digestEnabled = true
    /// The digest after every 128th zxid, the newest 1024 (`DataTree.digestLog`, `hash`).
    private(set) public var digestLog: [ZxidDigest] = []
    /// ZooKeeper logs a digest for zxids that are multiples of this.
    public static let digestLogInterval: Int64 = 128
    public static let digestLogLimit = 1024

    /// The reserved paths.
    public static let zookeeperPath = "/zookeeper"
    public static let quotaPath = "/zookeeper/quota"
    public static let configPath = "/zookeeper/config"

    /// Creates the tree a fresh server starts with: `/`, `/zookeeper`, `/zookeeper/quota`
    /// and `/zookeeper/config` (world-readable, aversion -1, as ZooKeeper sets it).
    public init(config: [UInt8] = []) {
        store = ZnodeStore()
        let open = ACLCache.openUnsafeReference
        // ZooKeeper's root, /zookeeper and /zookeeper/quota hold empty data, not null.
        store.insertRoot(header: ZnodeHeader(stat: StatPersisted(), aclReference: open, childCount: 0, dataLength: 0),
                         data: UnsafeRawBufferPointer(start: nil, count: 0))
        addInitial(Self.zookeeperPath, data: [], aclReference: open, stat: StatPersisted())
        addInitial(Self.quotaPath, data: [], aclReference: open, stat: StatPersisted())
        var configStat = StatPersisted()
        configStat.aversion = -1
        addInitial(Self.configPath, data: config, aclReference: aclCache.reference(for: ACL.readUnsafe), stat: configStat)
        digest = nodeDigest(store.root, path: "/") &+ (record(Self.zookeeperPath).map { nodeDigest($0, path: Self.zookeeperPath) } ?? 0)
    }

    private func addInitial(_ path: String, data: [UInt8]?, aclReference: Int64, stat: StatPersisted) {
        guard let parent = record(ZNodePath.parent(of: path)) else { return }
        var parentHeader = store.header(parent)
        parentHeader.childCount += 1
        store.update(parent, header: parentHeader)
        insert(path, data: data, header: ZnodeHeader(stat: stat, aclReference: aclReference, childCount: 0, dataLength: -1),
               under: parent)
    }

    /// Adds the znode at `path` under `parent`'s record (whose header the caller updates).
    @discardableResult
    private func insert(_ path: String, data: [UInt8]?, header: ZnodeHeader, under parent: UInt32) -> UInt32 {
        path.withPathBytes { bytes in
            withOptionalBytes(data) { store.insert(path: bytes, hash: ZnodeStore.hash(bytes), parent: parent, header: header, data: $0) }
        }
    }

    /// A tree built by ``DataTreeBuilder`` from a snapshot.
    init(store: ZnodeStore, acls: [Int64: [ACL]], sessions: [Int64: Int32], zxid: Int64,
         aclUses: [Int64: Int], owned: [(path: String, owner: Int64)], digest: Int64) {
        self.store = store
        self.digest = digest
        for (reference, list) in acls { aclCache.insert(list, reference: reference) }
        for (reference, count) in aclUses { aclCache.addUses(reference, count) }
        for (path, owner) in owned { index(path, owner: owner) }
        aclCache.purgeUnused()
        self.sessions = sessions
        lastProcessedZxid = zxid
    }

    /// Starts or ends keeping every ACL list while a fuzzy snapshot is written.
    public func holdACLs(_ hold: Bool) {
        if hold { aclCache.beginHold() } else { aclCache.endHold() }
    }

    // MARK: Reads

    private func record(_ path: String) -> UInt32? { path.withPathBytes { store.find($0) } }

    /// The digest of the znode in `record`, whose path is `path`.
    private func nodeDigest(_ record: UInt32, path: String) -> Int64 {
        let stat = store.header(record).stat
        return path.withPathBytes { bytes in store.withData(record) { ZnodeDigest.of(path: bytes, data: $0, stat: stat) } }
    }

    /// Runs a change to the znode in `record`, keeping ``digest`` in step (ZooKeeper's
    /// `preChange`/`postChange`).
    private func changing(_ record: UInt32, path: String, _ change: () -> Void) {
        guard digestEnabled else { return change() }
        digest &-= nodeDigest(record, path: path)
        change()
        digest &+= nodeDigest(record, path: path)
    }

    /// The znode at `path`.
    public func node(_ path: String) -> Znode? {
        guard let record = record(path) else { return nil }
        return Znode(record: record, header: store.header(record))
    }

    /// The number of znodes, the root included.
    public var nodeCount: Int { store.count }

    /// The data of `node` (nil for null data), read before the tree next changes.
    public func data(of node: Znode) -> [UInt8]? { store.withData(node.record) { $0.map { Array($0) } } }

    /// Calls `body` with the data of `node` in place (nil for null data).
    public func withData<R>(of node: Znode, _ body: (UnsafeRawBufferPointer?) throws -> R) rethrows -> R {
        try store.withData(node.record, body)
    }

    /// The names of the children of `node`, oldest first (the order snapshots list them in,
    /// so that a loaded tree lists them the same way again).
    public func childNames(of node: Znode) -> [String] {
        var names: [String] = []
        names.reserveCapacity(node.childCount)
        store.forEachChild(node.record) { names.append(store.name($0)) }
        names.reverse()
        return names
    }

    /// Every path in the tree, parents before children.
    public func paths() -> [String] {
        var result: [String] = []
        guard store.root != ZnodeStore.none else { return result }
        var stack: [(record: UInt32, path: String)] = [(store.root, "/")]
        while let (record, path) = stack.popLast() {
            result.append(path)
            store.forEachChild(record) { stack.append(($0, ZNodePath.join(path, store.name($0)))) }
        }
        return result
    }

    /// The ACL of `node`.
    public func acl(of node: Znode) -> [ACL] { aclCache.acl(for: node.aclReference) }

    /// The number of znodes below `path` (`getAllChildrenNumber`).
    public func descendantCount(of path: String) -> Int {
        guard let top = record(path) else { return 0 }
        var count = 0
        var stack: [UInt32] = [top]
        while let record = stack.popLast() {
            store.forEachChild(record) { count += 1; stack.append($0) }
        }
        return count
    }

    /// The session's ephemerals under `prefix` ("" or "/" for all), sorted.
    public func ephemerals(of session: Int64, prefix: String) -> [String] {
        let all = ephemerals[session] ?? []
        let trimmed = prefix.trimmingWhitespace
        if trimmed.isEmpty || trimmed == "/" { return all.sorted() }
        return all.filter { $0.hasPrefix(prefix) }.sorted()
    }

    /// The total bytes of data held (`approximateDataSize`: path lengths plus data).
    public var approximateDataSize: Int { store.pathBytes + store.dataBytes }

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
    /// `ZKDatabase.initConfigInZKDatabase`: an ensemble member's `/zookeeper/config` holds its
    /// membership (`Membership.text`) with version -1, mzxid the configuration's version and
    /// mtime `time`, set when it starts and after each synchronization with a leader. Not a
    /// transaction: the last processed zxid does not move, and `/zookeeper/` is outside the
    /// digest. Returns the watches it triggers.
    @discardableResult
    public func setConfiguration(_ text: [UInt8], version: Int64, time: Int64) -> [WatchNotification] {
        var notifications: [WatchNotification] = []
        guard let record = record(Self.configPath) else { return notifications }
        var current = store.header(record)
        current.stat.version = -1
        current.stat.mzxid = version
        current.stat.mtime = time
        changing(record, path: Self.configPath) { withOptionalBytes(text) { store.update(record, header: current, data: .some($0)) } }
        notify(dataWatches.trigger(path: Self.configPath, type: .nodeDataChanged), .nodeDataChanged, Self.configPath, &notifications)
        return notifications
    }

    public func apply(_ header: TxnHeader, txn: Txn, notifications: inout [WatchNotification]) -> TxnResult {
        let type = OpCode(rawValue: header.type) ?? .error
        let result = apply(type: type, txn: txn, header: header, notifications: &notifications)
        if header.zxid > lastProcessedZxid { lastProcessedZxid = header.zxid }
        if digestEnabled && header.zxid % Self.digestLogInterval == 0 {
            digestLog.append(ZxidDigest(zxid: header.zxid, digest: digest))
            if digestLog.count > Self.digestLogLimit { digestLog.removeFirst(digestLog.count - Self.digestLogLimit) }
        }
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
            guard let record = record(path) else { return TxnResult(type: type, path: path, error: .noNode) }
            var current = store.header(record)
            current.stat.version = version
            current.stat.mzxid = header.zxid
            current.stat.mtime = header.time
            changing(record, path: path) { withOptionalBytes(data) { store.update(record, header: current, data: .some($0)) } }
            current.dataLength = data?.count ?? -1
            notify(dataWatches.trigger(path: path, type: .nodeDataChanged), .nodeDataChanged, path, &notifications)
            return TxnResult(type: type, path: path, stat: Znode(record: record, header: current).clientStat)
        case .setACL(let path, let acl, let version):
            guard let record = record(path) else { return TxnResult(type: type, path: path, error: .noNode) }
            var current = store.header(record)
            aclCache.release(current.aclReference)
            current.aclReference = aclCache.reference(for: acl)
            current.stat.aversion = version
            changing(record, path: path) { store.update(record, header: current) }
            return TxnResult(type: type, path: path, stat: Znode(record: record, header: current).clientStat)
        case .check(let path, _):
            return TxnResult(type: type, path: path, stat: node(path)?.clientStat)
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
        guard let parent = record(parentPath) else { return TxnResult(type: type, path: path, error: .noNode) }
        var parentHeader = store.header(parent)
        var cversion = parentCVersion
        if record(path) != nil {
            // Replaying over a fuzzy snapshot: keep the parent's counters as the log says.
            if cversion > parentHeader.stat.cversion {
                parentHeader.stat.cversion = cversion
                parentHeader.stat.pzxid = header.zxid
                changing(parent, path: parentPath) { store.update(parent, header: parentHeader) }
            }
            return TxnResult(type: type, path: path, error: .nodeExists)
        }
        if cversion == -1 { cversion = parentHeader.stat.cversion &+ 1 }
        if cversion > parentHeader.stat.cversion {
            parentHeader.stat.cversion = cversion
            parentHeader.stat.pzxid = header.zxid
        }
        parentHeader.childCount += 1
        changing(parent, path: parentPath) { store.update(parent, header: parentHeader) }
        var stat = StatPersisted()
        stat.czxid = header.zxid; stat.mzxid = header.zxid; stat.pzxid = header.zxid
        stat.ctime = header.time; stat.mtime = header.time
        stat.ephemeralOwner = owner
        let znode = ZnodeHeader(stat: stat, aclReference: aclCache.reference(for: acl), childCount: 0, dataLength: data?.count ?? -1)
        let record = insert(path, data: data, header: znode, under: parent)
        if digestEnabled { digest &+= nodeDigest(record, path: path) }
        index(path, owner: owner)
        notify(dataWatches.trigger(path: path, type: .nodeCreated), .nodeCreated, path, &notifications)
        notify(childWatches.trigger(path: parentPath, type: .nodeChildrenChanged), .nodeChildrenChanged, parentPath, &notifications)
        return TxnResult(type: type, path: path, stat: Znode(record: record, header: znode).clientStat)
    }

    private func delete(_ path: String, zxid: Int64, notifications: inout [WatchNotification]) -> KeeperError {
        let parentPath = ZNodePath.parent(of: path)
        guard path != "/" else { return .noNode }
        guard let record = record(path) else {
            // As ZooKeeper's deleteNode: the parent's pzxid moves even when the child is gone
            // already (a replay over a fuzzy snapshot).
            if let parent = self.record(parentPath) {
                var parentHeader = store.header(parent)
                if zxid > parentHeader.stat.pzxid {
                    parentHeader.stat.pzxid = zxid
                    changing(parent, path: parentPath) { store.update(parent, header: parentHeader) }
                }
            }
            return .noNode
        }
        let znode = store.header(record)
        if znode.childCount > 0 {
            // Only replay over a fuzzy snapshot can get here (requests are refused with
            // notEmpty): the log recreates whatever it still needs below.
            let node = Znode(record: record, header: znode)
            for name in childNames(of: node) { _ = delete(ZNodePath.join(path, name), zxid: zxid, notifications: &notifications) }
            guard let again = self.record(path), store.header(again).childCount == 0 else { return .notEmpty }
            return delete(path, zxid: zxid, notifications: &notifications)
        }
        let parent = store.parent(record)
        if digestEnabled { digest &-= nodeDigest(record, path: path) }
        store.remove(record, pathLength: path.utf8.count)
        var parentHeader = store.header(parent)
        parentHeader.childCount -= 1
        if zxid > parentHeader.stat.pzxid { parentHeader.stat.pzxid = zxid }
        changing(parent, path: parentPath) { store.update(parent, header: parentHeader) }
        aclCache.release(znode.aclReference)
        if let session = EphemeralOwner.session(znode.stat.ephemeralOwner) {
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
    case duplicate(String)
    case invalidPath(String)
    public var description: String {
        switch self {
        case .missingParent(let path): return "znode \(path) has no parent in the snapshot"
        case .duplicate(let path): return "znode \(path) appears twice in the snapshot"
        case .invalidPath(let path): return "znode path \(path) is not a valid path"
        }
    }
}

/// Calls `body` with the bytes of `data`, or with nil.
@inline(__always)
func withOptionalBytes<R>(_ data: [UInt8]?, _ body: (UnsafeRawBufferPointer?) throws -> R) rethrows -> R {
    guard let data else { return try body(nil) }
    return try data.withUnsafeBytes { try body($0) }
}

extension String {
    var trimmingWhitespace: String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
