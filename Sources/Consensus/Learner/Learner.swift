import NIOCore
import ZooKeeperProtocol

/// A follower or observer's side of ZAB with its leader (`Learner.registerWithLeader`,
/// `syncWithLeader`, `Follower.processPacket`) as a pure state machine: discovery (the epoch
/// handshake), synchronization (DIFF, TRUNC or SNAP, then NEWLEADER and UPTODATE) and
/// broadcast (PROPOSAL logged then ACKed, COMMIT applied in order, PING answered).
///
/// Durability follows ZooKeeper 3.8.5's order (ZOOKEEPER-4785), not 3.8.0's: at NEWLEADER the
/// proposals received so far are logged, and only once they are durable is `currentEpoch`
/// written and NEWLEADER acknowledged; their own ACKs follow.
public struct Learner: Sendable {
    public struct Configuration: Sendable {
        public var myid: Int64
        public var isObserver: Bool
        /// The committed configuration's version, sent in LearnerInfo.
        public var configVersion: Int64
        public init(myid: Int64, isObserver: Bool = false, configVersion: Int64 = 0) {
            self.myid = myid; self.isObserver = isObserver; self.configVersion = configVersion
        }
    }

    /// What this server holds when it connects to the leader.
    public struct Disk: Sendable, Equatable {
        public var acceptedEpoch: Int64
        public var currentEpoch: Int64
        public var lastLoggedZxid: Int64
        public init(acceptedEpoch: Int64, currentEpoch: Int64, lastLoggedZxid: Int64) {
            self.acceptedEpoch = acceptedEpoch; self.currentEpoch = currentEpoch; self.lastLoggedZxid = lastLoggedZxid
        }
    }

    /// A transaction from a PROPOSAL (or INFORM), with the digest the leader sent, if any.
    public typealias Proposal = TxnRecord

    public enum Event: Sendable {
        /// The connection to the leader is up.
        case connected
        case packet(QuorumPacket)
        /// The snapshot that followed SNAP has been read and loaded (or could not be).
        case snapshotLoaded
        /// Every transaction up to `zxid` handed over with ``Action/log(_:)`` is durable.
        case durable(upTo: Int64)
    }

    public enum Action: Sendable, Hashable {
        case send(QuorumPacket)
        /// Write the `acceptedEpoch` (before the ACKEPOCH that follows) or `currentEpoch` file.
        case writeAcceptedEpoch(Int64)
        case writeCurrentEpoch(Int64)
        /// SNAP: read the raw snapshot stream that follows on the connection, replace the tree
        /// with it (at zxid), and report ``Event/snapshotLoaded``.
        case loadSnapshot(zxid: Int64)
        /// TRUNC: cut the log back to `zxid` and reload the tree from disk.
        case truncate(to: Int64)
        /// Apply a committed transaction to the tree without logging it (before NEWLEADER after
        /// a SNAP or TRUNC, as ZooKeeper's learner does).
        case applyUnlogged(Proposal)
        /// Log a transaction durably; report back with ``Event/durable(upTo:)``.
        case log(Proposal)
        /// Apply the logged transaction `zxid` (it is committed).
        case commit(Int64)
        case takeSnapshot
        /// Answer the leader's PING with this server's session touches as the data.
        case answerPing(zxid: Int64)
        /// Synchronized: serve clients in `epoch`, and vote with it (`updateElectionVote`).
        case serving(epoch: Int64)
        /// A reconfig proposal arrived: `config` (`QuorumVerifier.toString`) is the last-seen
        /// configuration (`setLastSeenQuorumVerifier`), not yet in force.
        case sawConfiguration([UInt8])
        /// Put `config` in force (`QuorumPeer.processReconfig`): after a COMMITANDACTIVATE or
        /// INFORMANDACTIVATE of the reconfig at `zxid`, naming the leader of the new
        /// configuration, or at UPTODATE for the configuration NEWLEADER carried (no
        /// designated leader, no zxid). The shell decides whether the change ends this
        /// leadership (a new leader, or this server's role changed).
        case activate(config: [UInt8], designatedLeader: Int64?, zxid: Int64?)
        /// The leader hands its leadership to server `to` (Aviary's TRANSFERLEADERSHIP):
        /// leave it and follow that server, or lead when it is this one, without an election.
        case handOver(to: Int64)
        /// Give up on this leader (close the connection, elect again), with the reason.
        case fail(String)
    }

