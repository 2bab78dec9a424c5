import Configuration
import DataTree
import ZooKeeperProtocol

/// Request preparation (`PrepRequestProcessor`): validation, ACL checks and the
/// transaction each write becomes. A write that fails becomes an error transaction, which
/// still takes a zxid and flows through the log, as in ZooKeeper.
extension ServerCore {
    static let specialPaths: Set<String> = ["/", DataTree.zookeeperPath, DataTree.quotaPath, DataTree.configPath]

    mutating func prepareWrite(_ request: Request, session: Int64, authInfo: [Id], zxid: Int64, now: Now) -> TypedTxn {
        switch request {
        case .multi(let ops):
            let checkpoint = pending.checkpoint
            var txns: [TypedTxn] = []
            var failed = false
            for op in ops {
                if failed {
                    txns.append(TypedTxn(type: .error, txn: .error(KeeperError.runtimeInconsistency.rawValue)))
                    continue
                }
                do {
                    txns.append(try prepareOperation(op, session: session, authInfo: authInfo, zxid: zxid, now: now, inMulti: true))
                } catch {
                    failed = true
                    pending.restore(checkpoint)
                    txns.append(TypedTxn(type: .error, txn: .error(error.rawValue)))
                }
            }
            return TypedTxn(type: .multi, txn: .multi(txns))
        default:
            do {
                return try prepareOperation(request, session: session, authInfo: authInfo, zxid: zxid, now: now, inMulti: false)
            } catch {
                return TypedTxn(type: .error, txn: .error(error.rawValue))
            }
        }
    }

    private func record(_ path: String) throws(KeeperError) -> ChangeRecord {
        guard let record = pending.record(path, tree: tree) else { throw .noNode }
        return record
    }

    private func check(_ acl: [ACL], _ permission: Permissions, _ authInfo: [Id]) throws(KeeperError) {
        if !Authentication.permits(acl, permission, authInfo: authInfo) { throw .noAuth }
    }

    private func nextVersion(current: Int32, expected: Int32) throws(KeeperError) -> Int32 {
        if expected != -1 && expected != current { throw .badVersion }
        return current &+ 1
    }

    private func validate(_ path: String) throws(KeeperError) {
        if !ZNodePath.isValid(path) { throw .badArguments }
    }

    private mutating func prepareOperation(_ request: Request, session: Int64, authInfo: [Id], zxid: Int64, now: Now,
                                           inMulti: Bool) throws(KeeperError) -> TypedTxn {
        switch request {
        case .create(var create):
            // Inside a multi, ZooKeeper rebuilds each create from its flags: create2 becomes create.
            if inMulti && create.opCode == .create2 { create.opCode = .create }
            return try prepareCreate(create, session: session, authInfo: authInfo, zxid: zxid, now: now)

        case .delete(let path, let version):
            if !path.contains("/") || path.contains("\0") || Self.specialPaths.contains(path) { throw .badArguments }
            let parentPath = ZNodePath.parent(of: path)
            var parent = try record(parentPath)
            try check(parent.acl, .delete, authInfo)
            let node = try record(path)
            _ = try nextVersion(current: node.stat?.version ?? 0, expected: version)
            if node.childCount > 0 { throw .notEmpty }
            removeChild(path, parent: &parent, zxid: zxid)
            return TypedTxn(type: .delete, txn: .delete(path: path))

        case .deleteContainer(let path):
            if !path.contains("/") || path.contains("\0") || Self.specialPaths.contains(path) { throw .badArguments }
            let node = try record(path)
            if node.childCount > 0 { throw .notEmpty }
            let owner = node.stat?.ephemeralOwner ?? 0
            if !EphemeralOwner.isContainer(owner) && EphemeralOwner.ttlValue(owner) == nil { throw .badVersion }
            var parent = try record(ZNodePath.parent(of: path))
            removeChild(path, parent: &parent, zxid: zxid)
            return TypedTxn(type: .deleteContainer, txn: .delete(path: path))

        case .setData(let path, let data, let version):
            try validate(path)
            var node = try record(path)
            try check(node.acl, .write, authInfo)
            let newVersion = try nextVersion(current: node.stat?.version ?? 0, expected: version)
            node.zxid = zxid
            node.stat?.version = newVersion
            node.stat?.mzxid = zxid
            node.stat?.mtime = now.wallMillis
            pending.add(node)
            return TypedTxn(type: .setData, txn: .setData(path: path, data: data, version: newVersion))

        case .setACL(let path, let acl, let version):
            try validate(path)
            let fixed = try Authentication.fixup(acl, authInfo: authInfo)
            var node = try record(path)
            try check(node.acl, .admin, authInfo)
            let newVersion = try nextVersion(current: node.stat?.aversion ?? 0, expected: version)
            node.zxid = zxid
            node.stat?.aversion = newVersion
            node.acl = fixed
            pending.add(node)
            return TypedTxn(type: .setACL, txn: .setACL(path: path, acl: fixed, version: newVersion))

        case .check(let path, let version):
            try validate(path)
            let node = try record(path)
            try check(node.acl, .read, authInfo)
            let newVersion = try nextVersion(current: node.stat?.version ?? 0, expected: version)
            return TypedTxn(type: .check, txn: .check(path: path, version: newVersion))

        case .reconfig(let reconfig):
            if inMulti { throw .badArguments }
            if !configuration.reconfigEnabled { throw .reconfigDisabled }
            guard reconfigContext != nil else {
                // As a standalone ZooKeeper: only who may write the config node gets as far as
                // learning that a standalone server cannot reconfigure.
                try check(try record(DataTree.configPath).acl, .write, authInfo)
                throw .unimplemented
            }
            return try prepareReconfig(reconfig, authInfo: authInfo, zxid: zxid, now: now)

        default:
            throw inMulti ? .badArguments : .marshallingError
        }
    }

