import Configuration
import DataTree
import ServerCore
import Testing
import ZooKeeperProtocol

/// A leading core preparing `reconfig` as `PrepRequestProcessor` does: the checks in
/// ZooKeeper's order, each with its error, and the transaction that sets `/zookeeper/config`.
struct ReconfigCoreTests {
    var core: ServerCore
    var now = Now(monotonicMillis: 1_000, wallMillis: 1_700_000_000_000)
    static let members = try! Membership(parsing: """
        server.1=127.0.0.2:2888:3888:participant;0.0.0.0:2181
        server.2=127.0.0.3:2888:3888:participant;0.0.0.0:2181
        server.3=127.0.0.4:2888:3888:participant;0.0.0.0:2181
        version=100000000
        """)

    init() {
        var configuration = ServerCoreConfiguration()
        configuration.reconfigEnabled = true
        configuration.superDigest = Authentication.digest("super:secret")
        core = ServerCore(configuration: configuration, now: now)
        core.reconfigContext = ReconfigContext(lastSeen: Self.members, committedVersion: Self.members.version, standaloneEnabled: true,
                                               isQuorumSynced: { $0.voters.count < 4 || $0.servers[4] == nil })
    }

    mutating func send(_ event: ServerCore.Event) -> [ServerCore.Action] { core.receive(event, now: now) }

    /// Opens connection `id` with a session, authenticated as the super user when `asSuper`.
    mutating func connect(_ id: ConnectionID, asSuper: Bool = true) {
        _ = send(.connectionOpened(id, address: "127.0.0.1"))
        let actions = send(.connect(id, ConnectRequest(lastZxidSeen: 0, timeOut: 4_000, sessionId: 0,
                                                       passwd: Array(repeating: 0, count: 16), readOnly: false)))
        _ = send(.logged(upTo: ServerCoreTests.logged(actions) ?? -1))
        if asSuper {
            _ = send(.request(id, RequestHeader(xid: -4, type: 100), .auth(AuthPacket(scheme: "digest", auth: Array("super:secret".utf8)))))
        }
    }

    /// Sends a reconfig on connection `id`; returns the logged transaction and the reply.
    mutating func reconfig(_ id: ConnectionID, xid: Int32, joining: String? = nil, leaving: String? = nil,
                           from version: Int64 = -1) -> (TxnHeader?, OutboundFrame?) {
        let request = Request.reconfig(ReconfigRequest(joiningServers: joining, leavingServers: leaving, newMembers: nil, curConfigId: version))
        let actions = send(.request(id, RequestHeader(xid: xid, type: OpCode.reconfig.rawValue), request))
        let header = actions.compactMap { if case .log(let header, _) = $0 { return header } else { return nil } }.last
        let reply = ServerCoreTests.frames(send(.logged(upTo: header?.zxid ?? -1)), to: id).first
        return (header, reply)
    }

    static func error(_ frame: OutboundFrame?) -> Int32? {
        if case .reply(let header, _)? = frame { return header.err } else { return nil }
    }

    @Test mutating func aReconfigSetsTheConfigNodeToTheNewMembershipAtItsZxid() throws {
        connect(1)
        let (header, reply) = reconfig(1, xid: 5, leaving: "3", from: Self.members.version)
        let zxid = try #require(header?.zxid)
        #expect(header?.type == OpCode.reconfig.rawValue)
        var expected = Self.members
        expected.servers[3] = nil
        expected.version = zxid
        guard case .reply(let replyHeader, .getData(let data, let stat))? = reply else { Issue.record("\(String(describing: reply))"); return }
        #expect(replyHeader.err == 0)
        #expect(data == Array(expected.text.utf8), "the new configuration, its version the reconfig's zxid")
        #expect(stat.version == -1 && stat.mzxid == zxid)
        #expect(core.tree.node(DataTree.configPath).flatMap { core.tree.data(of: $0) } == Array(expected.text.utf8))
        #expect(core.reconfigContext?.lastSeen == expected && core.reconfigContext?.isReconfiguring == true)
    }

    @Test mutating func aSecondReconfigBeforeTheFirstIsInForceIsInProgress() {
        connect(1)
        _ = reconfig(1, xid: 5, leaving: "3")
        #expect(Self.error(reconfig(1, xid: 6, leaving: "2").1) == KeeperError.reconfigInProgress.rawValue)
        let seen = core.reconfigContext?.lastSeen.version ?? 0
        core.reconfigContext?.committedVersion = seen
        #expect(Self.error(reconfig(1, xid: 7, joining: "server.3=127.0.0.4:2888:3888;2181").1) == 0, "once it is in force, another may come")
    }

    @Test mutating func eachRefusalHasZooKeepersCode() {
        connect(1)
        #expect(Self.error(reconfig(1, xid: 1, leaving: "3", from: 5).1) == KeeperError.badVersion.rawValue, "another version than the last seen")
        #expect(Self.error(reconfig(1, xid: 2, leaving: "2,3").1) == KeeperError.badArguments.rawValue, "one voter left")
        #expect(Self.error(reconfig(1, xid: 3, leaving: "x").1) == KeeperError.marshallingError.rawValue)
        #expect(Self.error(reconfig(1, xid: 4, joining: "server.4=127.0.0.5:2888:3888;2181").1) == KeeperError.newConfigNoQuorum.rawValue,
                "server 4 is not connected and synchronized")
        connect(2, asSuper: false)
        #expect(Self.error(reconfig(2, xid: 5, leaving: "3").1) == KeeperError.noAuth.rawValue,
                "/zookeeper/config is world-readable only: the super user (or an ACL allowing it) reconfigures")
        #expect(core.reconfigContext?.isReconfiguring == false, "nothing refused became the last seen configuration")
    }

    @Test mutating func withoutALeadersContextTheCoreAnswersAsAStandaloneServer() {
        core.reconfigContext = nil
        connect(1)
        #expect(Self.error(reconfig(1, xid: 1, leaving: "3").1) == KeeperError.unimplemented.rawValue)
    }
}
