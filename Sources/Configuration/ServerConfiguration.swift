/// One `server.N` line of zoo.cfg or of the dynamic configuration file.
public struct ServerSpec: Sendable, Hashable {
    public var id: Int64
    public var host: String
    public var quorumPort: Int
    public var electionPort: Int
    /// "participant" or "observer".
    public var role: String
    public var clientAddress: String?
    public var clientPort: Int?

    public init(id: Int64, host: String, quorumPort: Int, electionPort: Int, role: String = "participant",
                clientAddress: String? = nil, clientPort: Int? = nil) {
        self.id = id; self.host = host; self.quorumPort = quorumPort; self.electionPort = electionPort
        self.role = role; self.clientAddress = clientAddress; self.clientPort = clientPort
    }
}

/// A server's settings, read from a ZooKeeper `zoo.cfg` (or the built-in defaults).
public struct ServerConfiguration: Sendable {
    public var tickTime: Int = 2000
    public var dataDir: String = "./aviary-data"
    public var dataLogDir: String?
    public var clientPort: Int = 2181
    /// The address to listen on; ZooKeeper listens on every interface when unset.
    public var clientPortAddress: String?
    public var maxClientCnxns: Int = 60
    public var minSessionTimeout: Int?
    public var maxSessionTimeout: Int?
    public var initLimit: Int = 10
    public var syncLimit: Int = 5
    /// `jute.maxbuffer`: the largest frame accepted.
    public var juteMaxBuffer: Int = 0xFFFFF
    /// `4lw.commands.whitelist`; nil means the default.
    public var fourLetterWords: Set<String>?
    public var extendedTypesEnabled = false
    public var superDigest: String?
    public var authProviders: [String: String] = [:]
    public var reconfigEnabled = false
    public var standaloneEnabled = true
    /// The ensemble's members (`server.N`, from zoo.cfg or `dynamicConfigFile`).
    public var servers: [Int64: ServerSpec] = [:]
    /// Where each `server.N` was read, for messages ("zoo.cfg:12").
    public var serverLines: [Int64: String] = [:]
    /// The membership's version: from the dynamic file's name (`zoo.cfg.dynamic.<hex>`), else 0.
    public var configVersion: Int64 = 0
    /// `dynamicConfigFile`, when membership lives in a file of its own.
    public var dynamicConfigFile: String?
    /// `peerType`: "participant" or "observer" (the servers list wins when they disagree).
    public var peerType = "participant"
    /// `cnxTimeout` (`zookeeper.cnxTimeout`): election connect timeout in milliseconds.
    public var connectTimeoutMs = 5000
    /// `electionPortBindRetry`: times to retry binding the election port (0: forever).
    public var electionPortBindRetry = 3
    /// `quorumListenOnAllIPs`: bind quorum and election ports on every interface.
    public var quorumListenOnAllIPs = false
    /// `localSessionsEnabled`, `localSessionsUpgradingEnabled`.
    public var localSessionsEnabled = false
    public var localSessionsUpgradingEnabled = true
    /// `readonlymode.enabled`: serve reads while cut off from a quorum.
    public var readOnlyModeEnabled = false
    /// `zookeeper.quorumCnxnTimeoutMs`: the election port's socket timeout; nil for ZooKeeper's
    /// default, syncLimit ticks (``electionConnectionTimeoutMs``).
    public var quorumCnxnTimeoutMs: Int?
    /// How long an election connection may wait on its peer (quorum SASL exchanges included).
    public var electionConnectionTimeoutMs: Int { quorumCnxnTimeoutMs ?? tickTime * syncLimit }
    /// `leaderSilenceTimeout` (Aviary's): a follower that hears nothing from its leader — no
    /// PING, PROPOSAL or COMMIT — for this many milliseconds looks for a new one, instead of
    /// waiting out syncLimit × tickTime (a paused or hung leader). nil: max(tickTime, 1000);
    /// 0: only syncLimit, as ZooKeeper.
    public var leaderSilenceTimeoutMs: Int?
    /// The silence after which a serving follower gives its leader up, in milliseconds.
    public var effectiveLeaderSilenceTimeout: Int {
        let limit = tickTime * syncLimit
        guard let chosen = leaderSilenceTimeoutMs else { return min(limit, max(tickTime, 1000)) }
        return chosen == 0 ? limit : min(limit, chosen)
    }
    /// The voting members (participants).
    public var voters: [ServerSpec] { servers.values.filter { $0.role == "participant" }.sorted { $0.id < $1.id } }
    /// The observers.
    public var observers: [ServerSpec] { servers.values.filter { $0.role == "observer" }.sorted { $0.id < $1.id } }
    /// Whether the configuration describes an ensemble rather than one standalone server
    /// (`QuorumPeerConfig.isDistributed`: more than one voter, or standalone mode turned off).
    public var isDistributed: Bool { !servers.isEmpty && (voters.count > 1 || !standaloneEnabled) }
    /// The `myid` file's id, when dataDir has one.
    public var myid: Int64?
    /// Transactions between snapshots (randomised as ZooKeeper does).
    public var snapCount: Int = 100_000
    /// Whether each log write is fsynced before it is acknowledged (`forceSync`).
    public var forceSync = true
    /// Log preallocation step in kilobytes (`preAllocSize`).
    public var preAllocSizeKB: Int = 65536
    /// Snapshots kept by autopurge (`autopurge.snapRetainCount`, at least 3).
    public var snapRetainCount: Int = 3
    /// Hours between autopurges; 0 disables (`autopurge.purgeInterval`).
    public var purgeIntervalHours: Int = 0
    /// Prometheus `/metrics` (and `/ready`, `/live`) port; 0 turns it off (`metricsProvider.httpPort`).
    public var metricsPort: Int = 7000
    /// Address for `/metrics`; every interface when unset, as ZooKeeper (`metricsProvider.httpHost`).
    public var metricsHost: String?
    /// AdminServer (`admin.enableServer`, `admin.serverAddress`, `admin.serverPort`, `admin.commandURL`).
    public var adminEnabled = true
    public var adminHost: String?
    public var adminPort: Int = 8080
    public var adminCommandURL = "/commands"
    /// URLs that receive every operator event as a JSON POST (`aviary.webhooks`, comma-separated).
    public var webhooks: [String] = []
    /// Fsyncs slower than this many milliseconds are reported (`fsync.warningthresholdms`).
    public var fsyncWarningThresholdMs: Int = 1000
    /// Outstanding requests above which the server stops reading from clients until half
    /// of them are done (`globalOutstandingLimit`).
    public var globalOutstandingLimit = 1000
    /// Log output: format ("text" or "json"), directory (standard error when nil), file
    /// name, roll-over size and backups (`aviary.log.*`, or ZooKeeper's `zookeeper.log.*`).
    public var logFormat = "text"
    public var logDirectory: String?
    public var logFile = "aviary.log"
    public var logMaximumFileSize = 256 << 20
    public var logMaximumBackups = 20
    /// Whether write operations are written to the audit log (`audit.enable`).
    public var auditEnabled = false
    /// The TLS client port (`secureClientPort`); nil for none.
    public var secureClientPort: Int?
    public var secureClientPortAddress: String?
    /// Whether the plaintext client port takes TLS clients too (`client.portUnification`).
    public var clientPortUnification = false
    /// The client ports' TLS settings (`ssl.*`).
    public var clientSSL = SSLSettings()
    /// Quorum SASL (`quorum.auth.enableSasl`): DIGEST-MD5 between members, with the JAAS
    /// sections ``quorumServerLoginContext`` (the users a member accepts) and
    /// ``quorumLearnerLoginContext`` (the name and password it presents).
    public var quorumSaslEnabled = false
    /// `quorum.auth.learnerRequireSasl`: this member authenticates when it dials.
    public var quorumLearnerRequireSasl = false
    /// `quorum.auth.serverRequireSasl`: this member refuses peers that do not authenticate.
    public var quorumServerRequireSasl = false
    public var quorumLearnerLoginContext = "QuorumLearner"
    public var quorumServerLoginContext = "QuorumServer"
    /// TLS on the quorum and election ports (`sslQuorum`), with ``quorumSSL``.
    public var sslQuorum = false
    /// Whether the quorum and election ports take TLS and plaintext peers alike
    /// (`portUnification`), for rolling an ensemble to TLS.
    public var quorumPortUnification = false
    /// The quorum's TLS settings (`ssl.quorum.*`).
    public var quorumSSL = SSLSettings()
    /// The certificate subject that authenticates as `super` (ZooKeeper's
    /// `zookeeper.X509AuthenticationProvider.superUser`).
    public var x509SuperUser: String?
    /// The JAAS file (`-Djava.security.auth.login.config`) whose ``saslServerSection`` lists
    /// the SASL DIGEST-MD5 users (`user_<name>="<password>"`).
    public var jaasConfigFile: String?
    /// `zookeeper.sasl.serverconfig`: the JAAS section for client SASL.
    public var saslServerSection = "Server"
    /// `zookeeper.superUser`: the SASL identity that is a super user.
    public var saslSuperUser: String?
    /// `java.security.krb5.conf`: the Kerberos configuration (realms, KDCs) for SASL GSSAPI;
    /// nil for the system's (`KRB5_CONFIG`, else /etc/krb5.conf).
    public var krb5ConfigFile: String?
    /// `zookeeper.kerberos.removeHostFromPrincipal` / `removeRealmFromPrincipal`: how a
    /// Kerberos client's principal becomes its `sasl` identity.
    public var kerberosRemoveHostFromPrincipal = false
    public var kerberosRemoveRealmFromPrincipal = false
    /// `enforce.auth.enabled`: requests from a connection that has not authenticated with one
    /// of ``enforceAuthSchemes`` are refused (SessionClosedRequireSaslAuth) and it is closed.
    public var enforceAuthEnabled = false
    public var enforceAuthSchemes: [String] = []
    /// `sessionRequireClientSASLAuth`: the same as enforcing the `sasl` scheme.
    public var sessionRequireClientSASLAuth = false

