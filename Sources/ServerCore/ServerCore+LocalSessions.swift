import ZooKeeperProtocol

/// Local sessions (`localSessionsEnabled`, `UpgradeableSessionTracker`): a session lives on the
/// server that made it, with no createSession or closeSession transaction and no touches in
/// the learner's PING replies, until it creates an ephemeral znode: then it is upgraded to a
/// global session first (`checkUpgradeSession`), or, with `localSessionsUpgradingEnabled=false`,
/// the create fails with EphemeralOnLocalSession. A read-only server's sessions are local too.
extension ServerCore {
    /// Makes the local `session` global: its createSession goes to the quorum ahead of the
    /// request that needs it, so the leader knows the session when the ephemeral is created.
    mutating func upgradeLocalSession(_ session: Int64, now: Now, into actions: inout [Action]) {
        guard let timeout = sessions.sessions[session]?.timeout else { return }
        sessions.upgrade(session)
        actions.append(.info("Upgrading session 0x\(hex(session)) to a global session: it creates an ephemeral znode"))
        if configuration.role == .learner {
            forwardCreateSession(session, timeout: timeout, into: &actions)
        } else {
            prepare(TypedTxn(type: .createSession, txn: .createSession(timeOut: timeout)), session: session, xid: 0,
                    origin: .server, now: now, into: &actions)
        }
    }

    /// A local session's closeSession, in its turn: forgotten here, answered, disconnected.
    mutating func closeLocalSession(_ id: ConnectionID, xid: Int32, session: Int64, arrivedAt: Int64, now: Now,
                                    into actions: inout [Action]) {
        answered(id, xid: xid, opCode: .closeSession, arrivedAt: arrivedAt, now: now)
        sessions.remove(session)
        connections[id]?.sessionId = nil
        actions.append(.send(id, .reply(ReplyHeader(xid: xid, zxid: tree.lastProcessedZxid, err: 0), .empty)))
        actions.append(.close(id))
    }

    /// Local sessions past their timeout end here: no other server knows them, and they own
    /// no ephemeral znodes.
    mutating func expireLocalSessions(now: Now, into actions: inout [Action]) {
        for session in sessions.expired(now: now.monotonicMillis) where sessions.isLocal(session) {
            guard let expired = sessions.sessions[session] else { continue }
            actions.append(.info("Expiring local session 0x\(hex(session)), timeout of \(expired.timeout)ms exceeded"))
            actions.append(.event("session_expired", ["session": "0x" + hex(session), "timeout": String(expired.timeout),
                                                      "ephemerals": "0"]))
            if let connection = expired.connection {
                connections[connection]?.sessionId = nil
                actions.append(.close(connection))
            }
            sessions.remove(session)
        }
    }

    /// Local sessions this server holds (`zk_local_sessions`).
    public var localSessionCount: Int { sessions.sessions.values.count { $0.isLocal } }
}
