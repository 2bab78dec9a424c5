/// The leader's side of ZAB's discovery and the start of synchronization (`Leader.lead`,
/// `getEpochToPropose`, `waitForEpochAck`, `waitForNewLeaderAck`) as a pure state machine:
/// agree on a new epoch with a quorum, learn each learner's last zxid, and know when a quorum
/// has acknowledged NEWLEADER. Each wait is bounded by initLimit × tickTime: the shell reports
/// ``Event/deadlinePassed`` and the leader gives up.
public struct Discovery: Sendable {
    /// What the leader knows of itself at the start of `lead()`.
    public struct Leader: Sendable, Equatable {
        public var myid: Int64
        public var acceptedEpoch: Int64
        public var currentEpoch: Int64
        public var lastProcessedZxid: Int64
        public init(myid: Int64, acceptedEpoch: Int64, currentEpoch: Int64, lastProcessedZxid: Int64) {
            self.myid = myid; self.acceptedEpoch = acceptedEpoch; self.currentEpoch = currentEpoch; self.lastProcessedZxid = lastProcessedZxid
        }
    }

    public enum Event: Sendable {
        /// FOLLOWERINFO or OBSERVERINFO: the learner's accepted epoch is the packet zxid's epoch.
        case learnerInfo(sid: Int64, acceptedEpoch: Int64)
        /// ACKEPOCH: the learner's last logged zxid and its current epoch (-1: it had accepted
        /// this epoch already).
        case ackEpoch(sid: Int64, lastLoggedZxid: Int64, currentEpoch: Int32)
        /// The first packet after NEWLEADER from a learner.
        case newLeaderAck(sid: Int64, zxid: Int64)
        case deadlinePassed
    }

    public enum Action: Sendable, Hashable {
        case writeAcceptedEpoch(Int64)
        case writeCurrentEpoch(Int64)
        /// Send LEADERINFO (zxid = epoch << 32, protocol 0x10000).
        case sendLeaderInfo(to: Int64, zxid: Int64)
        /// Sync this learner (see ``SyncPlan``), then queue NEWLEADER to it.
        case synchronize(sid: Int64, peerLastZxid: Int64)
        case dropLearner(Int64, reason: String)
        /// A quorum acknowledged NEWLEADER: the epoch is established; send UPTODATE as each
        /// learner is ready and start serving.
        case established(epoch: Int64)
        /// Give up leading (back to LOOKING), with the reason.
        case fail(String)
    }

    public enum Phase: Sendable, Equatable {
        case proposingEpoch, awaitingEpochAcks, awaitingNewLeaderAcks, established, failed
    }

    public let verifier: QuorumVerifier
    /// A newer configuration the leader has seen but not committed (a reconfig in flight when
    /// the last leader stopped): NEWLEADER needs a quorum of it too, as `Leader.lead` adds
    /// the last-seen verifier to its NEWLEADER proposal.
    public let nextVerifier: QuorumVerifier?
    public private(set) var leader: Leader
    public private(set) var phase: Phase = .proposingEpoch
    /// The epoch being proposed (decided once a quorum has connected).
    public private(set) var epoch: Int64
    private var connecting: Set<Int64> = []
    private var waitingForLeaderInfo: [Int64] = []
    private var acknowledgedEpoch: Set<Int64> = []
    private var acknowledgedNewLeader: Set<Int64> = []
    /// The voters that acknowledged NEWLEADER (the leader among them).
    public var newLeaderAcks: Set<Int64> { acknowledgedNewLeader }
    private var pendingSync: [(Int64, Int64)] = []

    public init(verifier: QuorumVerifier, nextVerifier: QuorumVerifier? = nil, leader: Leader) {
        self.verifier = verifier
        self.nextVerifier = nextVerifier.flatMap { $0.version > verifier.version ? $0 : nil }
        self.leader = leader
        self.epoch = leader.acceptedEpoch + 1
        connecting = [leader.myid]
    }

    /// The zxid NEWLEADER and its ACKs carry.
    public var newLeaderZxid: Int64 { epoch << 32 }

    /// Call once at the start: a leader that is alone a quorum (an ensemble of one) decides at once.
    public mutating func start() -> [Action] {
        var actions: [Action] = []
        decideEpochIfQuorum(into: &actions)
        return actions
    }

