import DataTree
import Jute
import ServerCore
import Testing
import ZooKeeperProtocol

/// `localSessionsEnabled`: sessions that live on the server that made them, until an
/// ephemeral znode needs them global.
struct LocalSessionCoreTests {
    var now = Now(monotonicMillis: 1_000, wallMillis: 1_700_000_000_000)

    static func core(role: ServerCore.Role, upgrading: Bool = true, serverId: Int64 = 2, now: Now) -> ServerCore {
        var configuration = ServerCoreConfiguration()
        configuration.tickTime = 100
        configuration.role = role
        configuration.serverId = serverId
        configuration.localSessionsEnabled = true
        configuration.localSessionsUpgradingEnabled = upgrading
        var core = ServerCore(configuration: configuration, now: now)
        if role == .standalone { core.startLeading(epoch: 1) }
        return core
    }

    // The action helpers of the learner's and the leader's core tests.
    static func forwarded(_ actions: [ServerCore.Action]) -> [LearnerRequest] { LearnerCoreTests.forwarded(actions) }
    static func frames(_ actions: [ServerCore.Action], to id: ConnectionID) -> [OutboundFrame] { LearnerCoreTests.frames(actions, to: id) }
    static func logged(_ actions: [ServerCore.Action]) -> [(TxnHeader, Txn)] { LeaderCoreTests.logged(actions) }
    static func body(_ request: Request) -> [UInt8] { LeaderCoreTests.body(request) }

    /// Connects `id` and returns the session the server answered with at once.
    func connect(_ core: inout ServerCore, _ id: ConnectionID, session: Int64 = 0) -> (Int64, [ServerCore.Action]) {
        _ = core.receive(.connectionOpened(id, address: "127.0.0.1"), now: now)
        let actions = core.receive(.connect(id, ConnectRequest(lastZxidSeen: 0, timeOut: 1_000, sessionId: session,
                                                               passwd: SessionTracker.password(for: session), readOnly: false)), now: now)
        guard case .connect(let response)? = Self.frames(actions, to: id).first else { return (0, actions) }
        return (response.sessionId, actions)
    }

    @Test mutating func aLearnersLocalSessionIsMadeHereWithNoTransactionAndNoTouches() throws {
        var core = Self.core(role: .learner, now: now)
        let (session, actions) = connect(&core, 1)
        #expect(session >> 56 == 2, "numbered as this server's sessions")
        #expect(Self.forwarded(actions).isEmpty, "no createSession goes to the leader")
        #expect(core.sessions.isLocal(session) && core.localSessionCount == 1)
        _ = core.receive(.request(1, RequestHeader(xid: -2, type: 11), .ping), now: now)
        #expect(core.takeSessionTouches().isEmpty, "a local session is not touched on the leader")
        // A persistent write still goes to the leader, under the local session's id.
        let write = Self.forwarded(core.receive(.request(1, RequestHeader(xid: 1, type: 1), .create(CreateRequest(path: "/p", data: []))), now: now))
        #expect(write.map(\.sessionId) == [session] && write.map(\.type) == [OpCode.create.rawValue])
        #expect(core.sessions.isLocal(session))
    }

    @Test mutating func anEphemeralUpgradesTheSessionFirst() throws {
        var core = Self.core(role: .learner, now: now)
        let (session, _) = connect(&core, 1)
        let ephemeral = Request.multi([.create(CreateRequest(path: "/e", data: [], flags: CreateMode.ephemeral.rawValue))])
        let sent = Self.forwarded(core.receive(.request(1, RequestHeader(xid: 1, type: 14), ephemeral), now: now))
        #expect(sent.map(\.type) == [OpCode.createSession.rawValue, OpCode.multi.rawValue])
        #expect(sent.first?.sessionId == session && sent.first?.body == LearnerRequest.createSessionBody(timeout: 1_000))
        #expect(!core.sessions.isLocal(session))
        _ = core.receive(.request(1, RequestHeader(xid: -2, type: 11), .ping), now: now)
        #expect(core.takeSessionTouches().map(\.sessionId) == [session], "a global session is touched through pings")
    }

