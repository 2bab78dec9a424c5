/// The leader's side of ZAB's broadcast phase (`Leader.propose`, `processAck`, `tryToCommit`):
/// proposals in flight, the ACKs each has, and the commits they earn, strictly in zxid order.
///
/// Many proposals may be outstanding at once; a proposal commits once a quorum of voters, the
/// leader's own durable ACK counting as one, has acknowledged it and every earlier one has committed.
/// With a pending reconfiguration a quorum of each configuration is needed.
public struct Broadcast: Sendable {
    public private(set) var verifier: QuorumVerifier
    public private(set) var nextVerifier: QuorumVerifier?
    /// Outstanding proposals, oldest first, with the servers that acknowledged each.
    public private(set) var outstanding: [(zxid: Int64, acks: Set<Int64>)] = []
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

    /// Starts tracking a new proposal.
    public mutating func propose(_ zxid: Int64) throws(ProposalError) {
        if zxid & 0xFFFF_FFFF == 0xFFFF_FFFF { throw .counterExhausted(zxid) }
        let last = outstanding.last?.zxid ?? lastCommitted
        guard zxid > last else { throw .notIncreasing(zxid) }
        outstanding.append((zxid, []))
    }

    /// Records `sid`'s ACK of `zxid` (the leader's own after its fsync); returns the zxids that
    /// commit now, oldest first. ACKs for committed or unknown zxids change nothing.
    public mutating func acknowledge(_ zxid: Int64, from sid: Int64) -> [Int64] {
        guard let index = outstanding.firstIndex(where: { $0.zxid == zxid }) else { return [] }
        outstanding[index].acks.insert(sid)
        var committed: [Int64] = []
        while let first = outstanding.first, hasQuorum(first.acks) {
            outstanding.removeFirst()
            lastCommitted = first.zxid
            committed.append(first.zxid)
        }
        return committed
    }

    private func hasQuorum(_ acks: Set<Int64>) -> Bool {
        verifier.isQuorum(acks) && (nextVerifier.map { $0.isQuorum(acks) } ?? true)
    }

    /// The oldest outstanding proposal, for the syncLimit check on learners that fall behind.
    public var oldestOutstanding: Int64? { outstanding.first?.zxid }
}
