import DataTree
import Jute
import ServerCore
import Testing
import ZooKeeperProtocol

/// The core as a follower's: requests that change the tree go to the leader, the leader's
/// commits come back, and each session is answered in its own order.
struct LearnerCoreTests {
    var core: ServerCore
    var now = Now(monotonicMillis: 1_000, wallMillis: 1_700_000_000_000)
    var zxid: Int64 = 0x1_0000_0000

    init() {
        var configuration = ServerCoreConfiguration()
        configuration.tickTime = 100
        configuration.role = .learner
        core = ServerCore(configuration: configuration, now: now)
    }

    mutating func send(_ event: ServerCore.Event) -> [ServerCore.Action] { core.receive(event, now: now) }

    static func forwarded(_ actions: [ServerCore.Action]) -> [LearnerRequest] {
        actions.compactMap { if case .forward(let request) = $0 { return request } else { return nil } }
    }

    static func frames(_ actions: [ServerCore.Action], to id: ConnectionID) -> [OutboundFrame] {
        actions.compactMap { if case .send(id, let frame) = $0 { return frame } else { return nil } }
    }

    /// The leader commits `txn` for `request`'s session and cxid.
    mutating func commit(_ request: LearnerRequest, _ txn: Txn, type: OpCode) -> [ServerCore.Action] {
        zxid += 1
        return send(.committed(TxnHeader(clientId: request.sessionId, cxid: request.cxid, zxid: zxid, time: now.wallMillis,
                                         type: type.rawValue), txn))
    }

    /// Opens a connection whose new session the leader then commits; returns the session.
    mutating func connect(_ id: ConnectionID) -> Int64 {
        _ = send(.connectionOpened(id, address: "127.0.0.1"))
        let actions = send(.connect(id, ConnectRequest(lastZxidSeen: 0, timeOut: 1_000, sessionId: 0,
                                                       passwd: Array(repeating: 0, count: 16), readOnly: false)))
        guard let create = Self.forwarded(actions).first else { Issue.record("createSession not forwarded"); return 0 }
        #expect(create.type == OpCode.createSession.rawValue && create.cxid == 0)
        #expect(create.body == LearnerRequest.createSessionBody(timeout: 1_000))
        #expect(Self.frames(actions, to: id).isEmpty, "no answer before the leader commits the session")
        let done = commit(create, .createSession(timeOut: 1_000), type: .createSession)
        guard case .connect(let response)? = Self.frames(done, to: id).first else { Issue.record("no connect response"); return 0 }
        #expect(response.sessionId == create.sessionId)
        return response.sessionId
    }