    /// A leader's `reconfig` (`PrepRequestProcessor`): no other reconfig in flight, the version
    /// the client saw, the new membership's form, a synchronized quorum of its voters, then
    /// the config node's ACL; the transaction sets `/zookeeper/config` to the new
    /// configuration, whose version is this zxid.
    private mutating func prepareReconfig(_ request: ReconfigRequest, authInfo: [Id], zxid: Int64,
                                          now: Now) throws(KeeperError) -> TypedTxn {
        guard var context = reconfigContext else { throw .unimplemented }
        if context.isReconfiguring { throw .reconfigInProgress }
        if request.curConfigId != -1 && request.curConfigId != context.lastSeen.version { throw .badVersion }
        let next: Membership
        do {
            next = try context.lastSeen.reconfigured(joining: request.joiningServers, leaving: request.leavingServers,
                                                     newMembers: request.newMembers, version: zxid,
                                                     standaloneEnabled: context.standaloneEnabled)
        } catch {
            switch error {
            case .badArguments: throw .badArguments
            case .marshallingError: throw .marshallingError
            }
        }
        if !context.isQuorumSynced(next) { throw .newConfigNoQuorum }
        var node = try record(DataTree.configPath)
        try check(node.acl, .write, authInfo)
        let text = Array(next.text.utf8)
        node.zxid = zxid
        node.stat?.version = -1
        node.stat?.mzxid = zxid
        node.stat?.mtime = now.wallMillis
        pending.add(node)
        context.lastSeen = next
        reconfigContext = context
        return TypedTxn(type: .reconfig, txn: .setData(path: DataTree.configPath, data: text, version: -1))
    }

    private mutating func removeChild(_ path: String, parent: inout ChangeRecord, zxid: Int64) {
        parent.zxid = zxid
        parent.childCount -= 1
        parent.stat?.pzxid = zxid
        pending.add(parent)
        pending.add(ChangeRecord(zxid: zxid, path: path, stat: nil, childCount: 0, acl: []))
    }

    private mutating func prepareCreate(_ create: CreateRequest, session: Int64, authInfo: [Id], zxid: Int64,
                                        now: Now) throws(KeeperError) -> TypedTxn {
        guard let mode = CreateMode(rawValue: create.flags) else { throw .badArguments }
        if mode.isTTL && !configuration.extendedTypesEnabled { throw .unimplemented }
        if mode.isTTL {
            if create.ttl <= 0 || create.ttl > EphemeralOwner.maxTTL { throw .badArguments }
        } else if create.opCode == .createTTL && create.ttl >= 0 {
            throw .badArguments
        }
        if create.opCode == .createTTL && !mode.isTTL { throw .badArguments }
        if create.opCode == .createContainer && !mode.isContainer { throw .badArguments }
        if !create.path.contains("/") || create.path.contains("\0") { throw .badArguments }
        let acl = try Authentication.fixup(create.acl, authInfo: authInfo)
        let parentPath = ZNodePath.parent(of: create.path)
        var parent = try record(parentPath)
        try check(parent.acl, .create, authInfo)
        let parentCVersion = parent.stat?.cversion ?? 0
        var path = create.path
        if mode.isSequential { path += Self.sequenceSuffix(parentCVersion) }
        try validate(path)
        if pending.record(path, tree: tree) != nil { throw .nodeExists }
        if EphemeralOwner.session(parent.stat?.ephemeralOwner ?? 0) != nil { throw .noChildrenForEphemerals }
        let newCVersion = parentCVersion &+ 1  // wraps as Java's int does

        var stat = StatPersisted()
        stat.czxid = zxid; stat.mzxid = zxid; stat.pzxid = zxid
        stat.ctime = now.wallMillis; stat.mtime = now.wallMillis
        let typed: TypedTxn
        if mode.isContainer {
            stat.ephemeralOwner = EphemeralOwner.container
            typed = TypedTxn(type: .createContainer, txn: .createContainer(path: path, data: create.data, acl: acl, parentCVersion: newCVersion))
        } else if mode.isTTL {
            stat.ephemeralOwner = EphemeralOwner.ttl(create.ttl)
            typed = TypedTxn(type: .createTTL, txn: .createTTL(path: path, data: create.data, acl: acl, parentCVersion: newCVersion, ttl: create.ttl))
        } else {
            stat.ephemeralOwner = mode.isEphemeral ? session : 0
            let type: OpCode = create.opCode == .create ? .create : .create2
            typed = TypedTxn(type: type, txn: .create(path: path, data: create.data, acl: acl, ephemeral: mode.isEphemeral, parentCVersion: newCVersion))
        }
        parent.zxid = zxid
        parent.childCount += 1
        parent.stat?.cversion = newCVersion
        parent.stat?.pzxid = zxid
        pending.add(parent)
        pending.add(ChangeRecord(zxid: zxid, path: path, stat: stat, childCount: 0, acl: acl))
        return typed
    }

    /// The sequential suffix for a parent whose create count is `cversion` (`%010d`).
    static func sequenceSuffix(_ cversion: Int32) -> String {
        let digits = String(cversion.magnitude)
        let width = cversion < 0 ? 9 : 10
        let padded = String(repeating: "0", count: max(0, width - digits.count)) + digits
        return cversion < 0 ? "-" + padded : padded
    }
}