    public enum Phase: Sendable, Equatable {
        case idle, discovery, awaitingSync, loadingSnapshot, synchronizing, awaitingNewLeaderDurability, broadcast, failed
    }

    public let configuration: Configuration
    public private(set) var disk: Disk
    public private(set) var phase: Phase = .idle
    /// The new epoch's first zxid (`newEpoch << 32`), from LEADERINFO.
    public private(set) var newLeaderZxid: Int64 = -1
    /// Proposals received before NEWLEADER, not yet committed (ZooKeeper's packetsNotCommitted).
    private var notCommitted: [Proposal] = []
    /// Commits recorded after NEWLEADER, applied once their proposals are logged.
    private var committedWhileSyncing: [Int64] = []
    /// Whether COMMITs before NEWLEADER apply straight to the tree (after SNAP or TRUNC).
    private var applyBeforeNewLeader = false
    private var snapshotNeeded = false
    /// Logged and waiting to be durable (their ACKs), and logged and waiting for COMMIT.
    private var awaitingDurable: [Int64] = []
    private var awaitingCommit: [Int64] = []
    private var lastDurable: Int64 = -1
    /// Whether NEWLEADER has arrived, and the zxid whose durability releases its ACK.
    private var sawNewLeader = false
    private var newLeaderBarrier: Int64 = Int64.min
    /// The configuration NEWLEADER carried, put in force at UPTODATE.
    private var newLeaderConfig: [UInt8]?
    /// The configuration each reconfig proposal not yet committed carries, by zxid.
    private var reconfigs: [Int64: [UInt8]] = [:]
    /// COMMITANDACTIVATEs received while synchronizing, applied with their commit: the
    /// designated leader of each, by zxid.
    private var activations: [Int64: Int64] = [:]

    public init(configuration: Configuration, disk: Disk) {
        self.configuration = configuration
        self.disk = disk
    }

    public var newEpoch: Int64 { newLeaderZxid >> 32 }

    public mutating func receive(_ event: Event) -> [Action] {
        var actions: [Action] = []
        switch event {
        case .connected:
            guard phase == .idle else { break }
            phase = .discovery
            let info = LearnerInfo(serverId: configuration.myid, configVersion: configuration.configVersion)
            actions.append(.send(QuorumPacket(configuration.isObserver ? .observerInfo : .followerInfo,
                                              zxid: disk.acceptedEpoch << 32, data: info.bytes)))
        case .packet(let packet):
            handle(packet, into: &actions)
        case .snapshotLoaded:
            guard phase == .loadingSnapshot else { break }
            phase = .synchronizing
        case .durable(let zxid):
            durable(upTo: zxid, into: &actions)
        }
        if case .fail = actions.last { phase = .failed }
        return actions
    }

    // MARK: Discovery

    private mutating func handle(_ packet: QuorumPacket, into actions: inout [Action]) {
        guard let kind = packet.kind else { return actions.append(.fail("unknown packet type \(packet.type) from the leader")) }
        switch phase {
        case .idle, .failed:
            return
        case .discovery:
            discovery(kind, packet, into: &actions)
        case .awaitingSync:
            startSync(kind, packet, into: &actions)
        case .loadingSnapshot:
            actions.append(.fail("\(kind) from the leader while the snapshot is read"))
        case .synchronizing, .awaitingNewLeaderDurability:
            synchronizing(kind, packet, into: &actions)
        case .broadcast:
            broadcast(kind, packet, into: &actions)
        }
    }