    /// The schemes a connection must have authenticated with before its requests are served;
    /// nil when nothing is enforced (ZooKeeper's `AuthenticationHelper`).
    public var enforcedAuthSchemes: [String]? {
        if sessionRequireClientSASLAuth { return ["sasl"] }
        return enforceAuthEnabled ? enforceAuthSchemes : nil
    }
    /// The configuration file's text, as read (`initial_configuration`).
    public var sourceText = ""
    /// The configuration file's path, when the server was started with one: reconfig writes
    /// the dynamic files beside it and points it at them.
    public var filePath: String?
    /// Whether the tree digest is kept and logged (`digest.enabled`, `hash`).
    public var digestEnabled = true
    /// `znode.container.checkIntervalMs`.
    public var containerCheckIntervalMs: Int = 60_000
    /// Every key=value as read, for `conf` and the AdminServer.
    public var properties: [(key: String, value: String)] = []

    /// The built-in settings of `aviary server` with no arguments: 127.0.0.1:2181, ./aviary-data.
    public static var embeddedDefault: ServerConfiguration {
        var configuration = ServerConfiguration()
        configuration.clientPortAddress = "127.0.0.1"
        configuration.metricsHost = "127.0.0.1"
        configuration.adminHost = "127.0.0.1"
        return configuration
    }

    public init() {}
}
