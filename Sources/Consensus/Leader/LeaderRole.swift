import ZooKeeperProtocol

/// The leader's whole part in ZAB for one epoch (`Leader.lead` with its `LearnerHandler`s):
/// ``Discovery`` with a quorum, each learner synchronized by its ``SyncPlan``, then
/// ``Broadcast`` of new transactions. Pure: packets, durability and writes in; packets, log
/// writes and commits out.
public struct LeaderRole: Sendable {
    public enum Event: Sendable {
        case start
        case packet(from: Int64, QuorumPacket)
        /// The learner's connection is gone.
        case learnerLost(Int64)
        /// The leader's own log is durable up to `zxid`.
        case durable(upTo: Int64)
        /// A new transaction to replicate (the leader's server core prepared it).
        case write(Txn, type: OpCode, session: Int64, cxid: Int32, time: Int64)
        case deadlinePassed
        /// Half a tick passed (`Leader.lead`'s loop): ping every learner, and every second
        /// call advance the tick and check that a quorum is still heard.
        case halfTick
    }

    public enum Action: Sendable, Hashable {
        case send(to: Int64, QuorumPacket)
        /// Send SNAP (zxid) followed by the raw snapshot stream of the tree.
        case sendSnapshot(to: Int64, zxid: Int64)
        case writeAcceptedEpoch(Int64)
        case writeCurrentEpoch(Int64)
        /// Log a proposal on the leader's own disk (its ACK is ``Event/durable(upTo:)``).
        case log(Learner.Proposal)
        /// Apply a committed transaction to the leader's tree.
        case commit(Int64)
        /// The epoch is established: serve clients.
        case serving(epoch: Int64)
        /// A learner's PING reply carried these sessions' touches (id, timeout).
        case touchSessions([Int64: Int32])
        /// Stop leading (back to LOOKING), with the reason.
        case fail(String)
    }

    /// initLimit and syncLimit, in ticks.
    public struct Limits: Sendable {
        public var initLimit: Int64
        public var syncLimit: Int64
        public init(initLimit: Int64 = 10, syncLimit: Int64 = 5) { self.initLimit = initLimit; self.syncLimit = syncLimit }
    }

    private enum LearnerState: Sendable, Equatable {
        case handshaking, synchronizing, synced
    }

    public let verifier: QuorumVerifier
    public private(set) var discovery: Discovery
    public private(set) var broadcast: Broadcast
    /// Every committed proposal this leader can send in a DIFF, oldest first.
    public private(set) var committedLog: [Learner.Proposal]
    /// Proposals outstanding (proposed, not committed), oldest first.
    private var inFlight: [Learner.Proposal] = []
    private var learners: [Int64: LearnerState] = [:]
    private var lastZxid: Int64
    private var established = false
    public let limits: Limits
    /// The leader's tick, and each learner's deadline in ticks (`LearnerHandler.tickOfNextAckDeadline`).
    private var tick: Int64 = 0
    private var halfTicks = 0
    private var deadlines: [Int64: Int64] = [:]

    /// - Parameter committedLog: what the leader's tree holds, as proposals (its whole log, in
    ///   this model: a real leader keeps the last 500 and reads older ones from disk).
    public init(verifier: QuorumVerifier, leader: Discovery.Leader, committedLog: [Learner.Proposal], limits: Limits = Limits()) {
        self.verifier = verifier
        self.limits = limits
        self.discovery = Discovery(verifier: verifier, leader: leader)
        self.committedLog = committedLog
        self.lastZxid = leader.lastProcessedZxid
        self.broadcast = Broadcast(verifier: verifier, lastCommitted: leader.lastProcessedZxid)
    }

    public var epoch: Int64 { discovery.epoch }