    private mutating func discovery(_ kind: QuorumPacket.Kind, _ packet: QuorumPacket, into actions: inout [Action]) {
        let epoch = packet.zxid >> 32
        guard kind == .leaderInfo else {
            // A leader older than ZAB 1.0 sends NEWLEADER straight away; 3.8 servers never do.
            return actions.append(.fail("expected LEADERINFO, got \(kind)"))
        }
        var acknowledged: Int32
        if epoch > disk.acceptedEpoch {
            acknowledged = Int32(truncatingIfNeeded: disk.currentEpoch)
            disk.acceptedEpoch = epoch
            actions.append(.writeAcceptedEpoch(epoch))
        } else if epoch == disk.acceptedEpoch {
            // Already acknowledged this epoch: the -1 does not count as an ack, but the leader
            // still learns our last zxid to sync us.
            acknowledged = -1
        } else {
            return actions.append(.fail("the leader's epoch \(epoch) is older than our accepted epoch \(disk.acceptedEpoch)"))
        }
        newLeaderZxid = epoch << 32
        var data: [UInt8] = []
        withUnsafeBytes(of: acknowledged.bigEndian) { data.append(contentsOf: $0) }
        actions.append(.send(QuorumPacket(.ackEpoch, zxid: disk.lastLoggedZxid, data: data)))
        phase = .awaitingSync
    }

    // MARK: Synchronization

    private mutating func startSync(_ kind: QuorumPacket.Kind, _ packet: QuorumPacket, into actions: inout [Action]) {
        switch kind {
        case .diff:
            snapshotNeeded = false
            applyBeforeNewLeader = false
            phase = .synchronizing
        case .snap:
            snapshotNeeded = true
            applyBeforeNewLeader = true
            phase = .loadingSnapshot
            actions.append(.loadSnapshot(zxid: packet.zxid))
        case .trunc:
            snapshotNeeded = true
            applyBeforeNewLeader = true
            phase = .synchronizing
            actions.append(.truncate(to: packet.zxid))
        default:
            actions.append(.fail("expected DIFF, TRUNC or SNAP, got \(kind)"))
        }
    }

    private static func proposal(from data: [UInt8]?) -> Proposal? {
        try? TxnRecord(decoding: ByteBuffer(bytes: data ?? []))
    }

    /// An INFORM's proposal, or an INFORMANDACTIVATE's designated leader and proposal.
    private static func informed(_ kind: QuorumPacket.Kind, _ data: [UInt8]?) -> (Proposal, Int64?)? {
        guard kind == .informAndActivate else { return proposal(from: data).map { ($0, nil) } }
        guard let data, let designated = designatedLeader(data), let proposal = proposal(from: Array(data.dropFirst(8))) else { return nil }
        return (proposal, designated)
    }

    /// Remembers the configuration a reconfig proposal carries (the last seen one).
    private mutating func noteReconfig(_ proposal: Proposal, into actions: inout [Action]) {
        guard proposal.header.type == OpCode.reconfig.rawValue, case .setData(_, let data, _) = proposal.txn, let data else { return }
        reconfigs[proposal.header.zxid] = data
        actions.append(.sawConfiguration(data))
    }

    /// The designated leader a COMMITANDACTIVATE's or INFORMANDACTIVATE's data starts with.
    private static func designatedLeader(_ data: [UInt8]?) -> Int64? {
        guard let data, data.count >= 8 else { return nil }
        return data.prefix(8).reduce(Int64(0)) { $0 << 8 | Int64($1) }
    }

    /// Puts the configuration of the reconfig committed at `zxid` in force.
    private mutating func activate(_ zxid: Int64, designatedLeader: Int64, into actions: inout [Action]) {
        guard let config = reconfigs.removeValue(forKey: zxid) else {
            return actions.append(.fail("COMMITANDACTIVATE 0x\(String(zxid, radix: 16)) is not for a reconfig proposal"))
        }
        actions.append(.activate(config: config, designatedLeader: designatedLeader, zxid: zxid))
    }

