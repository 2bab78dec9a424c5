import Configuration

/// What a leading server's core needs to prepare a `reconfig` request
/// (`PrepRequestProcessor`'s reconfig case): the last configuration seen, the version of the
/// one in force, and whether a proposed membership has a synchronized quorum. A core without
/// it (standalone, or not leading) cannot reconfigure.
public struct ReconfigContext: Sendable {
    /// The last configuration seen: the one in force, unless a reconfig is in flight.
    public var lastSeen: Membership
    /// The version of the configuration in force.
    public var committedVersion: Int64
    /// `standaloneEnabled`: a new configuration needs two voters when it is on, one otherwise.
    public var standaloneEnabled: Bool
    /// Whether the leader and the followers synchronized with it hold a quorum of the given
    /// membership's voters (`Leader.isQuorumSynced`).
    public var isQuorumSynced: @Sendable (Membership) -> Bool

    public init(lastSeen: Membership, committedVersion: Int64, standaloneEnabled: Bool,
                isQuorumSynced: @escaping @Sendable (Membership) -> Bool) {
        self.lastSeen = lastSeen; self.committedVersion = committedVersion
        self.standaloneEnabled = standaloneEnabled; self.isQuorumSynced = isQuorumSynced
    }

    /// Whether a reconfig is proposed and not yet in force (`ReconfigInProgress`).
    public var isReconfiguring: Bool { lastSeen.version != committedVersion }
}
