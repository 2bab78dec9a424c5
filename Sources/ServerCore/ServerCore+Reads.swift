import DataTree
import ZooKeeperProtocol

/// Requests answered from the local tree (`FinalRequestProcessor`'s read cases), watch
/// registration, and the re-registration of watches after a reconnect.
extension ServerCore {
    mutating func serveRead(_ id: ConnectionID, _ held: HeldRequest, arrivedAt: Int64, now: Now, into actions: inout [Action]) {
        guard let connection = connections[id] else { return }
        let xid = held.header.xid
        let request: Request
        switch held {
        case .undecodable(let header, let failure):
            answered(id, xid: xid, opCode: OpCode(rawValue: header.type) ?? .error, arrivedAt: arrivedAt, now: now)
            actions.append(.send(id, .reply(ReplyHeader(xid: xid, zxid: tree.lastProcessedZxid, err: failure.rawValue), .empty)))
            return
        case .request(_, .closeSession):
            // Only a local session's closeSession is served here.
            return closeLocalSession(id, xid: xid, session: connection.sessionId ?? 0, arrivedAt: arrivedAt, now: now, into: &actions)
        case .request(_, let decoded):
            request = decoded
        }
        answered(id, xid: xid, opCode: request.opCode, arrivedAt: arrivedAt, now: now)
        let body: Response
        do {
            body = try read(request, connection: id, authInfo: connection.authInfo, session: connection.sessionId ?? 0, into: &actions)
        } catch {
            actions.append(.send(id, .reply(ReplyHeader(xid: xid, zxid: tree.lastProcessedZxid, err: error.rawValue), .empty)))
            return
        }
        actions.append(.send(id, .reply(ReplyHeader(xid: xid, zxid: tree.lastProcessedZxid, err: 0), body)))
    }

    /// ZooKeeper keeps the root under "" as well as "/", so reads that look a node up by
    /// path find the root for "".
    private func lookUp(_ path: String) -> Znode? {
        tree.node(path.isEmpty ? "/" : path)
    }

    private func readableNode(_ path: String, _ authInfo: [Id]) throws(KeeperError) -> Znode {
        guard let node = lookUp(path) else { throw .noNode }
        if !Authentication.permits(tree.acl(of: node), .read, authInfo: authInfo) { throw .noAuth }
        return node
    }

    private func read(_ request: Request, connection id: ConnectionID, authInfo: [Id], session: Int64,
                      into actions: inout [Action]) throws(KeeperError) -> Response {
        switch request {
        case .exists(let path, let watch):
            // ZooKeeper 3.8 checks no ACL on exists (3.9 requires READ).
            if path.contains("\0") { throw .badArguments }
            if watch { tree.addDataWatch(path, watcher: id) }
            guard let node = lookUp(path) else { throw .noNode }
            return .stat(node.clientStat)

        case .getData(let path, let watch):
            let node = try readableNode(path, authInfo)
            if watch { tree.addDataWatch(path, watcher: id) }
            return .getData(data: tree.data(of: node), stat: node.clientStat)

        case .getChildren(let path, let watch), .getChildren2(let path, let watch):
            let node = try readableNode(path, authInfo)
            if watch { tree.addChildWatch(path, watcher: id) }
            let children = tree.childNames(of: node).sorted()
            if case .getChildren = request { return .getChildren(children: children) }
            return .getChildren2(children: children, stat: node.clientStat)

        case .getACL(let path):
            guard let node = lookUp(path) else { throw .noNode }
            let acl = tree.acl(of: node)
            if !Authentication.permits(acl, [.read, .admin], authInfo: authInfo) { throw .noAuth }
            if Authentication.permits(acl, .admin, authInfo: authInfo) { return .getACL(acl: acl, stat: node.clientStat) }
            let masked = acl.map { entry -> ACL in
                guard entry.id.scheme == "digest", let user = entry.id.id.split(separator: ":", maxSplits: 1).first else { return entry }
                return ACL(perms: entry.perms, id: Id(scheme: "digest", id: user + ":x"))
            }
            return .getACL(acl: masked, stat: node.clientStat)

        case .getAllChildrenNumber(let path):
            _ = try readableNode(path, authInfo)
            return .getAllChildrenNumber(Int32(clamping: tree.descendantCount(of: path)))

        case .getEphemerals(let prefix):
            return .getEphemerals(tree.ephemerals(of: session, prefix: prefix))

        case .sync(let path):
            return .sync(path: path)

        case .multiRead(let ops):
            var results: [MultiResult] = []
            for op in ops {
                do throws(KeeperError) {
                    switch op {
                    case .getData, .getChildren:
                        let body = try read(op, connection: id, authInfo: authInfo, session: session, into: &actions)
                        results.append(MultiResult(opCode: op.opCode, body: body))
                    default:
                        throw KeeperError.badArguments
                    }
                } catch {
                    results.append(.error(error))
                }
            }
            return .multi(results)

        case .addWatch(let path, let mode):
            guard let mode = AddWatchMode(rawValue: mode) else { throw .badArguments }
            tree.addPersistentWatch(path, watcher: id, recursive: mode == .persistentRecursive)
            return .errorResponse(0)

        case .checkWatches(let path, let type), .removeWatches(let path, let type):
            guard let type = WatcherType(rawValue: type) else { throw .badArguments }
            let remove: Bool
            if case .removeWatches = request { remove = true } else { remove = false }
            if !watches(path: path, watcher: id, type: type, remove: remove) { throw .noWatcher }
            return .empty

        case .setWatches(let watches, _):
            reregister(watches, watcher: id, into: &actions)
            return .empty

        case .whoAmI:
            return .whoAmI(authInfo.map(Authentication.clientInfo))

        default:
            throw .unimplemented
        }
    }

