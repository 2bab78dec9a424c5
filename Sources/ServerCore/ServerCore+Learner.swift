import DataTree
import DequeModule
import Jute
import ZooKeeperProtocol

/// A follower's or observer's client side (`FollowerRequestProcessor`, the learner's
/// `CommitProcessor` and `LearnerSessionTracker`): reads are answered from the local tree,
/// writes and `sync` go to the leader, and each session's requests are answered in the order
/// they arrived, a write once the leader's commit of it has been applied here.
extension ServerCore {
    /// One request of a session waiting, on a learner, for the leader.
    enum LearnerPending {
        /// Forwarded; answered when its committed transaction (same session and cxid) arrives.
        case write(ConnectionID, xid: Int32, opCode: OpCode, arrivedAt: Int64, path: String)
        /// A read queued behind the session's earlier requests; a `sync` is `ready` once the
        /// leader's SYNC answer arrived.
        case read(ConnectionID, HeldRequest, arrivedAt: Int64, ready: Bool)
        /// A write that could not be decoded: answered with its error in its turn.
        case failure(ConnectionID, RequestHeader, KeeperError, arrivedAt: Int64)
    }

    /// The sessions heard from since the last call, with their timeouts: the data of the
    /// learner's next PING reply.
    public mutating func takeSessionTouches() -> [(sessionId: Int64, timeout: Int32)] {
        defer { touchedSessions.removeAll(keepingCapacity: true) }
        return touchedSessions.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// Requests waiting for the leader, on a learner.
    public var learnerOutstanding: Int { learnerQueues.values.reduce(0) { $0 + $1.count } }

    /// The session's createSession goes to the leader (a new session, or an upgraded local one).
    mutating func forwardCreateSession(_ session: Int64, timeout: Int32, into actions: inout [Action]) {
        touchedSessions[session] = timeout
        actions.append(.forward(LearnerRequest(sessionId: session, cxid: 0, type: OpCode.createSession.rawValue,
                                               body: LearnerRequest.createSessionBody(timeout: timeout), authInfo: [])))
    }

    mutating func forward(_ id: ConnectionID, _ header: RequestHeader, _ request: Request, session: Int64, authInfo: [Id],
                          now: Now, into actions: inout [Action]) {
        var writer = JuteWriter()
        request.write(to: &writer)
        actions.append(.forward(LearnerRequest(sessionId: session, cxid: header.xid, type: request.opCode.rawValue,
                                               body: Array(writer.buffer.readableBytesView), authInfo: authInfo)))
        if case .sync = request {
            forwardedSyncs.append(session)
            learnerQueues[session, default: []].append(.read(id, .request(header, request), arrivedAt: now.monotonicMillis, ready: false))
        } else {
            learnerQueues[session, default: []].append(.write(id, xid: header.xid, opCode: request.opCode,
                                                              arrivedAt: now.monotonicMillis, path: request.path ?? ""))
        }
    }

    mutating func queueLearnerRead(_ id: ConnectionID, _ request: HeldRequest, session: Int64, now: Now,
                                   into actions: inout [Action]) {
        if learnerQueues[session]?.isEmpty ?? true {
            serveRead(id, request, arrivedAt: now.monotonicMillis, now: now, into: &actions)
        } else {
            learnerQueues[session, default: []].append(.read(id, request, arrivedAt: now.monotonicMillis, ready: true))
        }
    }

    mutating func queueLearnerFailure(_ id: ConnectionID, _ header: RequestHeader, session: Int64, error: KeeperError, now: Now,
                                      into actions: inout [Action]) {
        learnerQueues[session, default: []].append(.failure(id, header, error, arrivedAt: now.monotonicMillis))
        drainLearnerQueue(session, now: now, into: &actions)
    }

    /// Applies the leader's commit; when it is the oldest forwarded write of a session
    /// connected here, answers it (and what waited behind it).
    mutating func applyLeaderCommit(_ header: TxnHeader, _ txn: Txn, now: Now, into actions: inout [Action]) {
        var notifications: [WatchNotification] = []
        let session = header.clientId
        let type = OpCode(rawValue: header.type)
        let result = apply(header, txn, notifications: &notifications, into: &actions)
        lastPreparedZxid = max(lastPreparedZxid, header.zxid)
        if type == .createSession {
            // A session this server created: the handshake completes now.
            for (id, connection) in connections where connection.sessionId == session && connection.awaitingSession
                && connection.revalidatingTimeout == nil {
                reply(to: PreparedWrite(header: header, txn: txn, origin: .createSession(id, readOnly: connection.sentReadOnlyByte)),
                      result: result, now: now, into: &actions)
            }
            return
        }
        var matched = false
        if case .write(let id, let xid, let opCode, let arrivedAt, let path)? = learnerQueues[session]?.first, xid == header.cxid {
            learnerQueues[session]?.removeFirst()
            matched = true
            let origin: Origin = opCode == .closeSession
                ? .closeSession(id, xid: xid)
                : .client(id, xid: xid, opCode: opCode, arrivedAt: arrivedAt, path: path)
            if connections[id]?.sessionId == session || opCode == .closeSession {
                reply(to: PreparedWrite(header: header, txn: txn, origin: origin), result: result, now: now, into: &actions)
            }
        }
        if type == .closeSession {
            // Closed by the leader (expired, or from another server): its connection here goes.
            learnerQueues[session] = nil
            touchedSessions[session] = nil
            if !matched {
                for (id, connection) in connections where connection.sessionId == session {
                    connections[id]?.sessionId = nil
                    actions.append(.info("Closing connection of session 0x\(hex(session)): closed by the leader"))
                    actions.append(.close(id))
                }
            }
            return
        }
        drainLearnerQueue(session, now: now, into: &actions)
    }

    /// The leader answered the oldest forwarded `sync`: it is ready in its session's turn.
    mutating func answerForwardedSync(now: Now, into actions: inout [Action]) {
        guard let session = forwardedSyncs.popFirst(), var queue = learnerQueues[session] else { return }
        if let index = queue.firstIndex(where: {
            if case .read(_, .request(_, .sync), _, ready: false) = $0 { return true }
            return false
        }), case .read(let id, let request, let arrivedAt, _) = queue[index] {
            queue[index] = .read(id, request, arrivedAt: arrivedAt, ready: true)
            learnerQueues[session] = queue
        }
        drainLearnerQueue(session, now: now, into: &actions)
    }

    /// Answers the session's requests from the oldest until one still waits for the leader.
    private mutating func drainLearnerQueue(_ session: Int64, now: Now, into actions: inout [Action]) {
        while let head = learnerQueues[session]?.first {
            switch head {
            case .write, .read(_, _, _, ready: false):
                return
            case .read(let id, let request, let arrivedAt, ready: true):
                learnerQueues[session]?.removeFirst()
                if connections[id]?.sessionId == session {
                    serveRead(id, request, arrivedAt: arrivedAt, now: now, into: &actions)
                }
            case .failure(let id, let header, let error, let arrivedAt):
                learnerQueues[session]?.removeFirst()
                guard connections[id]?.sessionId == session else { continue }
                answered(id, xid: header.xid, opCode: OpCode(rawValue: header.type) ?? .error, arrivedAt: arrivedAt, now: now)
                actions.append(.send(id, .reply(ReplyHeader(xid: header.xid, zxid: tree.lastProcessedZxid, err: error.rawValue), .empty)))
            }
        }
        learnerQueues[session] = nil
    }

    /// The leader's answer about a session a client re-attaches with.
    mutating func finishRevalidation(_ session: Int64, valid: Bool, now: Now, into actions: inout [Action]) {
        let waiting = connections.filter { $0.value.sessionId == session && $0.value.revalidatingTimeout != nil }.sorted { $0.key < $1.key }
        for (id, connection) in waiting {
            let timeout = connection.revalidatingTimeout ?? 0
            let readOnly = connection.sentReadOnlyByte
            connections[id]?.revalidatingTimeout = nil
            connections[id]?.awaitingSession = false
            guard valid else {
                connections[id]?.sessionId = nil
                actions.append(.info("Invalid session 0x\(hex(session)) for client /\(connection.address): expired or unknown"))
                actions.append(.send(id, .connect(ConnectResponse(timeOut: 0, sessionId: 0, passwd: [UInt8](repeating: 0, count: 16), readOnly: readOnly))))
                actions.append(.close(id))
                continue
            }
            if let old = sessions.sessions[session]?.connection, old != id, connections[old] != nil {
                connections[old]?.sessionId = nil
                actions.append(.close(old))
            }
            actions.append(.info("Established session 0x\(hex(session)) with negotiated timeout \(timeout) for client /\(connection.address): the leader revalidated it"))
            if sessions.sessions[session] == nil { sessions.restore(id: session, timeout: timeout, now: now.monotonicMillis) }
            sessions.attach(session, connection: id, timeout: timeout, now: now.monotonicMillis)
            touchedSessions[session] = timeout
            actions.append(.send(id, .connect(ConnectResponse(timeOut: timeout, sessionId: session, passwd: SessionTracker.password(for: session), readOnly: readOnly))))
            releaseHeld(id, now: now, into: &actions)
        }
    }
}