    public mutating func receive(_ event: Event) -> [Action] {
        var actions: [Action] = []
        switch event {
        case .start:
            discoveryActions(discovery.start(), into: &actions)
        case .packet(let sid, let packet):
            handle(packet, from: sid, into: &actions)
        case .learnerLost(let sid):
            learners[sid] = nil
            deadlines[sid] = nil
        case .durable(let zxid):
            for proposal in inFlight where proposal.header.zxid <= zxid {
                acknowledge(proposal.header.zxid, from: discovery.leader.myid, into: &actions)
            }
        case .write(let txn, let type, let session, let cxid, let time):
            guard established else { actions.append(.fail("not serving yet")); break }
            let zxid = lastZxid + 1
            do throws(Broadcast.ProposalError) {
                try broadcast.propose(zxid)
            } catch {
                actions.append(.fail("cannot propose 0x\(String(zxid, radix: 16)): \(error)"))
                break
            }
            lastZxid = zxid
            let proposal = Learner.Proposal(header: TxnHeader(clientId: session, cxid: cxid, zxid: zxid, time: time, type: type.rawValue),
                                            txn: txn, digest: nil)
            inFlight.append(proposal)
            actions.append(.log(proposal))
            let packet = QuorumPacket(.proposal, zxid: zxid, data: proposal.bytes)
            for (sid, state) in learners.sorted(by: { $0.key < $1.key }) where state != .handshaking {
                actions.append(.send(to: sid, packet))
            }
        case .deadlinePassed:
            discoveryActions(discovery.receive(.deadlinePassed), into: &actions)
        case .halfTick:
            halfTick(into: &actions)
        }
        return actions
    }

    /// Pings, and once established, steps down when it and the learners it hears from within
    /// syncLimit are no longer a quorum of voters (`Leader.lead`'s `tickSkip` loop).
    private mutating func halfTick(into actions: inout [Action]) {
        for (sid, state) in learners.sorted(by: { $0.key < $1.key }) where state != .handshaking {
            actions.append(.send(to: sid, QuorumPacket(.ping, zxid: lastZxid)))
        }
        halfTicks += 1
        guard halfTicks % 2 == 0 else { return }
        tick += 1
        guard established else { return }
        var heard: Set<Int64> = [discovery.leader.myid]
        for (sid, state) in learners where state == .synced && tick <= (deadlines[sid] ?? 0) { heard.insert(sid) }
        if !verifier.isQuorum(heard) {
            actions.append(.fail("not hearing a quorum: synced voters \(heard.sorted()) of \(verifier.voters.sorted()) within syncLimit"))
        }
    }

    private mutating func handle(_ packet: QuorumPacket, from sid: Int64, into actions: inout [Action]) {
        // Any packet renews the learner's deadline: syncLimit ticks, or initLimit more at first.
        deadlines[sid] = tick + (learners[sid] == nil || learners[sid] == .handshaking ? limits.initLimit : 0) + limits.syncLimit
        switch packet.kind {
        case .followerInfo?, .observerInfo?:
            learners[sid] = .handshaking
            discoveryActions(discovery.receive(.learnerInfo(sid: sid, acceptedEpoch: packet.zxid >> 32)), into: &actions)
        case .ackEpoch?:
            let data = packet.data ?? []
            let theirs = data.count >= 4 ? Int32(bitPattern: UInt32(data[0]) << 24 | UInt32(data[1]) << 16 | UInt32(data[2]) << 8 | UInt32(data[3])) : -1
            discoveryActions(discovery.receive(.ackEpoch(sid: sid, lastLoggedZxid: packet.zxid, currentEpoch: theirs)), into: &actions)
        case .ack?:
            if learners[sid] == .synchronizing && packet.zxid == discovery.newLeaderZxid {
                learners[sid] = .synced
                let wasEstablished = established
                discoveryActions(discovery.receive(.newLeaderAck(sid: sid, zxid: packet.zxid)), into: &actions)
                // Learners synced after the epoch is established get UPTODATE at once.
                if wasEstablished { actions.append(.send(to: sid, QuorumPacket(.upToDate, zxid: -1))) }
            } else if packet.zxid & 0xFFFF_FFFF != 0 {
                acknowledge(packet.zxid, from: sid, into: &actions)
            }
        case .ping?:
            // The reply carries the learner's session touches: (long id, int timeout) pairs.
            var touches: [Int64: Int32] = [:]
            let data = packet.data ?? []
            var offset = 0
            while offset + 12 <= data.count {
                var id: Int64 = 0
                for byte in data[offset..<offset + 8] { id = id << 8 | Int64(byte) }
                var timeout: Int32 = 0
                for byte in data[offset + 8..<offset + 12] { timeout = timeout << 8 | Int32(byte) }
                touches[id] = timeout
                offset += 12
            }
            if !touches.isEmpty { actions.append(.touchSessions(touches)) }
        default:
            break
        }
    }

