import ZooKeeperProtocol

/// A vote in leader election (`Vote`): whom the sender backs, with that server's last zxid and
/// epoch, the round it was cast in, and the sender's state.
public struct Vote: Hashable, Sendable {
    public var leader: Int64
    public var zxid: Int64
    public var electionEpoch: Int64
    public var peerEpoch: Int64
    public var state: PeerState
    /// The notification format version it came in (0 for votes built locally, as in ZooKeeper).
    public var version: Int32

    public init(leader: Int64, zxid: Int64, electionEpoch: Int64, peerEpoch: Int64, state: PeerState = .looking, version: Int32 = 0) {
        self.leader = leader; self.zxid = zxid; self.electionEpoch = electionEpoch; self.peerEpoch = peerEpoch
        self.state = state; self.version = version
    }

    /// ZooKeeper's `Vote.equals`, which vote counting uses: while either vote is LOOKING all of
    /// leader, zxid, round and peerEpoch must match; between servers out of election only the
    /// leader, and the peerEpoch too unless exactly one of the votes has a version above 0.
    public func agrees(with other: Vote) -> Bool {
        if state == .looking || other.state == .looking {
            return leader == other.leader && zxid == other.zxid && electionEpoch == other.electionEpoch && peerEpoch == other.peerEpoch
        }
        if (version > 0) != (other.version > 0) { return leader == other.leader }
        return leader == other.leader && peerEpoch == other.peerEpoch
    }

    /// `FastLeaderElection.totalOrderPredicate`: whether a vote for (`leader`, `zxid`,
    /// `peerEpoch`) beats the current one: a higher epoch, then a higher zxid, then a higher id.
    public static func beats(leader: Int64, zxid: Int64, peerEpoch: Int64,
                             currentLeader: Int64, currentZxid: Int64, currentPeerEpoch: Int64) -> Bool {
        (peerEpoch > currentPeerEpoch)
            || (peerEpoch == currentPeerEpoch && (zxid > currentZxid || (zxid == currentZxid && leader > currentLeader)))
    }
}
