/// The settings the server core acts on.
public struct ServerCoreConfiguration: Sendable {
    /// The basic time unit in milliseconds.
    public var tickTime: Int64 = 2000
    /// The smallest session timeout granted; defaults to 2 ticks.
    public var minSessionTimeout: Int32? = nil
    /// The largest session timeout granted; defaults to 20 ticks.
    public var maxSessionTimeout: Int32? = nil
    /// This server's id; the high byte of every session id it creates.
    public var serverId: Int64 = 1
    /// Whether TTL znodes may be created (`extendedTypesEnabled`).
    public var extendedTypesEnabled: Bool = false
    /// `user:base64(sha1)` whose holder passes every ACL check.
    public var superDigest: String? = nil
    /// Most connections one client address may hold; 0 means no limit.
    public var maxClientConnections: Int = 60
    /// How often containers and TTL znodes are checked, in milliseconds.
    public var containerCheckInterval: Int64 = 60_000
    /// How long a connection may stay without a session before it is closed, in
    /// milliseconds (`zookeeper.nio.sessionlessCnxnTimeout`).
    public var sessionlessConnectionTimeout: Int64 = 10_000
    /// Whether writes are reported for the audit log (`audit.enable`).
    public var auditEnabled = false
    /// Whether reconfig is enabled (`reconfigEnabled`).
    public var reconfigEnabled: Bool = false
    /// The dynamic configuration shown at /zookeeper/config.
    public var dynamicConfig: String = ""
    /// Sessions start local to the server that made them (`localSessionsEnabled`; ensemble
    /// members only, as ZooKeeper's quorum servers).
    public var localSessionsEnabled = false
    /// Whether a local session that creates an ephemeral znode becomes global first
    /// (`localSessionsUpgradingEnabled`); otherwise the create fails with EphemeralOnLocalSession.
    public var localSessionsUpgradingEnabled = true
    /// The SASL DIGEST-MD5 users and their passwords (the JAAS `Server` section); nil when
    /// SASL is not configured, and SASL packets are refused.
    public var saslUsers: [String: String]? = nil
    /// Where SASL DIGEST-MD5 nonces come from: random by default; a test may give fixed ones.
    public var saslNonce: @Sendable () -> String = DigestMD5Server.randomNonce
    /// Where a connection's SASL GSSAPI (Kerberos) exchange comes from, when the JAAS `Server`
    /// section logs in with Kerberos; it takes the place of DIGEST-MD5. The server makes the
    /// security contexts (a system library does the Kerberos work).
    public var saslGSSAPI: (@Sendable () throws -> GSSAPIServer)? = nil
    /// The SASL identity that is a super user (`zookeeper.superUser`).
    public var saslSuperUser: String? = nil
    /// The schemes a connection must have authenticated with before its requests are served
    /// (`enforce.auth.*`); nil when nothing is enforced.
    public var enforcedAuthSchemes: [String]? = nil
    /// Whether this core prepares writes itself or forwards them to a leader.
    public var role: ServerCore.Role = .standalone

    public init() {}

    /// The negotiated-timeout bounds in effect.
    public var sessionTimeoutBounds: ClosedRange<Int32> {
        let low = minSessionTimeout ?? Int32(clamping: tickTime * 2)
        let high = maxSessionTimeout ?? Int32(clamping: tickTime * 20)
        return low...max(low, high)
    }
}
