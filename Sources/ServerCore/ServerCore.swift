import DataTree
import DequeModule
import ZooKeeperProtocol

/// The time as the shell read it for one event: the core reads no clock of its own.
public struct Now: Sendable, Hashable {
    /// Milliseconds on a clock that never goes back, for timeouts.
    public var monotonicMillis: Int64
    /// Milliseconds since the epoch, for znode times.
    public var wallMillis: Int64
    public init(monotonicMillis: Int64, wallMillis: Int64) {
        self.monotonicMillis = monotonicMillis; self.wallMillis = wallMillis
    }
}

/// The standalone server as a pure state machine: sessions, request preparation,
/// the write pipeline (prepare → log → apply → reply) and watch dispatch.
///
/// The shell feeds it ``Event``s and performs the ``Action``s it returns, in order.
/// A write is replied to only after the shell reports it durable with ``Event/logged(upTo:)``.
public struct ServerCore {
    /// Where writes are decided.
    public enum Role: Sendable, Hashable {
        /// Writes are prepared here and committed once durable (or, under a leader's shell,
        /// once a quorum has them).
        case standalone
        /// A follower or observer: writes, `sync`, session creation and re-attachment go to
        /// the leader (``Action/forward(_:)``, ``Action/revalidate(session:timeout:)``), and
        /// the leader's committed transactions arrive as ``Event/committed(_:_:)``. Sessions
        /// are touched here and expired by the leader.
        case learner
    }

    /// Something that happened, as the shell reports it.
    public enum Event: Sendable {
        /// A client connected from `address` (its IP, without port) and `port`.
        case connectionOpened(ConnectionID, address: String, port: Int = 0)
        /// The handshake frame.
        case connect(ConnectionID, ConnectRequest)
        /// A decoded request.
        case request(ConnectionID, RequestHeader, Request)
        /// A request whose body could not be decoded: `unimplemented` for an opcode clients may
        /// not send (answered, then the connection closes, as ZooKeeper does), else
        /// `marshallingError`, answered in session order (a write's error takes a zxid).
        case undecodableRequest(ConnectionID, RequestHeader, KeeperError)
        /// Bytes arrived on a connection that has not finished its handshake: its idle clock
        /// starts again, as ZooKeeper touches a connection on every read.
        case connectionActivity(ConnectionID)
        /// The connection is gone.
        case connectionClosed(ConnectionID)
        /// The connection's TLS handshake showed who the client is: a client certificate's
        /// subject as `x509` (and as `super` when it is the configured super user's), as
        /// ZooKeeper's `X509AuthenticationProvider` adds them.
        case connectionAuthenticated(ConnectionID, [Id])
        /// The connection's TLS handshake failed or did not finish in time; the shell closes
        /// it. `certificateRefused` when the client's certificate was the reason.
        case handshakeFailed(ConnectionID, reason: String, certificateRefused: Bool)
        /// Every transaction up to and including `zxid` is durable.
        case logged(upTo: Int64)
        /// Time passed: expire sessions, reap containers and TTL znodes.
        case tick
        /// A learner: the leader committed this transaction (in zxid order).
        case committed(TxnHeader, Txn)
        /// A learner: the leader's SYNC answer to the oldest `sync` forwarded.
        case syncAnswered
        /// A learner: the leader's answer to ``Action/revalidate(session:timeout:)``.
        case revalidated(session: Int64, valid: Bool)
        /// The leader: a learner forwarded a client's request (REQUEST). It is prepared as a
        /// transaction here; the learner answers its client when the commit reaches it.
        case learnerRequest(LearnerRequest, from: Int64)
    }

    /// Something the shell must do.
    public enum Action: Sendable, Hashable {
        /// Send a frame.
        case send(ConnectionID, OutboundFrame)
        /// Close the connection once what was sent before is written.
        case close(ConnectionID)
        /// Stop reading from the connection until ``resumeReading(_:)``; requests already read
        /// are still delivered, and the core holds them (ZooKeeper's `disableRecv`).
        case pauseReading(ConnectionID)
        /// Read from the connection again.
        case resumeReading(ConnectionID)
        /// Append a transaction to the log; report back with ``Event/logged(upTo:)``.
        case log(TxnHeader, Txn)
        /// Tell the operator something.
        case warn(String)
        case info(String)
        /// Something operators subscribe to (`/events`, webhooks): a kind and its details.
        case event(String, [String: String])
        /// A line for the audit log, in ZooKeeper's `key=value` form (only with `audit.enable`).
        case audit(String)
        /// A learner: send this request to the leader (a REQUEST packet).
        case forward(LearnerRequest)
        /// A learner: ask the leader whether a session a client re-attaches with is live.
        case revalidate(session: Int64, timeout: Int32)
        /// The leader: a client asked it to hand leadership to server `target` (Aviary's
        /// ``OpCode/transferLeadership``); answer `xid` on the connection when it is done.
        case transferLeadership(ConnectionID, xid: Int32, target: Int64)
    }

