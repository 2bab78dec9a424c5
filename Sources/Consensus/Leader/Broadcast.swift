/// The leader's side of ZAB's broadcast phase (`Leader.propose`, `processAck`, `tryToCommit`):
/// proposals in flight, the ACKs each has, and the commits they earn, strictly in zxid order.
///
/// Many proposals may be outstanding at once; a proposal commits once a quorum of voters, the
/// leader's own durable ACK counting as one, has acknowledged it and every earlier one has committed.
/// While a reconfiguration is pending (``nextVerifier``), each proposal made needs a quorum of
/// both configurations, as ZooKeeper's proposals carry a verifier per configuration; the
/// commits stop after a reconfiguration, so that the leader can put the new configuration in
/// force (and stop committing if it no longer leads it) before anything after it commits.
public struct Broadcast: Sendable {
    public private(set) var verifier: QuorumVerifier
    public private(set) var nextVerifier: QuorumVerifier?

    /// A proposal in flight: the servers that acknowledged it, and the configurations whose
    /// quorums it needs (those in force when it was proposed).
    public struct Outstanding: Sendable {
        public var zxid: Int64
        public var acks: Set<Int64>
        public var verifiers: [QuorumVerifier]
        public var isReconfig: Bool
    }

    /// Outstanding proposals, oldest first.
    public private(set) var outstanding: [Outstanding] = []
    /// The last zxid committed.
    public private(set) var lastCommitted: Int64

    public init(verifier: QuorumVerifier, nextVerifier: QuorumVerifier? = nil, lastCommitted: Int64) {
        self.verifier = verifier
        self.nextVerifier = nextVerifier
        self.lastCommitted = lastCommitted
    }

    /// Why a proposal could not be made.
    public enum ProposalError: Error, Equatable, Sendable {
        /// Zxids must grow; the counter must not wrap into the next epoch (the leader steps
        /// down and a new epoch starts instead, as ZooKeeper does at 0xffffffff).
        case notIncreasing(Int64)
        case counterExhausted(Int64)
    }

    /// Starts tracking a new proposal. A reconfiguration (`next`) becomes the pending
    /// configuration first, so that it needs a quorum of both itself (`Leader.propose` sets
    /// the last-seen verifier before it adds the verifiers to the proposal).
    public mutating func propose(_ zxid: Int64, reconfiguring next: QuorumVerifier? = nil) throws(ProposalError) {
        if zxid & 0xFFFF_FFFF == 0xFFFF_FFFF { throw .counterExhausted(zxid) }
        let last = outstanding.last?.zxid ?? lastCommitted
        guard zxid > last else { throw .notIncreasing(zxid) }
        if let next { nextVerifier = next }
        outstanding.append(Outstanding(zxid: zxid, acks: [], verifiers: [verifier] + (nextVerifier.map { [$0] } ?? []),
                                       isReconfig: next != nil))
    }

    /// Records `sid`'s ACK of `zxid` (the leader's own after its fsync); returns the zxids that
    /// commit now, oldest first, up to and including a reconfiguration. ACKs for committed or
    /// unknown zxids change nothing.
    public mutating func acknowledge(_ zxid: Int64, from sid: Int64) -> [Int64] {
        guard let index = outstanding.firstIndex(where: { $0.zxid == zxid }) else { return [] }
        outstanding[index].acks.insert(sid)
        return commitReady()
    }

    /// Commits what has its quorums, oldest first, stopping after a reconfiguration.
    public mutating func commitReady() -> [Int64] {
        var committed: [Int64] = []
        while let first = outstanding.first, first.verifiers.allSatisfy({ $0.isQuorum(first.acks) }) {
            outstanding.removeFirst()
            lastCommitted = first.zxid
            committed.append(first.zxid)
            if first.isReconfig {
                reconfigAcks = first.acks
                break
            }
        }
        return committed
    }

    /// The reconfiguration committed: its configuration is now the one in force.
    public mutating func activate(_ next: QuorumVerifier) {
        verifier = next
        if let pending = nextVerifier, pending.version <= next.version { nextVerifier = nil }
    }

    /// The servers that acknowledged the last reconfiguration committed (for
    /// `getDesignatedLeader`).
    public private(set) var reconfigAcks: Set<Int64> = []

    /// The oldest outstanding proposal, for the syncLimit check on learners that fall behind.
    public var oldestOutstanding: Int64? { outstanding.first?.zxid }
}
