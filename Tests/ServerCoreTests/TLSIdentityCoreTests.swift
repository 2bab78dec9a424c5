import ServerCore
import Testing
import ZooKeeperProtocol

/// What the core makes of a TLS handshake: a certificate's subject as an ACL identity, and a
/// failed handshake counted and reported.
struct TLSIdentityCoreTests {
    var core = ServerCore(configuration: ServerCoreConfiguration(), now: Now(monotonicMillis: 1_000, wallMillis: 1_700_000_000_000))
    let now = Now(monotonicMillis: 1_000, wallMillis: 1_700_000_000_000)
    let subject = "CN=client one,O=Aviary Tests"

    mutating func send(_ event: ServerCore.Event) -> [ServerCore.Action] { core.receive(event, now: now) }

    mutating func session(_ id: ConnectionID) {
        let actions = send(.connect(id, ConnectRequest(lastZxidSeen: 0, timeOut: 10_000, sessionId: 0,
                                                       passwd: Array(repeating: 0, count: 16), readOnly: false)))
        let zxid = actions.compactMap { action -> Int64? in if case .log(let header, _) = action { return header.zxid } else { return nil } }.last ?? -1
        _ = send(.logged(upTo: zxid))
    }

    mutating func create(_ id: ConnectionID, _ path: String, acl: [ACL]) -> Int32? {
        let actions = send(.request(id, RequestHeader(xid: 7, type: 1), .create(CreateRequest(path: path, data: [], acl: acl))))
        let zxid = actions.compactMap { action -> Int64? in if case .log(let header, _) = action { return header.zxid } else { return nil } }.last ?? -1
        let done = send(.logged(upTo: zxid))
        return (actions + done).compactMap { action -> Int32? in
            if case .send(id, .reply(let header, _)) = action, header.xid == 7 { return header.err }
            return nil
        }.first
    }

    @Test mutating func aCertificateSubjectIsAnX509Identity() {
        _ = send(.connectionOpened(1, address: "127.0.0.1"))
        _ = send(.connectionAuthenticated(1, [Id(scheme: "x509", id: subject)]))
        session(1)
        #expect(create(1, "/mine", acl: [ACL(perms: Permissions.all.rawValue, id: Id(scheme: "auth", id: ""))]) == 0)
        #expect(core.tree.node("/mine").map { core.tree.acl(of: $0) } == [ACL(perms: Permissions.all.rawValue, id: Id(scheme: "x509", id: subject))])
        // Another client without the certificate may not read it; one with it may.
        _ = send(.connectionOpened(2, address: "127.0.0.1"))
        session(2)
        let denied = send(.request(2, RequestHeader(xid: 8, type: 4), .getData(path: "/mine", watch: false)))
        #expect(denied.contains { if case .send(2, .reply(let h, _)) = $0 { return h.err == KeeperError.noAuth.rawValue } else { return false } })
        // Without a certificate, an "auth" ACL has nobody to name.
        #expect(create(2, "/theirs", acl: [ACL(perms: Permissions.all.rawValue, id: Id(scheme: "auth", id: ""))]) == KeeperError.invalidACL.rawValue)
    }

    @Test mutating func aFailedHandshakeIsCountedAndReported() {
        _ = send(.connectionOpened(3, address: "127.0.0.9"))
        let actions = send(.handshakeFailed(3, reason: "CERTIFICATE_VERIFY_FAILED", certificateRefused: true))
        #expect(core.statistics.unsuccessfulHandshakes == 1 && core.statistics.authFailures == 1)
        #expect(actions.contains { if case .event("auth_failed", let details) = $0 { return details["address"] == "127.0.0.9" && details["scheme"] == "tls" } else { return false } })
        _ = send(.handshakeFailed(3, reason: "the handshake did not finish within 5000 ms", certificateRefused: false))
        #expect(core.statistics.unsuccessfulHandshakes == 2 && core.statistics.authFailures == 1)
    }
}