    struct Connection {
        var address: String
        var sessionId: Int64?
        var sentReadOnlyByte: Bool?
        var authInfo: [Id]
        var statistics: ConnectionStatistics
        /// Monotonic milliseconds when it was accepted or, before its handshake, last sent bytes.
        var lastHeardAt: Int64
        /// Whether it has sent its handshake (a session may still be on its way).
        var handshaken = false
        /// Whether its new session's createSession transaction is not yet committed: requests
        /// that arrive meanwhile wait in `held`, answered only after the ConnectResponse.
        var awaitingSession = false
        var held: [HeldRequest] = []
        /// Whether it sent closeSession: what it sends after that is not answered, as ZooKeeper
        /// closes the connection once it has replied to the closeSession.
        var closingSession = false
        /// A learner: the timeout this connection asked for while its session is revalidated.
        var revalidatingTimeout: Int32?
        /// Its SASL exchange, from its first SASL packet.
        var sasl: (any SASLMechanism)?
    }

    /// A request as it arrived: decoded, or with the error its body gave. Held while its
    /// connection's session is being created, and queued while a read waits its turn.
    enum HeldRequest {
        case request(RequestHeader, Request)
        case undecodable(RequestHeader, KeeperError)

        var header: RequestHeader {
            switch self {
            case .request(let header, _), .undecodable(let header, _): return header
            }
        }
    }

    /// A connection as the operator surface shows it.
    public struct ConnectionView: Sendable {
        public var id: ConnectionID
        public var sessionId: Int64?
        public var sessionTimeout: Int32?
        public var statistics: ConnectionStatistics
    }

    enum Origin {
        case client(ConnectionID, xid: Int32, opCode: OpCode, arrivedAt: Int64, path: String)
        case createSession(ConnectionID, readOnly: Bool?)
        case closeSession(ConnectionID?, xid: Int32)
        case server
    }

    struct PreparedWrite {
        var header: TxnHeader
        var txn: Txn
        var origin: Origin
    }

    struct WaitingRead {
        var waitFor: Int64
        var arrivedAt: Int64
        var session: Int64
        var connection: ConnectionID
        var request: HeldRequest
    }

    public let configuration: ServerCoreConfiguration
    /// The tree every read is served from.
    public let tree: DataTree
    /// Live sessions.
    public internal(set) var sessions: SessionTracker
    var connections: [ConnectionID: Connection] = [:]
    var pending = PendingChanges()
    var uncommitted = Deque<PreparedWrite>()
    var waitingReads = Deque<WaitingRead>()
    var lastWriteBySession: [Int64: Int64] = [:]
    var waitingReadsBySession: [Int64: Int] = [:]
    /// The zxid of the last transaction prepared.
    public internal(set) var lastPreparedZxid: Int64
    var nextContainerCheck: Int64 = 0
    /// Server-wide counters.
    public internal(set) var statistics = ServerStatistics()
    /// Whether clients are served; while false (an ensemble member with no quorum) a
    /// handshake closes the connection, as ZooKeeper's "ZooKeeperServer not running".
    public var serving = true
    /// Serving read-only (`ReadOnlyZooKeeperServer`): only clients that allow a read-only
    /// server connect; their writes and `sync` are answered NotReadOnly; sessions made here
    /// live in this server alone, and the tree does not change.
    public var readOnly = false
    /// While leading: what a `reconfig` request is checked against. nil elsewhere.
    public var reconfigContext: ReconfigContext?
    /// A learner: each session's requests in arrival order, waiting for the leader.
    var learnerQueues: [Int64: Deque<LearnerPending>] = [:]
    /// A learner: sessions whose `sync` went to the leader, oldest first.
    var forwardedSyncs = Deque<Int64>()
    /// A learner: sessions heard from since the last PING reply, with their timeouts.
    var touchedSessions: [Int64: Int32] = [:]

    /// Creates a core over `tree` (fresh, or recovered from disk).
    public init(configuration: ServerCoreConfiguration, tree: DataTree = DataTree(), now: Now) {
        self.configuration = configuration
        self.tree = tree
        self.sessions = SessionTracker(serverId: configuration.serverId, tickTime: configuration.tickTime, nowMillis: now.wallMillis)
        self.lastPreparedZxid = tree.lastProcessedZxid
        for (id, timeout) in tree.sessions { sessions.restore(id: id, timeout: timeout, now: now.monotonicMillis) }
        nextContainerCheck = now.monotonicMillis + configuration.containerCheckInterval
    }

    /// The number of open connections.
    public var connectionCount: Int { connections.count }

    /// Open connections with their counters, oldest first.
    public var connectionViews: [ConnectionView] {
        connections.sorted { $0.key < $1.key }.map { id, connection in
            ConnectionView(id: id, sessionId: connection.sessionId,
                           sessionTimeout: connection.sessionId.flatMap { sessions.sessions[$0]?.timeout },
                           statistics: connection.statistics)
        }
    }

    /// Writes prepared but not yet applied (ZooKeeper's outstanding requests).
    public var outstandingRequests: Int { uncommitted.count + waitingReads.count }

    /// `srst`: zero the server-wide counters.
    public mutating func resetServerStatistics() { statistics.reset() }

    /// `crst`: zero every connection's counters.
    public mutating func resetConnectionStatistics() {
        for id in connections.keys { connections[id]?.statistics.reset() }
    }

