import DataTree
import ServerCore
import Testing
import ZooKeeperProtocol

/// The server core driven directly, with a hand-held clock and log.
struct ServerCoreTests {
    var core: ServerCore
    var now = Now(monotonicMillis: 1_000, wallMillis: 1_700_000_000_000)

    init() {
        var configuration = ServerCoreConfiguration()
        configuration.tickTime = 100
        configuration.maxClientConnections = 2
        core = ServerCore(configuration: configuration, now: now)
    }

    mutating func send(_ event: ServerCore.Event) -> [ServerCore.Action] { core.receive(event, now: now) }

    static func logged(_ actions: [ServerCore.Action]) -> Int64? {
        actions.compactMap { if case .log(let header, _) = $0 { return header.zxid } else { return nil } }.last
    }

    static func frames(_ actions: [ServerCore.Action], to id: ConnectionID) -> [OutboundFrame] {
        actions.compactMap { if case .send(id, let frame) = $0 { return frame } else { return nil } }
    }

    /// Opens a connection with a new session; returns (session id, password).
    mutating func connect(_ id: ConnectionID, timeout: Int32 = 1_000) -> (Int64, [UInt8]) {
        _ = send(.connectionOpened(id, address: "127.0.0.1"))
        let actions = send(.connect(id, ConnectRequest(lastZxidSeen: 0, timeOut: timeout, sessionId: 0,
                                                       passwd: Array(repeating: 0, count: 16), readOnly: false)))
        #expect(Self.frames(actions, to: id).isEmpty, "no answer before the createSession txn is durable")
        let zxid = Self.logged(actions) ?? -1
        let done = send(.logged(upTo: zxid))
        guard case .connect(let response)? = Self.frames(done, to: id).first else {
            Issue.record("no connect response"); return (0, [])
        }
        #expect(response.readOnly == false)
        return (response.sessionId, response.passwd)
    }

