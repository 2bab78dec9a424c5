import Configuration
import ServerCore

/// A server's state as ZooKeeper's operator surface names it (`srvr`'s Mode, `mntr`'s
/// `zk_server_state`, the AdminServer's `server_state`).
public enum ServerMode: String, Sendable, CaseIterable {
    case standalone, leader, follower, observer
    /// Electing a leader; no quorum is being served.
    case looking
    /// Cut off from a quorum with `readonlymode.enabled`: reads for clients that allow it
    /// (`ReadOnlyZooKeeperServer`).
    case readOnly = "read-only"
}

/// What `mntr` shows of a member of an ensemble (`QuorumZooKeeperServer` and
/// `LeaderZooKeeperServer.dumpMonitorValues`), and the AdminServer's `leader`, `zabstate` and
/// `observers`.
public struct EnsembleFigures: Sendable, Equatable {
    /// `zk_peer_state`: the peer state and ZAB phase, as "following - broadcast".
    public var peerState: String
    /// `zk_quorum_size`: the voting members.
    public var quorumSize: Int
    /// The leader's: learners connected, followers and observers synchronized, learners'
    /// syncs waiting.
    public var learners: Int?
    public var syncedFollowers: Int?
    public var syncedObservers: Int?
    public var pendingSyncs: Int?
    /// The leader's: milliseconds since its epoch was established (`leader_uptime`).
    public var leaderUptime: Int64?
    /// A learner's: when a packet from its leader last arrived (monotonic milliseconds).
    public var leaderLastHeardMillis: Int64?
    /// A learner's: its (Aviary) leader's answer to `peer`, fetched within the last ticks.
    public var leaderPeerView: String?
    /// This member's id, and the leader it follows or is (nil while electing).
    public var myid: Int64 = 0
    public var leaderId: Int64?
    /// The leader's quorum host (`QuorumPeer.getLeaderAddress`).
    public var leaderHost: String?
    /// `QuorumPeer.ZabState`: election, discovery, synchronization or broadcast.
    public var zabState = "election"
    /// Whether this member is a voter of the configuration.
    public var voting = false
    /// The leader's view of each learner connected to it, by sid.
    public var learnerViews: [LearnerView] = []
    /// Elections, syncs, proposals and unavailability so far.
    public var statistics = QuorumStatistics()

    public init(peerState: String, quorumSize: Int, learners: Int? = nil, syncedFollowers: Int? = nil,
                syncedObservers: Int? = nil, pendingSyncs: Int? = nil) {
        self.peerState = peerState; self.quorumSize = quorumSize; self.learners = learners
        self.syncedFollowers = syncedFollowers; self.syncedObservers = syncedObservers; self.pendingSyncs = pendingSyncs
    }
}

/// A leader's figures for one learner connection (`LearnerHandler.getLearnerHandlerInfo`).
public struct LearnerView: Sendable, Equatable {
    public var sid: Int64
    public var isObserver: Bool
    /// The learner's socket address as Java prints it: "/127.0.0.2:41234".
    public var remoteAddress: String
    /// When the connection was made, in milliseconds since 1970.
    public var establishedMillis: Int64
    public var packetsReceived: Int64 = 0
    public var packetsSent: Int64 = 0
    /// REQUESTs it forwarded.
    public var requests: Int64 = 0
    /// The zxid of the last packet sent to it (-1 before any).
    public var lastZxid: Int64 = -1
    /// Whether it is synchronized (it acknowledged NEWLEADER).
    public var synced = false
    /// The newest zxid it acknowledged as logged (-1 before any; observers acknowledge none).
    public var lastAckedZxid: Int64 = -1
    /// When a packet from it last arrived, on the server's monotonic clock.
    public var lastHeardMillis: Int64 = 0
    /// When the oldest proposal it has not acknowledged was sent (monotonic milliseconds).
    public var oldestUnacknowledgedMillis: Int64?
    /// When the PING awaiting its answer was sent, and the last PING round trip in milliseconds.
    public var pingSentMillis: Int64?
    public var roundTripMillis: Int64?

    public init(sid: Int64, isObserver: Bool, remoteAddress: String, establishedMillis: Int64) {
        self.sid = sid; self.isObserver = isObserver; self.remoteAddress = remoteAddress; self.establishedMillis = establishedMillis
    }
}

/// What the operator surface shows beyond the core's own state: configuration, files,
/// process figures. The shell fills it in; the renderers only read it.
public struct ServerContext: Sendable {
    /// The version clients and tools see.
    public var version: String
    /// Which part the server plays now.
    public var mode: ServerMode
    public var configuration: ServerConfiguration
    /// Absolute `version-2` directories.
    public var snapshotDirectory: String
    public var logDirectory: String
    /// Bytes held by the files in each.
    public var snapshotDirectorySize: Int64
    public var logDirectorySize: Int64
    /// When the server started, on the core's monotonic clock.
    public var startedAt: Int64
    public var now: Now
    /// `gtmk`/`stmk`'s trace mask.
    public var traceMask: Int64
    /// `envi`'s lines after the version, in order.
    public var environment: [(String, String)]
    public var openFileDescriptors: Int64
    public var maxFileDescriptors: Int64
    /// Transaction-log fsyncs: how many and total milliseconds.
    public var fsyncCount: Int64
    public var fsyncMillis: Int64
    /// Fsyncs slower than ZooKeeper's warning threshold (1 s).
    public var slowFsyncCount: Int64 = 0
    /// Operator log lines lost to a failing destination.
    public var logWriteFailures: Int64 = 0
    /// Sizes of responses sent, in bytes.
    public var responseSizes: (last: Int64, min: Int64, max: Int64) = (0, 0, 0)
    /// The configuration file as read (`initial_configuration`).
    public var initialConfiguration = ""
    /// The newest snapshot: its zxid and file time in seconds.
    public var lastSnapshotZxid: Int64 = 0
    public var lastSnapshotTimestamp: Int64 = 0
    /// An ensemble member's figures (`mntr`'s quorum keys); nil standalone.
    public var ensemble: EnsembleFigures?

    public init(version: String, mode: ServerMode, configuration: ServerConfiguration, snapshotDirectory: String,
                logDirectory: String, snapshotDirectorySize: Int64, logDirectorySize: Int64, startedAt: Int64, now: Now,
                traceMask: Int64, environment: [(String, String)], openFileDescriptors: Int64, maxFileDescriptors: Int64,
                fsyncCount: Int64, fsyncMillis: Int64) {
        self.version = version; self.mode = mode; self.configuration = configuration
        self.snapshotDirectory = snapshotDirectory; self.logDirectory = logDirectory
        self.snapshotDirectorySize = snapshotDirectorySize; self.logDirectorySize = logDirectorySize
        self.startedAt = startedAt; self.now = now; self.traceMask = traceMask; self.environment = environment
        self.openFileDescriptors = openFileDescriptors; self.maxFileDescriptors = maxFileDescriptors
        self.fsyncCount = fsyncCount; self.fsyncMillis = fsyncMillis
    }
}