    private mutating func synchronizing(_ kind: QuorumPacket.Kind, _ packet: QuorumPacket, into actions: inout [Action]) {
        let afterNewLeader = sawNewLeader
        switch kind {
        case .proposal:
            guard let proposal = Self.proposal(from: packet.data) else { return actions.append(.fail("undecodable PROPOSAL \(packet.zxid)")) }
            noteReconfig(proposal, into: &actions)
            notCommitted.append(proposal)
        case .commit, .commitAndActivate:
            let designated = kind == .commitAndActivate ? Self.designatedLeader(packet.data) : nil
            if kind == .commitAndActivate && designated == nil {
                return actions.append(.fail("COMMITANDACTIVATE 0x\(String(packet.zxid, radix: 16)) without a designated leader"))
            }
            if let designated { activations[packet.zxid] = designated }
            if afterNewLeader {
                // The proposals are logged already; the commit is applied after UPTODATE, in
                // order. (3.8.0's learner peeks at the queue it emptied at NEWLEADER and throws a
                // NullPointerException; a leader does forward commits between NEWLEADER and
                // UPTODATE, as the ZAB simulation showed.)
                committedWhileSyncing.append(packet.zxid)
                break
            }
            guard let head = notCommitted.first else {
                return actions.append(.fail("COMMIT 0x\(String(packet.zxid, radix: 16)) with no proposal pending"))
            }
            if applyBeforeNewLeader {
                if head.header.zxid == packet.zxid {
                    notCommitted.removeFirst()
                    actions.append(.applyUnlogged(head))
                    if let designated = activations.removeValue(forKey: head.header.zxid) {
                        activate(head.header.zxid, designatedLeader: designated, into: &actions)
                    } else {
                        reconfigs[head.header.zxid] = nil
                    }
                } else {
                    // A COMMIT that is not for the head applies nothing (as ZooKeeper's learner);
                    // its activation is not kept either, so a leader cannot grow the table.
                    activations[packet.zxid] = nil
                }
            } else {
                committedWhileSyncing.append(packet.zxid)
            }
        case .newLeader:
            guard !afterNewLeader else { return actions.append(.fail("a second NEWLEADER")) }
            // The leader's last-seen configuration, in force at UPTODATE.
            if let data = packet.data, data.count > 1 { newLeaderConfig = data }
            if snapshotNeeded { actions.append(.takeSnapshot) }
            // 3.8.5 order: the proposals so far become durable, then currentEpoch, then the ACK.
            for proposal in notCommitted { log(proposal, into: &actions) }
            notCommitted.removeAll()
            newLeaderBarrier = awaitingDurable.last ?? Int64.min
            sawNewLeader = true
            phase = .awaitingNewLeaderDurability
            releaseNewLeader(into: &actions)
        case .upToDate:
            guard afterNewLeader else { return actions.append(.fail("UPTODATE before NEWLEADER")) }
            guard phase == .synchronizing else { return actions.append(.fail("UPTODATE before NEWLEADER was acknowledged")) }
            actions.append(.send(QuorumPacket(.ack, zxid: newLeaderZxid)))
            disk.currentEpoch = newEpoch
            if let config = newLeaderConfig { actions.append(.activate(config: config, designatedLeader: nil, zxid: nil)) }
            actions.append(.serving(epoch: newEpoch))
            for proposal in notCommitted { log(proposal, into: &actions) }
            notCommitted.removeAll()
            phase = .broadcast
            for zxid in committedWhileSyncing { commit(zxid, into: &actions) }
            committedWhileSyncing.removeAll()
            acknowledgeDurable(into: &actions)
        case .ping:
            actions.append(.answerPing(zxid: packet.zxid))
        case .inform, .informAndActivate:
            guard let (proposal, designated) = Self.informed(kind, packet.data) else { return actions.append(.fail("undecodable \(kind)")) }
            noteReconfig(proposal, into: &actions)
            if let designated { activations[proposal.header.zxid] = designated }
            notCommitted.append(proposal)
            committedWhileSyncing.append(proposal.header.zxid)
        default:
            actions.append(.fail("unexpected \(kind) while synchronizing"))
        }
    }

