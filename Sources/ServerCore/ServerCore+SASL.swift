import ZooKeeperProtocol

extension Request {
    /// An `auth` or `sasl` packet: what a connection may send before it is authenticated.
    var isAuthentication: Bool {
        switch self {
        case .auth, .sasl: return true
        default: return false
        }
    }
}

extension ServerCore {
    /// A SASL packet (`ZooKeeperServer.processSasl`): the connection's DIGEST-MD5 or GSSAPI exchange
    /// takes its token and answers with the next; once complete, the client's identity is its
    /// `sasl` id (and `super` when it is `zookeeper.superUser`). A failure is answered with
    /// AuthFailed (SessionClosedRequireSaslAuth when SASL is enforced) and closes the connection.
    mutating func handleSASL(_ id: ConnectionID, _ header: RequestHeader, token: [UInt8], connection: Connection,
                             session: Int64, into actions: inout [Action]) {
        var exchange: any SASLMechanism
        if let current = connection.sasl {
            exchange = current
        } else if let gssapi = configuration.saslGSSAPI {
            do {
                exchange = try gssapi()
            } catch {
                failSASL(id, header, connection: connection, session: session, reason: "\(error)", into: &actions)
                return
            }
        } else if let users = configuration.saslUsers {
            exchange = DigestMD5Server(users: users, nonce: configuration.saslNonce())
        } else {
            failSASL(id, header, connection: connection, session: session, reason: "SASL is not configured on this server", into: &actions)
            return
        }
        do {
            let answer = try exchange.respond(to: token)
            connections[id]?.sasl = exchange
            if exchange.isComplete, let identity = exchange.authorizationID {
                var identities = [Id(scheme: "sasl", id: identity)]
                if let superUser = configuration.saslSuperUser, superUser == identity { identities.append(Id(scheme: "super", id: "")) }
                for identity in identities where !(connections[id]?.authInfo.contains(identity) ?? true) {
                    connections[id]?.authInfo.append(identity)
                }
                actions.append(.info("Session 0x\(hex(session)): adding SASL authorization for authorizationID: \(identity)"))
            }
            actions.append(.send(id, .reply(ReplyHeader(xid: header.xid, zxid: 0, err: 0), .sasl(token: answer))))
        } catch {
            failSASL(id, header, connection: connection, session: session, reason: "\(error)", into: &actions)
        }
    }

    private mutating func failSASL(_ id: ConnectionID, _ header: RequestHeader, connection: Connection, session: Int64,
                                   reason: String, into actions: inout [Action]) {
        statistics.authFailures += 1
        actions.append(.event("auth_failed", ["address": connection.address, "scheme": "sasl", "session": "0x" + hex(session),
                                              "reason": reason]))
        actions.append(.warn("Client /\(connection.address) failed to SASL authenticate: \(reason)"))
        let required = configuration.enforcedAuthSchemes?.contains("sasl") == true
        let error: KeeperError = required ? .sessionClosedRequireSaslAuth : .authFailed
        actions.append(.send(id, .reply(ReplyHeader(xid: header.xid, zxid: 0, err: error.rawValue), .sasl(token: nil))))
        actions.append(.close(id))
    }

    /// A request from a connection that has not authenticated with any of the enforced schemes
    /// (`AuthenticationHelper.enforceAuthentication`): SessionClosedRequireSaslAuth, then the
    /// connection is closed.
    mutating func refuseUnauthenticated(_ id: ConnectionID, _ header: RequestHeader, connection: Connection, schemes: [String],
                                        into actions: inout [Action]) {
        statistics.authFailures += 1
        let has = connection.authInfo.map(\.scheme)
        actions.append(.event("auth_failed", ["address": connection.address, "scheme": schemes.joined(separator: ","),
                                              "reason": "not authenticated"]))
        actions.append(.warn("Client authentication scheme(s) \(has) does not match with any of the expected authentication scheme \(schemes), closing session."))
        actions.append(.send(id, .reply(ReplyHeader(xid: header.xid, zxid: 0, err: KeeperError.sessionClosedRequireSaslAuth.rawValue), .empty)))
        actions.append(.close(id))
    }
}