    private mutating func acknowledge(_ zxid: Int64, from sid: Int64, into actions: inout [Action]) {
        for committed in broadcast.acknowledge(zxid, from: sid) {
            guard let index = inFlight.firstIndex(where: { $0.header.zxid == committed }) else { continue }
            committedLog.append(inFlight.remove(at: index))
            actions.append(.commit(committed))
            for (learner, state) in learners.sorted(by: { $0.key < $1.key }) where state != .handshaking {
                actions.append(.send(to: learner, QuorumPacket(.commit, zxid: committed)))
            }
        }
    }

    private mutating func discoveryActions(_ steps: [Discovery.Action], into actions: inout [Action]) {
        for step in steps {
            switch step {
            case .writeAcceptedEpoch(let epoch): actions.append(.writeAcceptedEpoch(epoch))
            case .writeCurrentEpoch(let epoch): actions.append(.writeCurrentEpoch(epoch))
            case .sendLeaderInfo(let sid, let zxid): actions.append(.send(to: sid, QuorumPacket(.leaderInfo, zxid: zxid, data: [0, 1, 0, 0])))
            case .dropLearner(let sid, _): learners[sid] = nil
            case .synchronize(let sid, let peer): synchronize(sid, peerLastZxid: peer, into: &actions)
            case .established(let epoch):
                established = true
                lastZxid = max(lastZxid, epoch << 32)
                actions.append(.serving(epoch: epoch))
                for (sid, state) in learners.sorted(by: { $0.key < $1.key }) where state == .synced {
                    actions.append(.send(to: sid, QuorumPacket(.upToDate, zxid: -1)))
                }
            case .fail(let reason): actions.append(.fail(reason))
            }
        }
    }

    /// The sync packets, the committed proposals after them, what is in flight, then NEWLEADER.
    private mutating func synchronize(_ sid: Int64, peerLastZxid: Int64, into actions: inout [Action]) {
        let zxids = committedLog.map(\.header.zxid)
        let plan = SyncPlan.decide(peerLastZxid: peerLastZxid, committedLog: zxids, lastProcessedZxid: broadcast.lastCommitted)
        switch plan.kind {
        case .diff(let zxid): actions.append(.send(to: sid, QuorumPacket(.diff, zxid: zxid)))
        case .trunc(let zxid): actions.append(.send(to: sid, QuorumPacket(.trunc, zxid: zxid)))
        case .snap(let zxid): actions.append(.sendSnapshot(to: sid, zxid: zxid))
        }
        for zxid in plan.proposals {
            guard let proposal = committedLog.first(where: { $0.header.zxid == zxid }) else { continue }
            actions.append(.send(to: sid, QuorumPacket(.proposal, zxid: zxid, data: proposal.bytes)))
            actions.append(.send(to: sid, QuorumPacket(.commit, zxid: zxid)))
        }
        // startForwarding: what is proposed and not yet committed follows, then NEWLEADER.
        for proposal in inFlight where proposal.header.zxid > plan.lastQueued {
            actions.append(.send(to: sid, QuorumPacket(.proposal, zxid: proposal.header.zxid, data: proposal.bytes)))
        }
        learners[sid] = .synchronizing
        actions.append(.send(to: sid, QuorumPacket(.newLeader, zxid: discovery.newLeaderZxid, data: Array("version=0".utf8))))
    }
}