    /// Records an answered request for `cons`, `stat` and `mntr`.
    mutating func answered(_ id: ConnectionID, xid: Int32, opCode: OpCode, arrivedAt: Int64, now: Now) {
        let latency = max(0, now.monotonicMillis - arrivedAt)
        statistics.latency.record(latency)
        switch opCode {
        case .ping, .createSession, .closeSession: break
        default:
            if Request.writeOpCodes.contains(opCode) {
                statistics.updateLatency.record(latency)
            } else {
                statistics.readLatency.record(latency)
            }
        }
        guard connections[id] != nil else { return }
        connections[id]?.statistics.lastOperation = opCode.lastOperationName
        if xid >= 0 { connections[id]?.statistics.lastCxid = Int64(xid) }
        connections[id]?.statistics.lastZxid = tree.lastProcessedZxid
        connections[id]?.statistics.lastResponseTime = now.monotonicMillis
        connections[id]?.statistics.lastLatency = latency
        connections[id]?.statistics.latency.record(latency)
    }

    private mutating func countSent(_ actions: [Action]) {
        for action in actions {
            if case .send(let id, _) = action {
                statistics.packetsSent += 1
                connections[id]?.statistics.packetsSent += 1
            }
        }
    }

    private mutating func countReceived(_ id: ConnectionID) {
        statistics.packetsReceived += 1
        connections[id]?.statistics.packetsReceived += 1
    }