    private func watches(path: String, watcher: WatcherID, type: WatcherType, remove: Bool) -> Bool {
        let dataModes: WatchModes
        let childModes: WatchModes
        switch type {
        case .children: dataModes = []; childModes = [.standard]
        case .data: dataModes = [.standard]; childModes = []
        case .any: dataModes = [.standard, .persistent, .persistentRecursive]; childModes = dataModes
        case .persistent: dataModes = [.persistent]; childModes = [.persistent]
        case .persistentRecursive: dataModes = [.persistentRecursive]; childModes = [.persistentRecursive]
        }
        let held = !tree.dataWatches.modes(path: path, watcher: watcher).intersection(dataModes).isEmpty
            || !tree.childWatches.modes(path: path, watcher: watcher).intersection(childModes).isEmpty
        if remove && held {
            tree.dataWatches.remove(path: path, watcher: watcher, modes: dataModes)
            tree.childWatches.remove(path: path, watcher: watcher, modes: childModes)
        }
        return held
    }

    /// `DataTree.setWatches`: fire at once what changed since `relativeZxid`, register the rest.
    private func reregister(_ watches: SetWatches, watcher: WatcherID, into actions: inout [Action]) {
        let relative = watches.relativeZxid
        func fire(_ type: WatchEventType, _ path: String) {
            actions.append(.send(watcher, .notification(WatcherEvent(type: type, path: path))))
        }
        for path in watches.dataWatches {
            if let node = tree.node(path) {
                if node.stat.mzxid > relative { fire(.nodeDataChanged, path) } else { tree.addDataWatch(path, watcher: watcher) }
            } else {
                fire(.nodeDeleted, path)
            }
        }
        for path in watches.existWatches {
            if tree.node(path) != nil { fire(.nodeCreated, path) } else { tree.addDataWatch(path, watcher: watcher) }
        }
        for path in watches.childWatches {
            if let node = tree.node(path) {
                if node.stat.pzxid > relative { fire(.nodeChildrenChanged, path) } else { tree.addChildWatch(path, watcher: watcher) }
            } else {
                fire(.nodeDeleted, path)
            }
        }
        for path in watches.persistentWatches { tree.addPersistentWatch(path, watcher: watcher, recursive: false) }
        for path in watches.persistentRecursiveWatches { tree.addPersistentWatch(path, watcher: watcher, recursive: true) }
    }
}
