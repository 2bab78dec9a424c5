import Jute
import NIOCore
import ZooKeeperProtocol

/// The leader's part for its learners' clients (`LearnerHandler`'s REQUEST and REVALIDATE,
/// `LeaderSessionTracker`): requests forwarded by learners become transactions here, with no
/// client of this server to answer; sessions connected elsewhere are kept alive by the
/// learners' PING replies and revalidated when their clients re-attach.
extension ServerCore {
    /// The epoch `epoch` is established with this server as leader: its zxids continue from
    /// `epoch << 32` (`Leader.lead` sets the server's zxid to the new epoch's first).
    public mutating func startLeading(epoch: Int64) {
        lastPreparedZxid = max(lastPreparedZxid, epoch << 32)
    }

    /// Sessions a learner's PING reply touched.
    public mutating func touchSessions(_ touches: [Int64: Int32], now: Now) {
        for (session, _) in touches { sessions.touch(session, now: now.monotonicMillis) }
    }

    /// Learner `sid` asks whether `session` is live, for a client re-attaching there: a live
    /// one is renewed and now belongs to that learner, and a connection it had here closes.
    public mutating func revalidateSession(_ session: Int64, timeout: Int32, from sid: Int64, now: Now) -> [Action] {
        // Only a global session can move (`checkIfValidGlobalSession`).
        guard !sessions.isLocal(session), sessions.touch(session, now: now.monotonicMillis) else { return [] }
        sessions.setOwner(session, sid)
        var actions: [Action] = []
        if let old = sessions.sessions[session]?.connection {
            connections[old]?.sessionId = nil
            sessions.attach(session, connection: nil, now: now.monotonicMillis)
            actions.append(.info("Session 0x\(hex(session)) moved to another server; closing its connection here"))
            actions.append(.close(old))
        }
        return actions
    }

    /// Whether `session` is live (for the REVALIDATE answer).
    public func isLiveSession(_ session: Int64) -> Bool {
        sessions.sessions[session].map { !$0.isClosing && !$0.isLocal } ?? false
    }

    /// Learner `sid`'s forwarded request, prepared as this server prepares its own clients'.
    /// The session must be live here (the learner's client gets SessionExpired otherwise) and,
    /// for a write, belong to that learner: a session that moved to another server since gets
    /// SessionMoved, as `PrepRequestProcessor`'s `checkSession` answers.
    mutating func prepareLearnerRequest(_ request: LearnerRequest, from sid: Int64, now: Now, into actions: inout [Action]) {
        let session = request.sessionId
        switch OpCode(rawValue: request.type) {
        case .createSession?:
            var reader = JuteReader(ByteBuffer(bytes: request.body))
            let asked = (try? reader.readInt()) ?? configuration.sessionTimeoutBounds.lowerBound
            let bounds = configuration.sessionTimeoutBounds
            let timeout = min(max(asked, bounds.lowerBound), bounds.upperBound)
            if sessions.sessions[session] == nil { sessions.restore(id: session, timeout: timeout, now: now.monotonicMillis) }
            sessions.setOwner(session, sid)
            prepare(TypedTxn(type: .createSession, txn: .createSession(timeOut: timeout)), session: session, xid: request.cxid,
                    origin: .server, now: now, into: &actions)
        case .closeSession?:
            guard sessions.markClosing(session) else {
                // Already closing (expired meanwhile): the learner's client still needs its answer.
                prepareError(.sessionExpired, for: request, now: now, into: &actions)
                return
            }
            prepareCloseSession(session, xid: request.cxid, origin: .server, now: now, into: &actions)
        default:
            if sessions.sessions[session] == nil && configuration.localSessionsEnabled && session >> 56 != configuration.serverId {
                // A local session of the learner's: the leader cannot check it
                // (`LeaderSessionTracker.checkSession`).
            } else {
                guard !sessions.isLocal(session), sessions.touch(session, now: now.monotonicMillis) else {
                    prepareError(.sessionExpired, for: request, now: now, into: &actions)
                    return
                }
                guard sessions.sessions[session]?.owner == sid else {
                    actions.append(.info("Session 0x\(hex(session)) moved away from server.\(sid): its request 0x\(String(request.cxid, radix: 16)) gets SessionMoved"))
                    return prepareError(.sessionMoved, for: request, now: now, into: &actions)
                }
            }
            var reader = JuteReader(ByteBuffer(bytes: request.body))
            let decoded: Request
            do {
                decoded = try Request.decode(opCode: request.type, from: &reader)
            } catch let error as KeeperError {
                return prepareError(error, for: request, now: now, into: &actions)
            } catch {
                return prepareError(.marshallingError, for: request, now: now, into: &actions)
            }
            guard decoded.isWrite, decoded.opCode != .deleteContainer else {
                return prepareError(.badArguments, for: request, now: now, into: &actions)
            }
            let txn = prepareWrite(decoded, session: session, authInfo: request.authInfo, zxid: lastPreparedZxid + 1, now: now)
            prepare(txn, session: session, xid: request.cxid, origin: .server, now: now, into: &actions)
        }
    }

    private mutating func prepareError(_ error: KeeperError, for request: LearnerRequest, now: Now, into actions: inout [Action]) {
        prepare(TypedTxn(type: .error, txn: .error(error.rawValue)), session: request.sessionId, xid: request.cxid,
                origin: .server, now: now, into: &actions)
    }
}