    public mutating func receive(_ event: Event) -> [Action] {
        var actions: [Action] = []
        switch event {
        case .learnerInfo(let sid, let accepted):
            guard phase != .failed else { break }
            if phase == .proposingEpoch {
                if accepted >= epoch { epoch = accepted + 1 }
                if verifier.voters.contains(sid) { connecting.insert(sid) }
                waitingForLeaderInfo.append(sid)
                decideEpochIfQuorum(into: &actions)
            } else {
                // The epoch is decided: later learners are told it as they come.
                actions.append(.sendLeaderInfo(to: sid, zxid: newLeaderZxid))
            }
        case .ackEpoch(let sid, let zxid, let theirEpoch):
            // ACKEPOCH answers LEADERINFO, which goes out only once the epoch is decided.
            guard phase != .failed, phase != .proposingEpoch else { break }
            // A learner whose history is newer than the leader's cannot follow it.
            if theirEpoch != -1 && (Int64(theirEpoch) > leader.currentEpoch
                                    || (Int64(theirEpoch) == leader.currentEpoch && zxid > leader.lastProcessedZxid)) {
                actions.append(.dropLearner(sid, reason: "it is ahead of the leader (epoch \(theirEpoch), zxid 0x\(String(zxid, radix: 16)))"))
                break
            }
            if phase == .awaitingEpochAcks {
                if zxid != -1 && verifier.voters.contains(sid) { acknowledgedEpoch.insert(sid) }
                pendingSync.append((sid, zxid))
                if verifier.isQuorum(acknowledgedEpoch) {
                    phase = .awaitingNewLeaderAcks
                    leader.currentEpoch = epoch
                    actions.append(.writeCurrentEpoch(epoch))
                    for (learner, peerZxid) in pendingSync { actions.append(.synchronize(sid: learner, peerLastZxid: peerZxid)) }
                    pendingSync.removeAll()
                }
            } else {
                actions.append(.synchronize(sid: sid, peerLastZxid: zxid))
            }
        case .newLeaderAck(let sid, let zxid):
            guard phase == .awaitingNewLeaderAcks || phase == .established else { break }
            // Only the ACK of NEWLEADER counts (3.8.0 followers may race proposal ACKs ahead of it).
            guard zxid == newLeaderZxid else { break }
            guard phase == .awaitingNewLeaderAcks else { break }
            if verifier.voters.contains(sid) || nextVerifier?.voters.contains(sid) == true { acknowledgedNewLeader.insert(sid) }
            if newLeaderQuorum {
                phase = .established
                actions.append(.established(epoch: epoch))
            }
        case .deadlinePassed:
            switch phase {
            case .proposingEpoch: actions.append(.fail("no quorum connected to propose epoch \(epoch) within initLimit"))
            case .awaitingEpochAcks: actions.append(.fail("no quorum acknowledged epoch \(epoch) within initLimit"))
            case .awaitingNewLeaderAcks: actions.append(.fail("no quorum acknowledged NEWLEADER within initLimit"))
            case .established, .failed: break
            }
            if !actions.isEmpty { phase = .failed }
        }
        return actions
    }

    /// Whether NEWLEADER is acknowledged by a quorum of the configuration and of the next one.
    private var newLeaderQuorum: Bool {
        verifier.isQuorum(acknowledgedNewLeader) && (nextVerifier?.isQuorum(acknowledgedNewLeader) ?? true)
    }

    private mutating func decideEpochIfQuorum(into actions: inout [Action]) {
        guard phase == .proposingEpoch, verifier.isQuorum(connecting) else { return }
        phase = .awaitingEpochAcks
        leader.acceptedEpoch = epoch
        actions.append(.writeAcceptedEpoch(epoch))
        for sid in waitingForLeaderInfo { actions.append(.sendLeaderInfo(to: sid, zxid: newLeaderZxid)) }
        waitingForLeaderInfo.removeAll()
        // The leader acknowledges its own epoch with its own state.
        acknowledgedEpoch.insert(leader.myid)
        acknowledgedNewLeader.insert(leader.myid)
        if verifier.isQuorum(acknowledgedEpoch) {
            phase = .awaitingNewLeaderAcks
            leader.currentEpoch = epoch
            actions.append(.writeCurrentEpoch(epoch))
            if newLeaderQuorum {
                phase = .established
                actions.append(.established(epoch: epoch))
            }
        }
    }
}
