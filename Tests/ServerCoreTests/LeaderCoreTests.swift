import DataTree
import Jute
import ServerCore
import Testing
import ZooKeeperProtocol

/// The core as a leader's: learners' forwarded requests become transactions with no client
/// here to answer, and sessions connected elsewhere live by the learners' touches.
struct LeaderCoreTests {
    var core: ServerCore
    var now = Now(monotonicMillis: 1_000, wallMillis: 1_700_000_000_000)
    let session: Int64 = 0x0200_0000_0000_0001

    init() {
        var configuration = ServerCoreConfiguration()
        configuration.tickTime = 100
        core = ServerCore(configuration: configuration, now: now)
        core.startLeading(epoch: 1)
    }

    mutating func send(_ event: ServerCore.Event) -> [ServerCore.Action] { core.receive(event, now: now) }

    static func logged(_ actions: [ServerCore.Action]) -> [(TxnHeader, Txn)] {
        actions.compactMap { if case .log(let header, let txn) = $0 { return (header, txn) } else { return nil } }
    }

    static func body(_ request: Request) -> [UInt8] {
        var writer = JuteWriter()
        request.write(to: &writer)
        return Array(writer.buffer.readableBytesView)
    }

    /// A learner's client creates session `session`, and the leader commits it.
    mutating func createRemoteSession() {
        let actions = send(.learnerRequest(LearnerRequest(sessionId: session, cxid: 0, type: OpCode.createSession.rawValue,
                                                          body: LearnerRequest.createSessionBody(timeout: 1_000), authInfo: []), from: 2))
        let txns = Self.logged(actions)
        #expect(txns.count == 1 && txns.first?.0.zxid == (1 << 32) + 1, "the new epoch's first zxid")
        #expect(txns.first?.1 == .createSession(timeOut: 1_000))
        _ = send(.logged(upTo: (1 << 32) + 1))
    }

    @Test mutating func aLearnersWriteIsPreparedWithItsSessionAndCxid() throws {
        createRemoteSession()
        let create = Request.create(CreateRequest(path: "/remote", data: [1], flags: 1))
        let actions = send(.learnerRequest(LearnerRequest(sessionId: session, cxid: 7, type: OpCode.create.rawValue,
                                                          body: Self.body(create), authInfo: [Id(scheme: "ip", id: "127.0.0.3")]), from: 2))
        let (header, txn) = try #require(Self.logged(actions).first)
        #expect(header.clientId == session && header.cxid == 7 && header.zxid == (1 << 32) + 2)
        guard case .create(let path, _, _, let ephemeral, _) = txn else { Issue.record("not a create: \(txn)"); return }
        #expect(path == "/remote" && ephemeral)
        #expect(!actions.contains { if case .send = $0 { return true } else { return false } }, "no client here to answer")
        _ = send(.logged(upTo: header.zxid))
        #expect(core.tree.ephemerals[session]?.contains("/remote") == true, "the ephemeral belongs to the remote session")
    }

    @Test mutating func aWriteOfAnUnknownSessionIsAnErrorTransaction() throws {
        let actions = send(.learnerRequest(LearnerRequest(sessionId: session, cxid: 3, type: OpCode.delete.rawValue,
                                                          body: Self.body(.delete(path: "/x", version: -1)), authInfo: []), from: 2))
        let (header, txn) = try #require(Self.logged(actions).first)
        #expect(header.cxid == 3 && txn == .error(KeeperError.sessionExpired.rawValue),
                "the learner answers its client SessionExpired when this commits")
    }

    @Test mutating func remoteSessionsLiveByTouchesAndExpireWithout() throws {
        createRemoteSession()
        #expect(core.isLiveSession(session))
        for _ in 0..<10 {
            now.monotonicMillis += 500
            core.touchSessions([session: 1_000], now: now)
            #expect(Self.logged(send(.tick)).isEmpty, "a touched session does not expire")
        }
        now.monotonicMillis += 1_500
        let expired = Self.logged(send(.tick))
        #expect(expired.first?.1 == .closeSession(paths: []) && expired.first?.0.clientId == session)
        #expect(!core.isLiveSession(session))
        #expect(core.revalidateSession(session, timeout: 1_000, from: 2, now: now).isEmpty)
    }

    @Test mutating func aLearnersCloseSessionCarriesTheClientsXid() throws {
        createRemoteSession()
        let actions = send(.learnerRequest(LearnerRequest(sessionId: session, cxid: 9, type: OpCode.closeSession.rawValue,
                                                          body: [], authInfo: []), from: 2))
        let (header, txn) = try #require(Self.logged(actions).first)
        #expect(header.cxid == 9 && txn == .closeSession(paths: []), "the learner matches the commit to its client's request by cxid")
    }

    /// A client of learner 2 re-attaches through learner 3: what learner 2 still forwards for
    /// the session is refused with SessionMoved, learner 3's writes are accepted.
    @Test mutating func aSessionThatMovedToAnotherLearnerRefusesTheOldOnesWrites() throws {
        createRemoteSession()
        #expect(core.revalidateSession(session, timeout: 1_000, from: 3, now: now).isEmpty)
        let delete = Self.body(.delete(path: "/x", version: -1))
        let stale = send(.learnerRequest(LearnerRequest(sessionId: session, cxid: 4, type: OpCode.delete.rawValue, body: delete, authInfo: []), from: 2))
        let (header, txn) = try #require(Self.logged(stale).first)
        #expect(header.cxid == 4 && txn == .error(KeeperError.sessionMoved.rawValue))
        let moved = send(.learnerRequest(LearnerRequest(sessionId: session, cxid: 5, type: OpCode.delete.rawValue, body: delete, authInfo: []), from: 3))
        #expect(Self.logged(moved).first?.1 == .error(KeeperError.noNode.rawValue), "learner 3's delete is prepared (and finds no /x)")
    }
}