    /// Handles one event and returns what to do, in order.
    public mutating func receive(_ event: Event, now: Now) -> [Action] {
        var actions: [Action] = []
        switch event {
        case .connectionOpened(let id, let address, let port):
            let limit = configuration.maxClientConnections
            if limit > 0 && connections.values.reduce(0, { $0 + ($1.address == address ? 1 : 0) }) >= limit {
                statistics.connectionsRejected += 1
                actions.append(.warn("Too many connections from /\(address) - max is \(limit)"))
                actions.append(.event("connection_rejected", ["address": address, "reason": "maxClientCnxns \(limit) reached"]))
                actions.append(.close(id))
            } else {
                let remote = address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)"
                connections[id] = Connection(address: address, authInfo: [Id(scheme: "ip", id: address)],
                                             statistics: ConnectionStatistics(remote: remote, established: now.wallMillis),
                                             lastHeardAt: now.monotonicMillis)
            }
        case .connect(let id, let request):
            countReceived(id)
            handleConnect(id, request, now: now, into: &actions)
        case .request(let id, let header, let request):
            countReceived(id)
            handleRequest(id, header, request, now: now, into: &actions)
        case .undecodableRequest(let id, let header, let error):
            countReceived(id)
            handleUndecodable(id, header, error, now: now, into: &actions)
        case .connectionActivity(let id):
            if connections[id]?.handshaken == false { connections[id]?.lastHeardAt = now.monotonicMillis }
        case .connectionAuthenticated(let id, let identities):
            for identity in identities where !(connections[id]?.authInfo.contains(identity) ?? true) {
                connections[id]?.authInfo.append(identity)
            }
        case .handshakeFailed(let id, let reason, let certificateRefused):
            statistics.unsuccessfulHandshakes += 1
            let address = connections[id]?.address ?? "unknown"
            if certificateRefused { statistics.authFailures += 1 }
            actions.append(.event("auth_failed", ["address": address, "scheme": "tls", "reason": reason]))
            actions.append(.warn("TLS handshake with /\(address) failed: \(reason)"))
        case .connectionClosed(let id):
            if let connection = connections.removeValue(forKey: id), let session = connection.sessionId {
                sessions.detach(session, from: id)
            }
            tree.removeWatcher(id)
        case .logged(let zxid):
            applyCommitted(upTo: zxid, now: now, into: &actions)
        case .tick:
            closeSessionlessConnections(now: now, into: &actions)
            if serving { expireLocalSessions(now: now, into: &actions) }
            if configuration.role == .standalone && serving && !readOnly {
                // In an ensemble only the leader expires sessions and reaps containers.
                expireSessions(now: now, into: &actions)
                reapContainers(now: now, into: &actions)
            }
        case .committed(let header, let txn):
            applyLeaderCommit(header, txn, now: now, into: &actions)
        case .syncAnswered:
            answerForwardedSync(now: now, into: &actions)
        case .revalidated(let session, let valid):
            finishRevalidation(session, valid: valid, now: now, into: &actions)
        case .learnerRequest(let request, let sid):
            prepareLearnerRequest(request, from: sid, now: now, into: &actions)
        }
        countSent(actions)
        return actions
    }

    /// Connections that send no handshake are closed after a while without bytes from them,
    /// so that idle or half-open sockets cannot pile up.
    private mutating func closeSessionlessConnections(now: Now, into actions: inout [Action]) {
        let deadline = now.monotonicMillis - configuration.sessionlessConnectionTimeout
        let idle = connections.filter { !$0.value.handshaken && $0.value.lastHeardAt <= deadline }.sorted { $0.key < $1.key }
        for (id, connection) in idle {
            actions.append(.info("Closing connection from /\(connection.statistics.remote): no handshake and no bytes for \(configuration.sessionlessConnectionTimeout) ms"))
            actions.append(.close(id))
        }
    }

    // MARK: Handshake

    private mutating func handleConnect(_ id: ConnectionID, _ request: ConnectRequest, now: Now, into actions: inout [Action]) {
        guard var connection = connections[id], connection.sessionId == nil, !connection.handshaken else {
            actions.append(.close(id)); return
        }
        guard serving else {
            actions.append(.info("Closing connection from /\(connection.statistics.remote): ZooKeeperServer not running"))
            actions.append(.close(id)); return
        }
        if self.readOnly && request.readOnly != true {
            actions.append(.info("Refusing session request for not-read-only client /\(connection.address)"))
            actions.append(.close(id)); return
        }
        connection.handshaken = true
        connections[id]?.handshaken = true
        let readOnly: Bool? = request.readOnly == nil ? nil : self.readOnly
        connection.sentReadOnlyByte = readOnly
        if request.lastZxidSeen > tree.lastProcessedZxid {
            actions.append(.warn("Refusing session request for client /\(connection.address) as it has seen zxid 0x\(hex(request.lastZxidSeen)) our last zxid is 0x\(hex(tree.lastProcessedZxid)) client must try another server"))
            actions.append(.close(id))
            return
        }
        let bounds = configuration.sessionTimeoutBounds
        let timeout = min(max(request.timeOut, bounds.lowerBound), bounds.upperBound)
        if request.sessionId == 0 {
            let local = self.readOnly || configuration.localSessionsEnabled
            let session = sessions.create(timeout: timeout, now: now.monotonicMillis, connection: id, local: local)
            connection.sessionId = session
            if local {
                // No transaction: the session is this server's alone (read-only, or a local session).
                connections[id] = connection
                actions.append(.send(id, .connect(ConnectResponse(timeOut: timeout, sessionId: session,
                                                                  passwd: SessionTracker.password(for: session), readOnly: readOnly))))
                return
            }
            connection.awaitingSession = true
            connections[id] = connection
            actions.append(.pauseReading(id))
            if configuration.role == .learner {
                forwardCreateSession(session, timeout: timeout, into: &actions)
            } else {
                prepare(TypedTxn(type: .createSession, txn: .createSession(timeOut: timeout)), session: session, xid: 0,
                        origin: .createSession(id, readOnly: readOnly), now: now, into: &actions)
            }
            return
        }
        let session = request.sessionId
        if configuration.role == .learner && !self.readOnly && !sessions.isLocal(session)
            && request.passwd == SessionTracker.password(for: session) {
            // Only the leader knows whether the session is live: ask it, holding what follows.
            actions.append(.info("Client attempting to renew session 0x\(hex(session)) at /\(connection.address): revalidating it with the leader"))
            connection.sessionId = session
            connection.awaitingSession = true
            connection.revalidatingTimeout = timeout
            connections[id] = connection
            actions.append(.pauseReading(id))
            actions.append(.revalidate(session: session, timeout: timeout))
            return
        }
        guard let existing = sessions.sessions[session], !existing.isClosing,
              request.passwd == SessionTracker.password(for: session) else {
            let reason = sessions.sessions[session] == nil || sessions.sessions[session]?.isClosing == true
                ? "expired or unknown" : "given a wrong password"
            actions.append(.info("Invalid session 0x\(hex(session)) for client /\(connection.address): \(reason)"))
            actions.append(.send(id, .connect(ConnectResponse(timeOut: 0, sessionId: 0, passwd: [UInt8](repeating: 0, count: 16), readOnly: readOnly))))
            actions.append(.close(id))
            return
        }
        if let old = existing.connection, old != id {
            connections[old]?.sessionId = nil
            actions.append(.close(old))
        }
        sessions.attach(session, connection: id, timeout: timeout, now: now.monotonicMillis)
        sessions.setOwner(session, nil)
        connection.sessionId = session
        connections[id] = connection
        actions.append(.send(id, .connect(ConnectResponse(timeOut: timeout, sessionId: session, passwd: SessionTracker.password(for: session), readOnly: readOnly))))
    }

    // MARK: Requests

    /// The connection and session a request acts for, or nil when it is not handled now:
    /// no session (the connection closes), after closeSession (dropped), before the session
    /// is created (held until it is), or an expired session (answered SessionExpired).
    private mutating func admit(_ id: ConnectionID, _ request: HeldRequest, now: Now,
                                into actions: inout [Action]) -> (Connection, Int64)? {
        guard let connection = connections[id], let session = connection.sessionId else {
            actions.append(.close(id)); return nil
        }
        if connection.closingSession { return nil }
        if connection.awaitingSession {
            connections[id]?.held.append(request)
            return nil
        }
        guard touch(session, id, request.header, now: now, into: &actions) else { return nil }
        return (connection, session)
    }

    mutating func handleRequest(_ id: ConnectionID, _ header: RequestHeader, _ request: Request, now: Now, into actions: inout [Action]) {
        guard let (connection, session) = admit(id, .request(header, request), now: now, into: &actions) else { return }
        if let schemes = configuration.enforcedAuthSchemes, !request.isAuthentication,
           !connection.authInfo.contains(where: { schemes.contains($0.scheme) }) {
            refuseUnauthenticated(id, header, connection: connection, schemes: schemes, into: &actions)
            return
        }
        if !readOnly && request.createsEphemeral && sessions.isLocal(session) {
            // An ephemeral needs a global session (`checkUpgradeSession`).
            guard configuration.localSessionsUpgradingEnabled else {
                if configuration.role == .learner {
                    queueLearnerFailure(id, header, session: session, error: .ephemeralOnLocalSession, now: now, into: &actions)
                } else {
                    prepareFailedWrite(id, header, session: session, error: .ephemeralOnLocalSession, now: now, into: &actions)
                }
                return
            }
            upgradeLocalSession(session, now: now, into: &actions)
        }
        switch request {
        case .ping:
            actions.append(.send(id, .reply(ReplyHeader(xid: SpecialXid.ping, zxid: tree.lastProcessedZxid, err: 0), .empty)))
            answered(id, xid: header.xid, opCode: .ping, arrivedAt: now.monotonicMillis, now: now)
        case .auth(let packet):
            if let ids = Authentication.authenticate(scheme: packet.scheme, auth: packet.auth, clientAddress: connection.address,
                                                     superDigest: configuration.superDigest) {
                for identity in ids where !(connections[id]?.authInfo.contains(identity) ?? true) {
                    connections[id]?.authInfo.append(identity)
                }
                actions.append(.send(id, .reply(ReplyHeader(xid: header.xid, zxid: 0, err: 0), .empty)))
            } else {
                statistics.authFailures += 1
                actions.append(.event("auth_failed", ["address": connection.address, "scheme": packet.scheme,
                                                       "session": "0x" + hex(session)]))
                actions.append(.warn("Authentication failed for scheme \(packet.scheme) from /\(connection.address)"))
                actions.append(.send(id, .reply(ReplyHeader(xid: header.xid, zxid: 0, err: KeeperError.authFailed.rawValue), .empty)))
                actions.append(.close(id))
            }
        case .sasl(let token):
            handleSASL(id, header, token: token, connection: connection, session: session, into: &actions)
        case .closeSession where sessions.isLocal(session):
            // Nothing to log: a local session ends here, in its turn after its earlier requests.
            connections[id]?.closingSession = true
            submitRead(id, .request(header, request), session: session, now: now, into: &actions)
        case _ where readOnly && (request.isWrite || request.opCode == .sync):
            actions.append(.send(id, .reply(ReplyHeader(xid: header.xid, zxid: tree.lastProcessedZxid, err: KeeperError.notReadOnly.rawValue), .empty)))
            answered(id, xid: header.xid, opCode: request.opCode, arrivedAt: now.monotonicMillis, now: now)
        case .closeSession:
            connections[id]?.closingSession = true
            guard sessions.markClosing(session) else { return }
            if configuration.role == .learner {
                forward(id, header, request, session: session, authInfo: connection.authInfo, now: now, into: &actions)
                return
            }
            prepareCloseSession(session, origin: .closeSession(id, xid: header.xid), now: now, into: &actions)
        case _ where configuration.role == .learner && (request.isWrite || request.opCode == .sync):
            forward(id, header, request, session: session, authInfo: connection.authInfo, now: now, into: &actions)
        case .transferLeadership(let target):
            // Aviary's own request: only a leader of an ensemble acts on it, and only for a
            // user who may change the configuration (as reconfig).
            guard reconfigContext != nil else {
                actions.append(.send(id, .reply(ReplyHeader(xid: header.xid, zxid: tree.lastProcessedZxid,
                                                            err: KeeperError.unimplemented.rawValue), .empty)))
                return
            }
            let acl = tree.node(DataTree.configPath).map { tree.acl(of: $0) } ?? []
            guard Authentication.permits(acl, .write, authInfo: connection.authInfo) else {
                actions.append(.send(id, .reply(ReplyHeader(xid: header.xid, zxid: tree.lastProcessedZxid,
                                                            err: KeeperError.noAuth.rawValue), .empty)))
                return
            }
            actions.append(.transferLeadership(id, xid: header.xid, target: target))
        case .deleteContainer:
            // Only the server reaps containers. ZooKeeper reads a client's deleteContainer body
            // as a raw path, so a well-formed one fails path validation: answer BadArguments
            // for every one, with a zxid as ZooKeeper's error transaction has.
            prepareFailedWrite(id, header, session: session, error: .badArguments, now: now, into: &actions)
        default:
            if request.isWrite {
                let txn = prepareWrite(request, session: session, authInfo: connection.authInfo, zxid: lastPreparedZxid + 1, now: now)
                prepare(txn, session: session, xid: header.xid,
                        origin: .client(id, xid: header.xid, opCode: request.opCode, arrivedAt: now.monotonicMillis,
                                        path: request.path ?? ""),
                        now: now, into: &actions)
                lastWriteBySession[session] = lastPreparedZxid
            } else {
                submitRead(id, .request(header, request), session: session, now: now, into: &actions)
            }
        }
    }

    /// Touches the session; when it is gone, answers SessionExpired and closes.
    private mutating func touch(_ session: Int64, _ id: ConnectionID, _ header: RequestHeader, now: Now,
                                into actions: inout [Action]) -> Bool {
        if sessions.touch(session, now: now.monotonicMillis) {
            if configuration.role == .learner && !sessions.isLocal(session) { touchedSessions[session] = sessions.sessions[session]?.timeout }
            return true
        }
        actions.append(.send(id, .reply(ReplyHeader(xid: header.xid, zxid: tree.lastProcessedZxid, err: KeeperError.sessionExpired.rawValue), .empty)))
        actions.append(.close(id))
        return false
    }

    /// Serves a read now, or queues it behind the session's outstanding writes and reads.
    /// An undecodable one is answered in the same order, as ZooKeeper answers a read it
    /// cannot decode.
    private mutating func submitRead(_ id: ConnectionID, _ request: HeldRequest, session: Int64, now: Now,
                                     into actions: inout [Action]) {
        if configuration.role == .learner {
            return queueLearnerRead(id, request, session: session, now: now, into: &actions)
        }
        var waitFor = lastWriteBySession[session] ?? 0
        if case .request(_, .sync) = request { waitFor = lastPreparedZxid }
        if waitFor > tree.lastProcessedZxid || waitingReadsBySession[session, default: 0] > 0 {
            waitingReads.append(WaitingRead(waitFor: waitFor, arrivedAt: now.monotonicMillis, session: session,
                                            connection: id, request: request))
            waitingReadsBySession[session, default: 0] += 1
        } else {
            serveRead(id, request, arrivedAt: now.monotonicMillis, now: now, into: &actions)
        }
    }

    /// A write that fails before preparation: an error transaction that takes a zxid and is
    /// answered with `error` once durable, in session order.
    private mutating func prepareFailedWrite(_ id: ConnectionID, _ header: RequestHeader, session: Int64, error: KeeperError,
                                             now: Now, into actions: inout [Action]) {
        let opCode = OpCode(rawValue: header.type) ?? .error
        prepare(TypedTxn(type: .error, txn: .error(error.rawValue)), session: session, xid: header.xid,
                origin: .client(id, xid: header.xid, opCode: opCode, arrivedAt: now.monotonicMillis, path: ""),
                now: now, into: &actions)
        lastWriteBySession[session] = lastPreparedZxid
    }

    mutating func handleUndecodable(_ id: ConnectionID, _ header: RequestHeader, _ error: KeeperError, now: Now,
                                            into actions: inout [Action]) {
        guard let (connection, session) = admit(id, .undecodable(header, error), now: now, into: &actions) else { return }
        guard error != .unimplemented, let opCode = OpCode(rawValue: header.type) else {
            // ZooKeeper's UnimplementedRequestProcessor: answer with zxid -1, then close.
            actions.append(.warn("Received packet at server of unknown type \(header.type)"))
            actions.append(.send(id, .reply(ReplyHeader(xid: header.xid, zxid: -1, err: KeeperError.unimplemented.rawValue), .empty)))
            actions.append(.close(id))
            return
        }
        switch opCode {
        case .auth, .sasl:
            // ZooKeeper reads these before the pipeline; a malformed one closes the connection.
            actions.append(.warn("Closing connection from /\(connection.address): malformed \(opCode.name) packet"))
            actions.append(.close(id))
        default:
            actions.append(.warn("Failed to process request type \(opCode.name) from session 0x\(hex(session)): \(error)"))
            if Request.writeOpCodes.contains(opCode) && configuration.role == .learner {
                queueLearnerFailure(id, header, session: session, error: error, now: now, into: &actions)
            } else if Request.writeOpCodes.contains(opCode) {
                prepareFailedWrite(id, header, session: session, error: error, now: now, into: &actions)
            } else {
                submitRead(id, .undecodable(header, error), session: session, now: now, into: &actions)
            }
        }
    }

    mutating func prepare(_ typed: TypedTxn, session: Int64, xid: Int32, origin: Origin, now: Now, into actions: inout [Action]) {
        lastPreparedZxid += 1
        let header = TxnHeader(clientId: session, cxid: xid, zxid: lastPreparedZxid, time: now.wallMillis, type: typed.type.rawValue)
        uncommitted.append(PreparedWrite(header: header, txn: typed.txn, origin: origin))
        actions.append(.log(header, typed.txn))
    }

    mutating func prepareCloseSession(_ session: Int64, xid: Int32 = 0, origin: Origin, now: Now, into actions: inout [Action]) {
        var paths = tree.ephemerals[session] ?? []
        let changes = pending.ephemeralChanges(of: session)
        paths.formUnion(changes.created)
        paths.subtract(changes.deleted)
        let zxid = lastPreparedZxid + 1
        for path in paths {
            pending.add(ChangeRecord(zxid: zxid, path: path, stat: nil, childCount: 0, acl: []))
        }
        prepare(TypedTxn(type: .closeSession, txn: .closeSession(paths: paths.sorted())), session: session, xid: xid,
                origin: origin, now: now, into: &actions)
    }

    // MARK: Commit and apply

    private mutating func applyCommitted(upTo zxid: Int64, now: Now, into actions: inout [Action]) {
        var notifications: [WatchNotification] = []
        while let write = uncommitted.first, write.header.zxid <= zxid {
            uncommitted.removeFirst()
            let result = apply(write.header, write.txn, notifications: &notifications, into: &actions)
            pending.applied(write.header.zxid)
            if lastWriteBySession[write.header.clientId] == write.header.zxid {
                lastWriteBySession[write.header.clientId] = nil
            }
            reply(to: write, result: result, now: now, into: &actions)
            serveWaitingReads(upTo: write.header.zxid, now: now, into: &actions)
        }
    }

    /// What the client sent behind its handshake is answered now, after the ConnectResponse.
    mutating func releaseHeld(_ id: ConnectionID, now: Now, into actions: inout [Action]) {
        let held = connections[id]?.held ?? []
        connections[id]?.awaitingSession = false
        connections[id]?.held = []
        actions.append(.resumeReading(id))
        for request in held {
            switch request {
            case .request(let header, let request): handleRequest(id, header, request, now: now, into: &actions)
            case .undecodable(let header, let error): handleUndecodable(id, header, error, now: now, into: &actions)
            }
        }
    }

    /// Applies a committed transaction to the tree and sends the watch events it fires.
    mutating func apply(_ header: TxnHeader, _ txn: Txn, notifications: inout [WatchNotification],
                        into actions: inout [Action]) -> TxnResult {
        notifications.removeAll(keepingCapacity: true)
        let result = tree.apply(header, txn: txn, notifications: &notifications)
        if header.type == OpCode.closeSession.rawValue { sessions.remove(header.clientId) }
        for notification in notifications where connections[notification.watcher] != nil {
            actions.append(.send(notification.watcher, .notification(notification.event)))
        }
        return result
    }

    mutating func reply(to write: PreparedWrite, result: TxnResult, now: Now, into actions: inout [Action]) {
        let zxid = tree.lastProcessedZxid
        switch write.origin {
        case .createSession(let id, let readOnly):
            let session = write.header.clientId
            guard connections[id]?.sessionId == session else { return }
            actions.append(.send(id, .connect(ConnectResponse(timeOut: sessions.sessions[session]?.timeout ?? 0, sessionId: session,
                                                              passwd: SessionTracker.password(for: session), readOnly: readOnly))))
            answered(id, xid: -1, opCode: .createSession, arrivedAt: now.monotonicMillis, now: now)
            actions.append(.event("session_created", ["session": "0x" + hex(session),
                                                      "timeout": String(sessions.sessions[session]?.timeout ?? 0),
                                                      "address": connections[id]?.address ?? ""]))
            releaseHeld(id, now: now, into: &actions)
        case .closeSession(let id, let xid):
            actions.append(.info("Closed session 0x\(hex(write.header.clientId))"))
            if let id, connections[id] != nil {
                answered(id, xid: xid, opCode: .closeSession, arrivedAt: now.monotonicMillis, now: now)
                actions.append(.send(id, .reply(ReplyHeader(xid: xid, zxid: zxid, err: 0), .empty)))
                actions.append(.close(id))
            }
        case .server:
            break
        case .client(let id, let xid, let opCode, let arrivedAt, let path):
            guard connections[id] != nil else { return }
            answered(id, xid: xid, opCode: opCode, arrivedAt: arrivedAt, now: now)
            if configuration.auditEnabled {
                audit(write, opCode: opCode, path: result.path.isEmpty ? path : result.path, result: result, connection: id, into: &actions)
            }
            if result.error == .sessionMoved || result.multi.contains(where: { $0.error == .sessionMoved }) {
                // The session re-attached to another server since: ZooKeeper tears this
                // connection down unanswered (FinalRequestProcessor, ZOOKEEPER-710), so the
                // client reconnects rather than acting on a stale connection.
                actions.append(.info("Closing connection of session 0x\(hex(write.header.clientId)): it moved to another server"))
                actions.append(.close(id))
                return
            }
            if result.error != .ok {
                // ZooKeeper's line for user-level errors (FinalRequestProcessor).
                actions.append(.info("Got user-level KeeperException when processing sessionid:0x\(hex(write.header.clientId)) type:\(opCode.name) cxid:0x\(String(UInt32(bitPattern: xid), radix: 16)) zxid:0x\(hex(write.header.zxid)) Error:\(result.error)"))
                actions.append(.send(id, .reply(ReplyHeader(xid: xid, zxid: zxid, err: result.error.rawValue), .empty)))
                return
            }
            let body: Response
            switch opCode {
            case .create: body = .create(path: result.path)
            case .create2, .createTTL, .createContainer: body = .create2(path: result.path, stat: result.stat ?? Stat())
            case .setData, .setACL: body = .stat(result.stat ?? Stat())
            case .reconfig:
                // The configuration now in force, with the config node's stat (FinalRequestProcessor).
                guard case .setData(_, let data, _) = write.txn else { body = .empty; break }
                body = .getData(data: data, stat: result.stat ?? Stat())
            case .multi: body = .multi(result.multi.map(Self.multiResult))
            default: body = .empty
            }
            actions.append(.send(id, .reply(ReplyHeader(xid: xid, zxid: zxid, err: 0), body)))
        }
    }

    /// ZooKeeper's audit entry for a write (`AuditHelper`, `Log4jAuditLogger`).
    private func audit(_ write: PreparedWrite, opCode: OpCode, path: String, result: TxnResult, connection id: ConnectionID,
                       into actions: inout [Action]) {
        let operation: String
        var extra: [(String, String)] = []
        switch write.txn {
        case .create(_, _, let acl, let ephemeral, _):
            operation = "create"; extra = [("znode_type", ephemeral ? "ephemeral" : "persistent"), ("acl", Self.auditACL(acl))]
        case .createContainer(_, _, let acl, _): operation = "create"; extra = [("znode_type", "container"), ("acl", Self.auditACL(acl))]
        case .createTTL(_, _, let acl, _, _): operation = "create"; extra = [("znode_type", "persistent_with_ttl"), ("acl", Self.auditACL(acl))]
        case .delete: operation = "delete"
        case .setData: operation = "setData"
        case .setACL(_, let acl, _): operation = "setAcl"; extra = [("acl", Self.auditACL(acl))]
        case .multi: operation = "multiOperation"
        case .error:
            switch opCode {
            case .create, .create2, .createContainer, .createTTL: operation = "create"
            case .delete, .deleteContainer: operation = "delete"
            case .setData: operation = "setData"
            case .setACL: operation = "setAcl"
            case .multi: operation = "multiOperation"
            case .reconfig: operation = "reconfig"
            default: return
            }
        default: return
        }
        let connection = connections[id]
        let users = (connection?.authInfo ?? []).map { Authentication.clientInfo($0).user }.joined(separator: ",")
        var fields = [("session", "0x" + hex(write.header.clientId)), ("user", users), ("ip", connection?.address ?? "")]
        fields.append(("operation", operation))
        if opCode != .multi && !path.isEmpty { fields.append(("znode", path)) }
        fields += extra
        fields.append(("result", result.error == .ok && !result.multi.contains { $0.error != .ok } ? "success" : "failure"))
        actions.append(.audit(fields.map { "\($0.0)=\($0.1)" }.joined(separator: "\t")))
    }

    static func auditACL(_ acl: [ACL]) -> String {
        acl.map { "\($0.id.scheme):\($0.id.id):\(Permissions.letters($0.perms))" }.joined(separator: ",")
    }

    static func multiResult(_ result: TxnResult) -> MultiResult {
        switch result.type {
        case .create: return MultiResult(opCode: .create, body: .create(path: result.path))
        case .create2, .createTTL, .createContainer:
            return MultiResult(opCode: .create2, body: .create2(path: result.path, stat: result.stat ?? Stat()))
        case .setData: return MultiResult(opCode: .setData, body: .stat(result.stat ?? Stat()))
        case .error: return .error(result.error)
        default:
            if result.error != .ok { return .error(result.error) }
            return MultiResult(opCode: result.type, body: .empty)
        }
    }

    private mutating func serveWaitingReads(upTo zxid: Int64, now: Now, into actions: inout [Action]) {
        while let read = waitingReads.first, read.waitFor <= zxid {
            waitingReads.removeFirst()
            waitingReadsBySession[read.session, default: 1] -= 1
            if waitingReadsBySession[read.session] == 0 { waitingReadsBySession[read.session] = nil }
            if connections[read.connection]?.sessionId == read.session {
                serveRead(read.connection, read.request, arrivedAt: read.arrivedAt, now: now, into: &actions)
            }
        }
    }

    // MARK: Time

    private mutating func expireSessions(now: Now, into actions: inout [Action]) {
        for session in sessions.expired(now: now.monotonicMillis) where !sessions.isLocal(session) {
            guard let timeout = sessions.sessions[session]?.timeout, sessions.markClosing(session) else { continue }
            actions.append(.info("Expiring session 0x\(hex(session)), timeout of \(timeout)ms exceeded"))
            actions.append(.event("session_expired", ["session": "0x" + hex(session), "timeout": String(timeout),
                                                      "ephemerals": String(tree.ephemerals[session]?.count ?? 0)]))
            let connection = sessions.sessions[session]?.connection
            if let connection {
                connections[connection]?.sessionId = nil
                actions.append(.close(connection))
            }
            prepareCloseSession(session, origin: .server, now: now, into: &actions)
        }
    }

    private mutating func reapContainers(now: Now, into actions: inout [Action]) {
        guard now.monotonicMillis >= nextContainerCheck else { return }
        nextContainerCheck = now.monotonicMillis + configuration.containerCheckInterval
        var candidates: [String] = []
        for path in tree.containers {
            if let node = tree.node(path), node.stat.cversion > 0, node.childCount == 0 { candidates.append(path) }
        }
        for path in tree.ttlNodes {
            if let node = tree.node(path), node.childCount == 0, let ttl = EphemeralOwner.ttlValue(node.stat.ephemeralOwner),
               now.wallMillis - node.stat.mtime > ttl {
                candidates.append(path)
            }
        }
        for path in candidates.sorted() where pending.records[path] == nil {
            let txn = prepareWrite(.deleteContainer(path: path), session: 0, authInfo: [], zxid: lastPreparedZxid + 1, now: now)
            if case .error = txn.txn { continue }
            prepare(txn, session: 0, xid: 0, origin: .server, now: now, into: &actions)
        }
    }
}

func hex(_ value: Int64) -> String { String(UInt64(bitPattern: value), radix: 16) }