    /// Writes currentEpoch and acknowledges NEWLEADER once what was logged before it is durable.
    private mutating func releaseNewLeader(into actions: inout [Action]) {
        guard phase == .awaitingNewLeaderDurability, newLeaderBarrier == Int64.min || lastDurable >= newLeaderBarrier else { return }
        actions.append(.writeCurrentEpoch(newEpoch))
        disk.currentEpoch = newEpoch
        actions.append(.send(QuorumPacket(.ack, zxid: newLeaderZxid)))
        phase = .synchronizing
        acknowledgeDurable(into: &actions)
    }

    // MARK: Broadcast

    private mutating func log(_ proposal: Proposal, into actions: inout [Action]) {
        actions.append(.log(proposal))
        awaitingDurable.append(proposal.header.zxid)
        awaitingCommit.append(proposal.header.zxid)
    }

    private mutating func commit(_ zxid: Int64, into actions: inout [Action]) {
        // The COMMIT must be for the oldest logged proposal; a Java follower exits otherwise.
        guard awaitingCommit.first == zxid else {
            return actions.append(.fail("COMMIT 0x\(String(zxid, radix: 16)) is not the next pending proposal (0x\(String(awaitingCommit.first ?? -1, radix: 16)))"))
        }
        awaitingCommit.removeFirst()
        actions.append(.commit(zxid))
        if let designated = activations.removeValue(forKey: zxid) {
            activate(zxid, designatedLeader: designated, into: &actions)
        } else {
            reconfigs[zxid] = nil  // a reconfig committed without activation (a plain COMMIT)
        }
    }

    private mutating func durable(upTo zxid: Int64, into actions: inout [Action]) {
        lastDurable = max(lastDurable, zxid)
        releaseNewLeader(into: &actions)
        if phase == .synchronizing || phase == .broadcast { acknowledgeDurable(into: &actions) }
    }

    /// One ACK per durable proposal, in order (observers send none).
    private mutating func acknowledgeDurable(into actions: inout [Action]) {
        while let first = awaitingDurable.first, first <= lastDurable {
            awaitingDurable.removeFirst()
            if !configuration.isObserver { actions.append(.send(QuorumPacket(.ack, zxid: first))) }
        }
    }

    private mutating func broadcast(_ kind: QuorumPacket.Kind, _ packet: QuorumPacket, into actions: inout [Action]) {
        switch kind {
        case .proposal:
            guard let proposal = Self.proposal(from: packet.data) else { return actions.append(.fail("undecodable PROPOSAL \(packet.zxid)")) }
            noteReconfig(proposal, into: &actions)
            log(proposal, into: &actions)
        case .commit:
            commit(packet.zxid, into: &actions)
        case .commitAndActivate:
            guard let designated = Self.designatedLeader(packet.data) else {
                return actions.append(.fail("COMMITANDACTIVATE 0x\(String(packet.zxid, radix: 16)) without a designated leader"))
            }
            activations[packet.zxid] = designated
            commit(packet.zxid, into: &actions)
        case .inform, .informAndActivate:
            guard let (proposal, designated) = Self.informed(kind, packet.data) else { return actions.append(.fail("undecodable \(kind)")) }
            noteReconfig(proposal, into: &actions)
            if let designated { activations[proposal.header.zxid] = designated }
            log(proposal, into: &actions)
            commit(proposal.header.zxid, into: &actions)
        case .ping:
            actions.append(.answerPing(zxid: packet.zxid))
        case .transferLeadership:
            guard let target = Self.designatedLeader(packet.data) else {
                return actions.append(.fail("TRANSFERLEADERSHIP without the next leader's id"))
            }
            actions.append(.handOver(to: target))
        case .sync, .revalidate:
            break  // answered through the server core once client forwarding exists
        default:
            actions.append(.fail("unexpected \(kind) from the leader"))
        }
    }
}