    @Test mutating func withoutUpgradingAnEphemeralFails() throws {
        var core = Self.core(role: .learner, upgrading: false, now: now)
        let (session, _) = connect(&core, 1)
        let actions = core.receive(.request(1, RequestHeader(xid: 5, type: 1),
                                            .create(CreateRequest(path: "/e", data: [], flags: CreateMode.ephemeralSequential.rawValue))), now: now)
        #expect(Self.forwarded(actions).isEmpty)
        #expect(Self.frames(actions, to: 1) == [.reply(ReplyHeader(xid: 5, zxid: 0, err: KeeperError.ephemeralOnLocalSession.rawValue), .empty)])
        #expect(core.sessions.isLocal(session))
    }

    @Test mutating func closeSessionEndsItHereInItsTurn() throws {
        var core = Self.core(role: .learner, now: now)
        let (session, _) = connect(&core, 1)
        let write = try #require(Self.forwarded(core.receive(.request(1, RequestHeader(xid: 1, type: 5), .setData(path: "/", data: [1], version: -1)), now: now)).first)
        let close = core.receive(.request(1, RequestHeader(xid: 2, type: -11), .closeSession), now: now)
        #expect(Self.forwarded(close).isEmpty && Self.frames(close, to: 1).isEmpty, "it waits behind the session's write")
        let done = core.receive(.committed(TxnHeader(clientId: session, cxid: write.cxid, zxid: 0x1_0000_0001, time: now.wallMillis,
                                                     type: OpCode.setData.rawValue), .setData(path: "/", data: [1], version: 1)), now: now)
        #expect(Self.frames(done, to: 1).map { (frame: OutboundFrame) -> Int32 in if case .reply(let header, _) = frame { return header.xid } else { return 0 } } == [1, 2])
        #expect(done.contains(.close(1)))
        #expect(core.sessions.sessions[session] == nil)
    }

    @Test mutating func aLocalSessionExpiresOnItsServerAndReattachesThereOnly() throws {
        var core = Self.core(role: .learner, now: now)
        let (session, _) = connect(&core, 1)
        _ = core.receive(.connectionClosed(1), now: now)
        let (again, actions) = connect(&core, 2, session: session)
        #expect(again == session && !actions.contains(.revalidate(session: session, timeout: 1_000)),
                "this server knows its local session: no question to the leader")
        now.monotonicMillis += 5_000
        let expiry = core.receive(.tick, now: now)
        #expect(expiry.contains(.close(2)) && Self.forwarded(expiry).isEmpty)
        #expect(core.sessions.sessions[session] == nil)
    }

    @Test mutating func theLeaderAcceptsWritesOfALearnersLocalSessionButNotOfItsOwnUnknownOnes() throws {
        var core = Self.core(role: .standalone, serverId: 1, now: now)
        let remote: Int64 = 0x0200_0000_0000_0001
        let accepted = Self.logged(core.receive(.learnerRequest(LearnerRequest(sessionId: remote, cxid: 1, type: OpCode.create.rawValue,
                                                                                 body: Self.body(.create(CreateRequest(path: "/l", data: []))),
                                                                                 authInfo: []), from: 2), now: now))
        #expect(accepted.first.map { if case .create = $0.1 { return true } else { return false } } == true)
        let mine: Int64 = 0x0100_0000_0000_0009
        let refused = Self.logged(core.receive(.learnerRequest(LearnerRequest(sessionId: mine, cxid: 1, type: OpCode.delete.rawValue,
                                                                                body: Self.body(.delete(path: "/l", version: -1)),
                                                                                authInfo: []), from: 2), now: now))
        #expect(refused.first?.1 == .error(KeeperError.sessionExpired.rawValue))
    }

    @Test mutating func theLeadersLocalSessionsAreLocalTooAndCannotMove() throws {
        var core = Self.core(role: .standalone, serverId: 1, now: now)
        let (session, actions) = connect(&core, 1)
        #expect(Self.logged(actions).isEmpty, "no createSession transaction")
        #expect(!core.isLiveSession(session))
        #expect(core.revalidateSession(session, timeout: 1_000, from: 2, now: now).isEmpty)
        let ephemeral = Self.logged(core.receive(.request(1, RequestHeader(xid: 1, type: 1),
                                                          .create(CreateRequest(path: "/e", data: [], flags: CreateMode.ephemeral.rawValue))), now: now))
        #expect(ephemeral.map(\.0.type) == [OpCode.createSession.rawValue, OpCode.create.rawValue])
        #expect(core.isLiveSession(session))
    }
}