    @Test mutating func writesGoToTheLeaderAndAreAnsweredOnItsCommit() throws {
        let session = connect(1)
        let request = Request.create(CreateRequest(path: "/a", data: [7]))
        let actions = send(.request(1, RequestHeader(xid: 1, type: 1), request))
        let forwarded = try #require(Self.forwarded(actions).first)
        var body = JuteWriter()
        request.write(to: &body)
        #expect(forwarded == LearnerRequest(sessionId: session, cxid: 1, type: OpCode.create.rawValue,
                                            body: Array(body.buffer.readableBytesView), authInfo: [Id(scheme: "ip", id: "127.0.0.1")]))
        #expect(core.tree.node("/a") == nil, "nothing changes before the leader commits")
        // A read of the same session waits behind its write; another session's read does not.
        #expect(Self.frames(send(.request(1, RequestHeader(xid: 2, type: 4), .getData(path: "/a", watch: false))), to: 1).isEmpty)
        let applied = commit(forwarded, .create(path: "/a", data: [7], acl: ACL.openUnsafe, ephemeral: false, parentCVersion: 1), type: .create)
        let stat = core.tree.node("/a")?.clientStat ?? Stat()
        #expect(Self.frames(applied, to: 1) == [
            .reply(ReplyHeader(xid: 1, zxid: zxid, err: 0), .create(path: "/a")),
            .reply(ReplyHeader(xid: 2, zxid: zxid, err: 0), .getData(data: [7], stat: stat)),
        ])
    }

    @Test mutating func theLeadersErrorTransactionAnswersTheWrite() throws {
        _ = connect(1)
        let forwarded = try #require(Self.forwarded(send(.request(1, RequestHeader(xid: 4, type: 2), .delete(path: "/none", version: -1)))).first)
        #expect(Self.frames(commit(forwarded, .error(KeeperError.noNode.rawValue), type: .error), to: 1) == [
            .reply(ReplyHeader(xid: 4, zxid: zxid, err: KeeperError.noNode.rawValue), .empty),
        ])
    }

    /// SessionMoved (the session re-attached elsewhere since) is not answered: the connection
    /// is closed, as ZooKeeper's FinalRequestProcessor closes it.
    @Test mutating func aSessionMovedElsewhereHasItsConnectionClosedUnanswered() throws {
        _ = connect(1)
        let forwarded = try #require(Self.forwarded(send(.request(1, RequestHeader(xid: 4, type: 5), .setData(path: "/", data: [1], version: -1)))).first)
        let actions = commit(forwarded, .error(KeeperError.sessionMoved.rawValue), type: .error)
        #expect(Self.frames(actions, to: 1).isEmpty)
        #expect(actions.contains { if case .close(1) = $0 { return true } else { return false } })
    }

    @Test mutating func commitsFromOtherServersFireWatchesHere() {
        _ = connect(1)
        _ = send(.request(1, RequestHeader(xid: 1, type: 3), .exists(path: "/elsewhere", watch: true)))
        let other = LearnerRequest(sessionId: 0x7700_0000_0000_0001, cxid: 9, type: OpCode.create.rawValue, body: [], authInfo: [])
        let actions = commit(other, .create(path: "/elsewhere", data: [], acl: ACL.openUnsafe, ephemeral: false, parentCVersion: 1), type: .create)
        #expect(Self.frames(actions, to: 1) == [.notification(WatcherEvent(type: .nodeCreated, path: "/elsewhere"))])
    }

    @Test mutating func syncIsAnsweredWhenTheLeaderAnswersIt() throws {
        _ = connect(1)
        let write = try #require(Self.forwarded(send(.request(1, RequestHeader(xid: 1, type: 5), .setData(path: "/", data: [1], version: -1)))).first)
        let sync = try #require(Self.forwarded(send(.request(1, RequestHeader(xid: 2, type: 9), .sync(path: "/")))).first)
        #expect(sync.type == OpCode.sync.rawValue && sync.cxid == 2)
        #expect(Self.frames(send(.syncAnswered), to: 1).isEmpty, "the sync waits behind the session's write")
        let frames = Self.frames(commit(write, .setData(path: "/", data: [1], version: 1), type: .setData), to: 1)
        #expect(frames.count == 2)
        #expect(frames.last == .reply(ReplyHeader(xid: 2, zxid: zxid, err: 0), .sync(path: "/")))
    }

    @Test mutating func aSessionReattachingIsRevalidatedByTheLeader() {
        let session = connect(1)
        _ = send(.connectionClosed(1))
        _ = send(.connectionOpened(2, address: "127.0.0.1"))
        let actions = send(.connect(2, ConnectRequest(lastZxidSeen: 0, timeOut: 1_000, sessionId: session,
                                                      passwd: SessionTracker.password(for: session), readOnly: false)))
        #expect(actions.contains(.revalidate(session: session, timeout: 1_000)))
        #expect(Self.frames(actions, to: 2).isEmpty)
        // A request pipelined behind the handshake waits for the answer.
        #expect(Self.frames(send(.request(2, RequestHeader(xid: 1, type: 3), .exists(path: "/", watch: false))), to: 2).isEmpty)
        let answered = Self.frames(send(.revalidated(session: session, valid: true)), to: 2)
        #expect(answered.count == 2)
        #expect(answered.first == .connect(ConnectResponse(timeOut: 1_000, sessionId: session, passwd: SessionTracker.password(for: session), readOnly: false)))

        _ = send(.connectionOpened(3, address: "127.0.0.1"))
        _ = send(.connect(3, ConnectRequest(lastZxidSeen: 0, timeOut: 1_000, sessionId: 0x55, passwd: SessionTracker.password(for: 0x55), readOnly: false)))
        let refused = send(.revalidated(session: 0x55, valid: false))
        #expect(Self.frames(refused, to: 3) == [.connect(ConnectResponse(timeOut: 0, sessionId: 0, passwd: Array(repeating: 0, count: 16), readOnly: false))])
        #expect(refused.contains(.close(3)))
    }

    @Test mutating func theLeaderExpiresSessionsNotTheLearner() {
        let session = connect(1)
        now.monotonicMillis += 10_000
        #expect(!send(.tick).contains(.close(1)), "a learner does not expire sessions")
        let expiry = LearnerRequest(sessionId: session, cxid: 0, type: OpCode.closeSession.rawValue, body: [], authInfo: [])
        let actions = commit(expiry, .closeSession(paths: []), type: .closeSession)
        #expect(actions.contains(.close(1)))
        #expect(core.sessions.sessions[session] == nil)
    }

    @Test mutating func requestsTouchTheirSessionForTheNextPing() {
        let session = connect(1)
        _ = core.takeSessionTouches()
        _ = send(.request(1, RequestHeader(xid: -2, type: 11), .ping))
        #expect(core.takeSessionTouches().map(\.sessionId) == [session])
        #expect(core.takeSessionTouches().isEmpty)
    }

    @Test mutating func aMemberOutsideAQuorumRefusesHandshakes() {
        core.serving = false
        _ = send(.connectionOpened(1, address: "127.0.0.1"))
        let actions = send(.connect(1, ConnectRequest(lastZxidSeen: 0, timeOut: 1_000, sessionId: 0, passwd: Array(repeating: 0, count: 16), readOnly: false)))
        #expect(actions.contains(.close(1)))
        #expect(Self.forwarded(actions).isEmpty)
    }
}