    @Test mutating func writesAreAnsweredOnlyOnceDurable() {
        _ = connect(1)
        let create = send(.request(1, RequestHeader(xid: 1, type: 1), .create(CreateRequest(path: "/a", data: [1]))))
        #expect(Self.frames(create, to: 1).isEmpty)
        let zxid = Self.logged(create) ?? -1
        // A read of the same session waits behind its write.
        let read = send(.request(1, RequestHeader(xid: 2, type: 4), .getData(path: "/a", watch: false)))
        #expect(Self.frames(read, to: 1).isEmpty)
        let applied = send(.logged(upTo: zxid))
        let replies = Self.frames(applied, to: 1)
        #expect(replies == [
            .reply(ReplyHeader(xid: 1, zxid: zxid, err: 0), .create(path: "/a")),
            .reply(ReplyHeader(xid: 2, zxid: zxid, err: 0), .getData(data: [1], stat: core.tree.node("/a")?.clientStat ?? Stat())),
        ])
    }

    @Test mutating func failedWritesTakeAZxidAndAnswerTheError() {
        _ = connect(1)
        let actions = send(.request(1, RequestHeader(xid: 5, type: 2), .delete(path: "/missing", version: -1)))
        let zxid = Self.logged(actions) ?? -1
        #expect(Self.frames(send(.logged(upTo: zxid)), to: 1) == [
            .reply(ReplyHeader(xid: 5, zxid: zxid, err: KeeperError.noNode.rawValue), .empty),
        ])
    }

    @Test mutating func watchEventPrecedesTheReply() {
        _ = connect(1)
        let create = send(.request(1, RequestHeader(xid: 1, type: 1), .create(CreateRequest(path: "/w"))))
        _ = send(.logged(upTo: Self.logged(create) ?? -1))
        _ = send(.request(1, RequestHeader(xid: 2, type: 3), .exists(path: "/w", watch: true)))
        let set = send(.request(1, RequestHeader(xid: 3, type: 5), .setData(path: "/w", data: [9], version: -1)))
        let frames = Self.frames(send(.logged(upTo: Self.logged(set) ?? -1)), to: 1)
        #expect(frames.count == 2)
        #expect(frames.first == .notification(WatcherEvent(type: .nodeDataChanged, path: "/w")))
    }

    @Test mutating func sessionsExpireAndTheirEphemeralsGo() {
        let (session, _) = connect(1, timeout: 200)
        let create = send(.request(1, RequestHeader(xid: 1, type: 1), .create(CreateRequest(path: "/e", flags: 1))))
        _ = send(.logged(upTo: Self.logged(create) ?? -1))
        #expect(core.tree.ephemerals[session] == ["/e"])
        now.monotonicMillis += 150
        #expect(Self.logged(send(.tick)) == nil, "not yet expired")
        now.monotonicMillis += 500
        let expiry = send(.tick)
        #expect(expiry.contains(.close(1)))
        _ = send(.logged(upTo: Self.logged(expiry) ?? -1))
        #expect(core.tree.node("/e") == nil)
        #expect(core.sessions.sessions[session] == nil)
    }

    @Test mutating func reattachChecksThePassword() {
        let (session, password) = connect(1)
        _ = send(.connectionOpened(2, address: "127.0.0.1"))
        var wrong = password
        wrong[0] ^= 0xFF
        let refused = send(.connect(2, ConnectRequest(lastZxidSeen: 0, timeOut: 1_000, sessionId: session, passwd: wrong, readOnly: nil)))
        #expect(Self.frames(refused, to: 2) == [.connect(ConnectResponse(timeOut: 0, sessionId: 0, passwd: Array(repeating: 0, count: 16), readOnly: nil))])
        #expect(refused.contains(.close(2)) && !refused.contains(.close(1)))
        _ = send(.connectionClosed(2))
        _ = send(.connectionOpened(3, address: "127.0.0.1"))
        let accepted = send(.connect(3, ConnectRequest(lastZxidSeen: 0, timeOut: 1_000, sessionId: session, passwd: password, readOnly: nil)))
        #expect(accepted.contains(.close(1)), "the old connection of a re-attached session is closed")
        guard case .connect(let response)? = Self.frames(accepted, to: 3).first else { Issue.record("no response"); return }
        #expect(response.sessionId == session && response.timeOut == 1_000)
    }

    @Test mutating func readsLeftByAClosedConnectionDoNotHoldUpItsSession() {
        let (session, password) = connect(1)
        _ = connect(2)
        let first = send(.request(1, RequestHeader(xid: 1, type: 1), .create(CreateRequest(path: "/a"))))
        _ = send(.request(1, RequestHeader(xid: 2, type: 4), .getData(path: "/a", watch: false)))
        let second = send(.request(2, RequestHeader(xid: 1, type: 1), .create(CreateRequest(path: "/b"))))
        _ = send(.request(2, RequestHeader(xid: 2, type: 4), .getData(path: "/b", watch: false)))
        _ = send(.connectionClosed(1))
        _ = send(.logged(upTo: Self.logged(first) ?? -1))
        _ = send(.connectionOpened(3, address: "127.0.0.2"))
        _ = send(.connect(3, ConnectRequest(lastZxidSeen: 0, timeOut: 1_000, sessionId: session, passwd: password, readOnly: nil)))
        // Connection 2's read still waits for its own write; session 1's new read must not.
        let read = send(.request(3, RequestHeader(xid: 3, type: 3), .exists(path: "/a", watch: false)))
        #expect(Self.frames(read, to: 3).count == 1)
        #expect(Self.frames(send(.logged(upTo: Self.logged(second) ?? -1)), to: 2).count == 2)
    }

    @Test mutating func reconfigIsAnsweredAsAStandaloneZooKeeperDoes() {
        _ = connect(1)
        let request = Request.reconfig(ReconfigRequest(joiningServers: nil, leavingServers: "2", newMembers: nil, curConfigId: -1))
        let actions = send(.request(1, RequestHeader(xid: 9, type: 16), request))
        let frames = Self.frames(send(.logged(upTo: Self.logged(actions) ?? -1)), to: 1)
        #expect(frames == [.reply(ReplyHeader(xid: 9, zxid: core.tree.lastProcessedZxid, err: KeeperError.reconfigDisabled.rawValue), .empty)])
    }

    @Test mutating func connectionsWithoutAHandshakeAreClosed() {
        _ = send(.connectionOpened(7, address: "127.0.0.1"))
        _ = connect(8)
        now.monotonicMillis += 5_000
        #expect(!send(.tick).contains(.close(7)))
        now.monotonicMillis += 6_000
        let actions = send(.tick)
        #expect(actions.contains(.close(7)) && !actions.contains(.close(8)))
    }

    @Test mutating func statisticsCountPacketsAndOperations() {
        _ = connect(1)
        let create = send(.request(1, RequestHeader(xid: 1, type: 1), .create(CreateRequest(path: "/s"))))
        now.monotonicMillis += 3
        _ = send(.logged(upTo: Self.logged(create) ?? -1))
        _ = send(.request(1, RequestHeader(xid: 2, type: 4), .getData(path: "/s", watch: false)))
        let view = core.connectionViews.first { $0.id == 1 }
        #expect(view?.statistics.packetsReceived == 3 && view?.statistics.packetsSent == 3)
        #expect(view?.statistics.lastOperation == "GETD" && view?.statistics.lastCxid == 2)
        #expect(core.statistics.latency.maximum == 3)
        core.resetConnectionStatistics()
        #expect(core.connectionViews.first?.statistics.packetsReceived == 0)
    }

    @Test mutating func connectionsPerAddressAreLimited() {
        _ = send(.connectionOpened(1, address: "10.1.1.1"))
        _ = send(.connectionOpened(2, address: "10.1.1.1"))
        let third = send(.connectionOpened(3, address: "10.1.1.1"))
        #expect(third.contains(.close(3)))
        #expect(!send(.connectionOpened(4, address: "10.1.1.2")).contains(.close(4)))
    }

    @Test mutating func requestsBehindTheHandshakeWaitForTheSession() {
        _ = send(.connectionOpened(1, address: "127.0.0.1"))
        let handshake = send(.connect(1, ConnectRequest(lastZxidSeen: 0, timeOut: 1_000, sessionId: 0,
                                                        passwd: Array(repeating: 0, count: 16), readOnly: false)))
        #expect(handshake.contains(.pauseReading(1)))
        // auth and getData pipelined behind the ConnectRequest, read before the session exists.
        let auth = send(.request(1, RequestHeader(xid: SpecialXid.auth, type: 100), .auth(AuthPacket(scheme: "digest", auth: Array("u:p".utf8)))))
        let read = send(.request(1, RequestHeader(xid: 1, type: 4), .getData(path: "/", watch: false)))
        #expect(Self.frames(auth + read, to: 1).isEmpty)
        let created = send(.logged(upTo: Self.logged(handshake) ?? -1))
        let frames = Self.frames(created, to: 1)
        #expect(frames.count == 3)
        guard case .connect? = frames.first else { Issue.record("the ConnectResponse is not first: \(frames)"); return }
        #expect(frames.dropFirst().map { if case .reply(let h, _) = $0 { return h.xid } else { return 0 } } == [SpecialXid.auth, 1])
        #expect(created.contains(.resumeReading(1)))
    }

    @Test mutating func closeSessionIsAnsweredBeforeTheConnectionCloses() {
        _ = connect(1)
        let close = send(.request(1, RequestHeader(xid: 4, type: -11), .closeSession))
        let after = send(.request(1, RequestHeader(xid: 5, type: 4), .getData(path: "/", watch: false)))
        #expect(after.isEmpty, "requests after closeSession are not answered: \(after)")
        let done = send(.logged(upTo: Self.logged(close) ?? -1))
        #expect(Self.frames(done, to: 1) == [.reply(ReplyHeader(xid: 4, zxid: core.tree.lastProcessedZxid, err: 0), .empty)])
        #expect(done.last == .close(1))
    }

    @Test mutating func clientsCannotDeleteContainers() {
        _ = connect(1)
        let create = send(.request(1, RequestHeader(xid: 1, type: 19), .create(CreateRequest(
            opCode: .createContainer, path: "/box", acl: [ACL(perms: Permissions.read.rawValue, id: Id(scheme: "world", id: "anyone"))], flags: 4))))
        _ = send(.logged(upTo: Self.logged(create) ?? -1))
        let delete = send(.request(1, RequestHeader(xid: 2, type: 20), .deleteContainer(path: "/box")))
        let zxid = Self.logged(delete) ?? -1
        #expect(Self.frames(send(.logged(upTo: zxid)), to: 1) == [.reply(ReplyHeader(xid: 2, zxid: zxid, err: KeeperError.badArguments.rawValue), .empty)])
        #expect(core.tree.node("/box") != nil)
    }

    @Test mutating func anUnknownOpcodeIsAnsweredThenTheConnectionCloses() {
        _ = connect(1)
        let actions = send(.undecodableRequest(1, RequestHeader(xid: 3, type: 4242), .unimplemented))
        #expect(Self.frames(actions, to: 1) == [.reply(ReplyHeader(xid: 3, zxid: -1, err: KeeperError.unimplemented.rawValue), .empty)])
        #expect(actions.last == .close(1))
    }

    @Test mutating func aMalformedMultiIsAnErrorTransactionInSessionOrder() {
        _ = connect(1)
        let create = send(.request(1, RequestHeader(xid: 1, type: 1), .create(CreateRequest(path: "/m"))))
        let multi = send(.undecodableRequest(1, RequestHeader(xid: 2, type: 14), .marshallingError))
        let multiRead = send(.undecodableRequest(1, RequestHeader(xid: 3, type: 22), .marshallingError))
        #expect(Self.frames(create + multi + multiRead, to: 1).isEmpty)
        let zxid = Self.logged(multi) ?? -1
        #expect(zxid == (Self.logged(create) ?? -1) + 1)
        let frames = Self.frames(send(.logged(upTo: zxid)), to: 1)
        #expect(frames == [
            .reply(ReplyHeader(xid: 1, zxid: zxid - 1, err: 0), .create(path: "/m")),
            .reply(ReplyHeader(xid: 2, zxid: zxid, err: KeeperError.marshallingError.rawValue), .empty),
            .reply(ReplyHeader(xid: 3, zxid: zxid, err: KeeperError.marshallingError.rawValue), .empty),
        ])
    }

    @Test mutating func bytesBeforeTheHandshakeKeepAConnectionOpen() {
        _ = send(.connectionOpened(7, address: "127.0.0.1"))
        for _ in 0..<4 {
            now.monotonicMillis += 4_000
            _ = send(.connectionActivity(7))
            #expect(!send(.tick).contains(.close(7)))
        }
        now.monotonicMillis += 10_001
        #expect(send(.tick).contains(.close(7)))
    }

    @Test mutating func aParentCVersionAtInt32MaxWrapsAsJavaDoes() {
        _ = connect(1)
        var events: [WatchNotification] = []
        // A snapshot or log can carry a parent whose cversion is Int32.max.
        _ = core.tree.apply(TxnHeader(clientId: 0, cxid: 0, zxid: core.lastPreparedZxid, time: 1, type: OpCode.create.rawValue),
                            txn: .create(path: "/full", data: [], acl: ACL.openUnsafe, ephemeral: false, parentCVersion: 1),
                            notifications: &events)
        _ = core.tree.apply(TxnHeader(clientId: 0, cxid: 0, zxid: core.lastPreparedZxid, time: 1, type: OpCode.create.rawValue),
                            txn: .create(path: "/full/x", data: [], acl: ACL.openUnsafe, ephemeral: false, parentCVersion: Int32.max),
                            notifications: &events)
        #expect(core.tree.node("/full")?.stat.cversion == Int32.max)
        let create = send(.request(1, RequestHeader(xid: 1, type: 1), .create(CreateRequest(path: "/full/s-", flags: 2))))
        let frames = Self.frames(send(.logged(upTo: Self.logged(create) ?? -1)), to: 1)
        // The name takes the cversion before the increment; the increment wraps to Int32.min,
        // which ZooKeeper's DataTree (like ours) does not take over the larger one it has.
        #expect(frames == [.reply(ReplyHeader(xid: 1, zxid: core.tree.lastProcessedZxid, err: 0), .create(path: "/full/s-2147483647"))])
        #expect(core.tree.node("/full")?.stat.cversion == Int32.max)
    }

    @Test func passwordsAreZooKeepers() {
        // Apache ZooKeeper 3.8 gave session 0x100001e99c60001 this password (seen with kazoo).
        let expected: [UInt8] = [0xEB, 0x5E, 0x95, 0x8C, 0x25, 0xE2, 0x3D, 0xBC, 0x6B, 0xA3, 0x85, 0xBA, 0xAA, 0xE7, 0x17, 0xDE]
        #expect(SessionTracker.password(for: 0x0100_001E_99C6_0001) == expected)
    }

    @Test func digestMatchesZooKeeper() {
        #expect(Authentication.digest("super:test") == "super:D/InIHSb7yEEbrWz8b9l71RjZJU=")
    }
}
