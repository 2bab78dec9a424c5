import DataTree
import Testing
import ZooKeeperProtocol

struct DataTreeTests {
    var zxid: Int64 = 0
    let tree = DataTree()
    var events: [WatchNotification] = []

    mutating func apply(_ txn: Txn, type: OpCode, session: Int64 = 0x11) -> TxnResult {
        zxid += 1
        return tree.apply(TxnHeader(clientId: session, cxid: 1, zxid: zxid, time: 1000 + zxid, type: type.rawValue),
                          txn: txn, notifications: &events)
    }

    @Test func freshTreeMatchesZooKeeper() {
        let root = tree.node("/")?.clientStat
        #expect(root?.cversion == -1 && root?.numChildren == 1)
        #expect(tree.node("/zookeeper")?.clientStat.cversion == -2)
        #expect(tree.node("/zookeeper/config")?.clientStat.aversion == -1)
        #expect(tree.node("/zookeeper/config").map(tree.acl(of:)) == ACL.readUnsafe)
    }

    /// initConfigInZKDatabase: the membership text with version -1 and mzxid the
    /// configuration's version; no zxid is used and the digest does not move.
    @Test func theConfigurationNodeIsSetAsAQuorumMemberSetsIt() {
        let digest = tree.digest
        tree.addDataWatch(DataTree.configPath, watcher: 7)
        let fired = tree.setConfiguration(Array("server.1=h:1:2:participant\nversion=100000000".utf8), version: 0x1_0000_0000, time: 1234)
        let node = tree.node(DataTree.configPath)
        #expect(node.map(tree.data(of:)) == Array("server.1=h:1:2:participant\nversion=100000000".utf8))
        #expect(node?.clientStat.version == -1 && node?.clientStat.mzxid == 0x1_0000_0000 && node?.clientStat.mtime == 1234)
        #expect(node?.clientStat.aversion == -1)
        #expect(tree.lastProcessedZxid == 0 && tree.digest == digest)
        #expect(fired.count == 1)
    }

    @Test mutating func createAndDeleteKeepZooKeepersStatArithmetic() {
        _ = apply(.create(path: "/p", data: [], acl: ACL.openUnsafe, ephemeral: false, parentCVersion: 0), type: .create)
        _ = apply(.create(path: "/p/a", data: [1], acl: ACL.openUnsafe, ephemeral: false, parentCVersion: 1), type: .create)
        _ = apply(.create(path: "/p/b", data: [], acl: ACL.openUnsafe, ephemeral: true, parentCVersion: 2), type: .create)
        #expect(tree.node("/p")?.clientStat.cversion == 2)
        #expect(tree.ephemerals[0x11] == ["/p/b"])
        let deleted = apply(.delete(path: "/p/a"), type: .delete)
        #expect(deleted.error == .ok)
        let parent = tree.node("/p")?.clientStat
        #expect(parent?.cversion == 3 && parent?.numChildren == 1 && parent?.pzxid == zxid)
        #expect(apply(.delete(path: "/p/a"), type: .delete).error == .noNode)
        _ = apply(.closeSession(paths: ["/p/b"]), type: .closeSession)
        #expect(tree.node("/p/b") == nil && tree.ephemerals[0x11] == nil)
    }

    /// Replaying a log over a fuzzy snapshot can meet a delete of a znode that the snapshot
    /// caught with children created later; the subtree goes, and the log recreates the rest.
    @Test mutating func replayedDeleteOfAZnodeWithChildrenTakesItsSubtree() {
        _ = apply(.create(path: "/r", data: [], acl: ACL.openUnsafe, ephemeral: false, parentCVersion: -1), type: .create)
        _ = apply(.create(path: "/r/x", data: [1], acl: ACL.openUnsafe, ephemeral: false, parentCVersion: -1), type: .create)
        _ = apply(.create(path: "/r/x/y", data: [2], acl: ACL.openUnsafe, ephemeral: true, parentCVersion: -1), type: .create)
        #expect(apply(.delete(path: "/r/x"), type: .delete).error == .ok)
        #expect(tree.node("/r/x") == nil && tree.node("/r/x/y") == nil && tree.ephemerals[0x11] == nil)
        #expect(tree.node("/r")?.childCount == 0)
        #expect(apply(.create(path: "/r/x", data: [3], acl: ACL.openUnsafe, ephemeral: false, parentCVersion: -1), type: .create).error == .ok)
        #expect(tree.node("/r/x").map(tree.data(of:)) == [3] && tree.node("/r/x")?.childCount == 0)
    }

    @Test mutating func failedMultiChangesNothingAndReportsPerOperation() {
        let result = apply(.multi([
            TypedTxn(type: .create, txn: .create(path: "/m", data: [], acl: ACL.openUnsafe, ephemeral: false, parentCVersion: 0)),
            TypedTxn(type: .error, txn: .error(KeeperError.noNode.rawValue)),
            TypedTxn(type: .error, txn: .error(KeeperError.runtimeInconsistency.rawValue)),
        ]), type: .multi)
        #expect(result.multi.map(\.error) == [.ok, .noNode, .runtimeInconsistency])
        #expect(tree.node("/m") == nil)
    }

    @Test mutating func watchesFireOnceAndPersistentOnesStay() {
        _ = apply(.create(path: "/w", data: [], acl: ACL.openUnsafe, ephemeral: false, parentCVersion: 0), type: .create)
        tree.addDataWatch("/w", watcher: 1)
        tree.addPersistentWatch("/", watcher: 2, recursive: true)
        _ = apply(.setData(path: "/w", data: [1], version: 1), type: .setData)
        _ = apply(.setData(path: "/w", data: [2], version: 2), type: .setData)
        #expect(events.map(\.watcher) == [1, 2, 2])
        #expect(events.allSatisfy { $0.event.type == WatchEventType.nodeDataChanged.rawValue && $0.event.path == "/w" })
        tree.removeWatcher(2)
        events.removeAll()
        _ = apply(.setData(path: "/w", data: [3], version: 3), type: .setData)
        #expect(events.isEmpty)
    }

    @Test func aclCacheSharesAndReleasesLists() {
        var cache = ACLCache()
        let a = cache.reference(for: ACL.openUnsafe)
        let b = cache.reference(for: ACL.openUnsafe)
        #expect(a == b && cache.count == 1)
        cache.release(a)
        #expect(cache.count == 1)
        cache.release(a)
        #expect(cache.count == 0)
    }
}
