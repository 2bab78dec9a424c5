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
        /// A new transaction to replicate, prepared by the leader's server core at
        /// ``nextZxid``; for a reconfig, the configuration it proposes.
        case propose(TxnHeader, Txn, reconfiguring: QuorumVerifier? = nil)
        case deadlinePassed
        /// Half a tick passed (`Leader.lead`'s loop): ping every learner, and every second
        /// call advance the tick and check that a quorum is still heard.
        case halfTick
        /// The answer to ``Action/readTxnLog(for:after:upTo:)``, with the zxid it was read
        /// after: the logged proposals from the learner's last zxid on, or nil when the log does
        /// not reach back, has a gap, or a SNAP is cheaper. An answer to a learner's earlier
        /// connection is ignored.
        case txnLogRead(for: Int64, after: Int64, [Learner.Proposal]?)
        /// Hand leadership to voter `to` (Aviary's `aviary leader transfer`): once it has
        /// acknowledged everything committed, the learners are told to follow it. The shell
        /// proposes nothing meanwhile.
        case transfer(to: Int64)
        /// Give a transfer up (it took too long): this server leads on.
        case cancelTransfer
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
        /// Put `config` (`QuorumVerifier.toString`) in force on this server
        /// (`QuorumPeer.processReconfig`): the reconfig committed at `zxid`, or at the start of
        /// the epoch (zxid `epoch << 32`) the configuration NEWLEADER carried. The new
        /// configuration's leader is `designatedLeader`; when that is another server, this one
        /// commits nothing more and is about to stop leading.
        case activate(config: [UInt8], designatedLeader: Int64, zxid: Int64)
        /// The epoch is established: serve clients.
        case serving(epoch: Int64)
        /// A learner's PING reply carried these sessions' touches (id, timeout).
        case touchSessions([Int64: Int32])
        /// A learner forwarded a client's write, createSession or closeSession: the leader's
        /// server core prepares it (its answer goes back to the learner as the commit).
        case request(from: Int64, LearnerRequest)
        /// A learner asks whether a session a client re-attaches with is live; answer with
        /// ``Revalidation/answer(sessionId:valid:)``.
        case revalidate(from: Int64, session: Int64, timeout: Int32)
        /// End this learner's connection, with the reason; it will look for a leader again.
        case closeLearner(Int64, reason: String)
        /// Read the leader's own transaction log for learner `sid`, further behind than the
        /// committed log reaches (`getProposalsFromTxnLog`); answer with ``Event/txnLogRead(for:after:_:)``.
        case readTxnLog(for: Int64, after: Int64, upTo: Int64)
        /// The learners were told to follow `to` (TRANSFERLEADERSHIP); this server commits
        /// nothing more and stops leading.
        case transferred(to: Int64)
        /// A transfer cannot start, with the reason.
        case transferRefused(String)
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

    /// How many committed proposals are kept for DIFFs by default (`zookeeper.commitLogCount`).
    public static let commitLogCount = 500

    /// The configuration in force, and one proposed and not yet committed.
    public private(set) var verifier: QuorumVerifier
    public private(set) var pendingVerifier: QuorumVerifier?
    public private(set) var discovery: Discovery
    public private(set) var broadcast: Broadcast
    /// Every committed proposal this leader can send in a DIFF, oldest first.
    public private(set) var committedLog: [Learner.Proposal]
    /// Proposals outstanding (proposed, not committed), oldest first.
    private var inFlight: [Learner.Proposal] = []
    private var learners: [Int64: LearnerState] = [:]
    /// Learners that sent OBSERVERINFO: they get INFORM on commit, never PROPOSAL or COMMIT.
    private var observers: Set<Int64> = []
    /// Learners' SYNC requests waiting for the commit of the zxid proposed last when they came
    /// (`Leader.pendingSyncs`).
    private var pendingSyncs: [(zxid: Int64, sid: Int64)] = []
    /// The configuration NEWLEADER carries (`QuorumVerifier.toString`), the last seen.
    private var configText: [UInt8]
    /// Whether this leader still commits: not after a reconfiguration that named another
    /// leader (`Leader.allowedToCommit`), nor after a transfer.
    public private(set) var allowedToCommit = true
    /// The voter leadership is being handed to.
    public private(set) var transferTarget: Int64?
    /// The newest zxid each learner is known to hold durably: its ACKs, and where its
    /// synchronization brought it (`syncPoints`, counted once it acknowledged NEWLEADER).
    private var lastAcked: [Int64: Int64] = [:]
    private var syncPoints: [Int64: Int64] = [:]
    private var lastZxid: Int64
    private var established = false
    public let limits: Limits
    /// The leader's tick, and each learner's deadline in ticks (`LearnerHandler.tickOfNextAckDeadline`).
    private var tick: Int64 = 0
    private var halfTicks = 0
    private var deadlines: [Int64: Int64] = [:]
    /// Each synchronized follower's oldest unacknowledged proposal.
    private var syncLimitChecks: [Int64: SyncLimitCheck] = [:]

    /// How many committed proposals ``committedLog`` keeps.
    public let commitLogCount: Int
    /// Whether a learner behind the committed log is synchronized from the transaction log.
    private let readsTxnLog: Bool
    /// Learners waiting for the transaction log to be read, with their last zxid.
    private var awaitingTxnLog: [Int64: Int64] = [:]

    /// - Parameters:
    ///   - committedLog: the newest committed proposals, oldest first.
    ///   - commitLogCount: how many of them are kept as more commit (ZooKeeper keeps 500).
    ///   - readsTxnLog: whether older ones are asked for (``Action/readTxnLog(for:after:upTo:)``)
    ///     for a DIFF; otherwise a learner behind the committed log gets a SNAP.
    ///   - configText: the last-seen configuration NEWLEADER carries (`QuorumVerifier.toString`);
    ///     with `lastSeenVerifier` newer than `verifier` (a reconfig not known to be committed),
    ///     NEWLEADER needs a quorum of both, and the configuration is put in force once the
    ///     epoch is established.
    ///   - reconfigEnabled: whether the configuration NEWLEADER carries is put in force at the
    ///     start of the epoch (`Leader.startZkServer`), and a configuration still at version 0
    ///     gets the new epoch's first zxid as its version (`Leader.lead`, ZOOKEEPER-1783), so
    ///     that the version names an agreed configuration.
    public init(verifier: QuorumVerifier, lastSeenVerifier: QuorumVerifier? = nil, leader: Discovery.Leader,
                committedLog: [Learner.Proposal], limits: Limits = Limits(), configText: String = "version=0",
                reconfigEnabled: Bool = false, commitLogCount: Int = LeaderRole.commitLogCount, readsTxnLog: Bool = false) {
        self.readsTxnLog = readsTxnLog
        self.commitLogCount = max(1, commitLogCount)
        self.verifier = verifier
        self.pendingVerifier = lastSeenVerifier.flatMap { $0.version > verifier.version ? $0 : nil }
        self.configText = Array(configText.utf8)
        self.reconfigEnabled = reconfigEnabled
        self.bumpsVersion = reconfigEnabled && verifier.version == 0 && (lastSeenVerifier?.version ?? 0) == 0
        self.limits = limits
        self.discovery = Discovery(verifier: verifier, nextVerifier: lastSeenVerifier, leader: leader)
        self.committedLog = Array(committedLog.suffix(self.commitLogCount))
        self.lastZxid = leader.lastProcessedZxid
        self.broadcast = Broadcast(verifier: verifier, lastCommitted: leader.lastProcessedZxid)
    }

    public var epoch: Int64 { discovery.epoch }

    private let reconfigEnabled: Bool
    /// Whether the version-0 configuration still has to take the epoch's first zxid as version.
    private var bumpsVersion: Bool

    /// With `reconfigEnabled`, a configuration at version 0 becomes the last seen at version
    /// `epoch << 32` once the epoch is decided, before any NEWLEADER carries it.
    private mutating func versionConfiguration() {
        guard bumpsVersion, discovery.phase != .proposingEpoch else { return }
        bumpsVersion = false
        let version = discovery.newLeaderZxid
        var lines = String(decoding: configText, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        if let last = lines.last, last.hasPrefix("version=") { lines.removeLast() }
        configText = Array((lines.map(String.init) + ["version=\(String(UInt64(bitPattern: version), radix: 16))"]).joined(separator: "\n").utf8)
        var next = verifier
        next.version = version
        pendingVerifier = next
    }

    /// Whether this leader and the followers synchronized with it hold a quorum of
    /// `candidate`'s voters (`Leader.isQuorumSynced`: a reconfig is refused otherwise).
    public func isQuorumSynced(_ candidate: QuorumVerifier) -> Bool {
        var ids: Set<Int64> = [discovery.leader.myid]
        for (sid, state) in learners where state == .synced && !observers.contains(sid) && tick <= (deadlines[sid] ?? 0) {
            ids.insert(sid)
        }
        return candidate.isQuorum(ids)
    }

    /// Whether a reconfiguration is proposed and not yet committed.
    public var isReconfiguring: Bool { pendingVerifier != nil }

    /// The zxid the next proposal must have.
    public var nextZxid: Int64 { lastZxid + 1 }

    /// Whether the epoch is established (the leader serves clients).
    public var isEstablished: Bool { established }

    /// Learners connected, and those synchronized.
    public var learnerCount: Int { learners.count }
    public var syncedFollowers: Int { learners.filter { $0.value == .synced && !observers.contains($0.key) }.count }
    public var syncedObservers: Int { learners.filter { $0.value == .synced && observers.contains($0.key) }.count }
    /// Whether learner `sid` acknowledged NEWLEADER (it is synchronized).
    public func isSynced(_ sid: Int64) -> Bool { learners[sid] == .synced }
    /// Learners' SYNCs waiting for a commit.
    public var pendingSyncCount: Int { pendingSyncs.count }

    public mutating func receive(_ event: Event) -> [Action] {
        var actions: [Action] = []
        switch event {
        case .start:
            discoveryActions(discovery.start(), into: &actions)
        case .packet(let sid, let packet):
            handle(packet, from: sid, into: &actions)
        case .learnerLost(let sid):
            forget(sid)
        case .txnLogRead(let sid, let after, let proposals):
            guard awaitingTxnLog[sid] == after, learners[sid] == .handshaking, let peerLastZxid = awaitingTxnLog.removeValue(forKey: sid) else { break }
            synchronize(sid, peerLastZxid: peerLastZxid, fromLog: proposals, logRead: true, into: &actions)
        case .durable(let zxid):
            guard allowedToCommit else { break }
            for proposal in inFlight where proposal.header.zxid <= zxid {
                acknowledge(proposal.header.zxid, from: discovery.leader.myid, into: &actions)
            }
            completeTransfer(into: &actions)
        case .propose(let header, let txn, let next):
            guard established else { actions.append(.fail("not serving yet")); break }
            guard allowedToCommit else { actions.append(.fail("a reconfiguration handed leadership to another server")); break }
            let zxid = header.zxid
            guard zxid == lastZxid + 1 else {
                actions.append(.fail("proposal 0x\(String(zxid, radix: 16)) does not follow 0x\(String(lastZxid, radix: 16))"))
                break
            }
            do throws(Broadcast.ProposalError) {
                try broadcast.propose(zxid, reconfiguring: next)
            } catch {
                actions.append(.fail("cannot propose 0x\(String(zxid, radix: 16)): \(error)"))
                break
            }
            lastZxid = zxid
            if let next {
                // The last-seen configuration: NEWLEADER carries it to learners from now on.
                pendingVerifier = next
                if case .setData(_, let data, _) = txn, let data { configText = data }
            }
            let proposal = Learner.Proposal(header: header, txn: txn, digest: nil)
            inFlight.append(proposal)
            actions.append(.log(proposal))
            let packet = QuorumPacket(.proposal, zxid: zxid, data: proposal.bytes)
            for (sid, state) in learners.sorted(by: { $0.key < $1.key }) where state != .handshaking && !observers.contains(sid) {
                actions.append(.send(to: sid, packet))
                if state == .synced { syncLimitChecks[sid, default: SyncLimitCheck()].proposed(zxid, at: halfTicks) }
            }
        case .deadlinePassed:
            discoveryActions(discovery.receive(.deadlinePassed), into: &actions)
        case .halfTick:
            halfTick(into: &actions)
        case .transfer(let target):
            if let refusal = transferRefusal(target) { actions.append(.transferRefused(refusal)); break }
            transferTarget = target
            completeTransfer(into: &actions)
        case .cancelTransfer:
            transferTarget = nil
        }
        return actions
    }

    /// Why leadership cannot go to `target` now, or nil.
    private func transferRefusal(_ target: Int64) -> String? {
        if !established { return "this server is not serving as leader yet" }
        if target == discovery.leader.myid { return "server.\(target) leads already" }
        if transferTarget != nil { return "a transfer to server.\(transferTarget ?? 0) is under way" }
        if !allowedToCommit { return "this server is handing over already" }
        if pendingVerifier != nil { return "a reconfiguration is in progress" }
        if !verifier.voters.contains(target) { return "server.\(target) is not a voter of the configuration" }
        if learners[target] != .synced || observers.contains(target) { return "server.\(target) is not a follower synchronized with this leader" }
        return nil
    }

    /// Tells the learners to follow the transfer's target once it holds everything committed
    /// and nothing is outstanding.
    private mutating func completeTransfer(into actions: inout [Action]) {
        guard let target = transferTarget, broadcast.outstanding.isEmpty, learners[target] == .synced,
              (lastAcked[target] ?? Int64.min) >= broadcast.lastCommitted else { return }
        transferTarget = nil
        allowedToCommit = false
        let packet = QuorumPacket(.transferLeadership, zxid: broadcast.lastCommitted, data: Self.bytes(target))
        for (sid, state) in learners.sorted(by: { $0.key < $1.key }) where state != .handshaking {
            actions.append(.send(to: sid, packet))
        }
        actions.append(.transferred(to: target))
    }

    private mutating func forget(_ sid: Int64) {
        learners[sid] = nil
        lastAcked[sid] = nil
        syncPoints[sid] = nil
        deadlines[sid] = nil
        syncLimitChecks[sid] = nil
        awaitingTxnLog[sid] = nil
        observers.remove(sid)
        pendingSyncs.removeAll { $0.sid == sid }
    }

    /// Pings, and once established, steps down when it and the learners it hears from within
    /// syncLimit are no longer a quorum of voters (`Leader.lead`'s `tickSkip` loop).
    private mutating func halfTick(into actions: inout [Action]) {
        halfTicks += 1
        for (sid, state) in learners.sorted(by: { $0.key < $1.key }) where state != .handshaking {
            if let check = syncLimitChecks[sid], !check.isWithinLimit(at: halfTicks, limit: Int(limits.syncLimit) * 2) {
                forget(sid)
                actions.append(.closeLearner(sid, reason: "Closing connection to peer due to transaction timeout: a proposal unacknowledged for syncLimit"))
                continue
            }
            actions.append(.send(to: sid, QuorumPacket(.ping, zxid: lastZxid)))
        }
        guard halfTicks % 2 == 0 else { return }
        tick += 1
        guard established else { return }
        var heard: Set<Int64> = [discovery.leader.myid]
        for (sid, state) in learners where state == .synced && tick <= (deadlines[sid] ?? 0) { heard.insert(sid) }
        // A quorum of the configuration in force, and of one proposed (`Leader.lead`'s syncedAckSet).
        for required in [verifier] + (pendingVerifier.map { [$0] } ?? []) where !required.isQuorum(heard) {
            return actions.append(.fail("not hearing a quorum: synced voters \(heard.sorted()) of \(required.voters.sorted()) within syncLimit"))
        }
    }

    private mutating func handle(_ packet: QuorumPacket, from sid: Int64, into actions: inout [Action]) {
        // Any packet renews the learner's deadline: syncLimit ticks, or initLimit more at first.
        deadlines[sid] = tick + (learners[sid] == nil || learners[sid] == .handshaking ? limits.initLimit : 0) + limits.syncLimit
        switch packet.kind {
        case .followerInfo?, .observerInfo?:
            learners[sid] = .handshaking
            if packet.kind == .observerInfo { observers.insert(sid) } else { observers.remove(sid) }
            discoveryActions(discovery.receive(.learnerInfo(sid: sid, acceptedEpoch: packet.zxid >> 32)), into: &actions)
        case .ackEpoch?:
            let data = packet.data ?? []
            let theirs = data.count >= 4 ? Int32(bitPattern: UInt32(data[0]) << 24 | UInt32(data[1]) << 16 | UInt32(data[2]) << 8 | UInt32(data[3])) : -1
            discoveryActions(discovery.receive(.ackEpoch(sid: sid, lastLoggedZxid: packet.zxid, currentEpoch: theirs)), into: &actions)
        case .ack?:
            if learners[sid] == .synchronizing && packet.zxid == discovery.newLeaderZxid {
                learners[sid] = .synced
                if let point = syncPoints[sid] { lastAcked[sid] = max(lastAcked[sid] ?? Int64.min, point) }
                let wasEstablished = established
                discoveryActions(discovery.receive(.newLeaderAck(sid: sid, zxid: packet.zxid)), into: &actions)
                // Learners synced after the epoch is established get UPTODATE at once.
                if wasEstablished { actions.append(.send(to: sid, QuorumPacket(.upToDate, zxid: -1))) }
            } else if packet.zxid & 0xFFFF_FFFF != 0 {
                syncLimitChecks[sid]?.acknowledged(packet.zxid)
                lastAcked[sid] = max(lastAcked[sid] ?? Int64.min, packet.zxid)
                if allowedToCommit { acknowledge(packet.zxid, from: sid, into: &actions) }
                completeTransfer(into: &actions)
            }
        case .ping?:
            // The reply carries the learner's session touches.
            guard let touches = try? SessionTouches.decode(packet.data ?? []) else {
                actions.append(.closeLearner(sid, reason: "its PING reply has a session touch cut short"))
                break
            }
            if !touches.isEmpty { actions.append(.touchSessions(touches)) }
        case .request?:
            // A learner forwards requests only once it is being synchronized; before that the
            // packet breaks the handshake, and `LearnerHandler` ends such a connection.
            guard learners[sid] == .synced || learners[sid] == .synchronizing else {
                actions.append(.closeLearner(sid, reason: "it forwarded a request before it was synchronized"))
                break
            }
            guard let request = try? LearnerRequest(packet: packet) else {
                actions.append(.closeLearner(sid, reason: "its REQUEST cannot be decoded"))
                break
            }
            if request.type == OpCode.sync.rawValue {
                // Answered once what is proposed now has committed (`Leader.processSync`).
                if broadcast.oldestOutstanding == nil {
                    actions.append(.send(to: sid, QuorumPacket(.sync, zxid: 0)))
                } else {
                    pendingSyncs.append((lastZxid, sid))
                }
            } else {
                actions.append(.request(from: sid, request))
            }
        case .revalidate?:
            guard let asked = try? Revalidation.decodeRequest(packet) else { break }
            actions.append(.revalidate(from: sid, session: asked.sessionId, timeout: asked.timeout))
        default:
            break
        }
    }

    private mutating func acknowledge(_ zxid: Int64, from sid: Int64, into actions: inout [Action]) {
        var ready = broadcast.acknowledge(zxid, from: sid)
        while !ready.isEmpty {
            for committed in ready { commit(committed, into: &actions) }
            // Commits stop after a reconfiguration: go on once it is in force, if still allowed.
            ready = allowedToCommit ? broadcast.commitReady() : []
        }
    }

    /// `tryToCommit` for a proposal that has its quorums: COMMIT to followers, INFORM to
    /// observers, or for a reconfiguration COMMITANDACTIVATE and INFORMANDACTIVATE naming
    /// the new configuration's leader.
    private mutating func commit(_ committed: Int64, into actions: inout [Action]) {
        guard let index = inFlight.firstIndex(where: { $0.header.zxid == committed }) else { return }
        let proposal = inFlight.remove(at: index)
        committedLog.append(proposal)
        if committedLog.count > commitLogCount + commitLogCount / 10 {
            committedLog.removeFirst(committedLog.count - commitLogCount)
        }
        actions.append(.commit(committed))
        if proposal.header.type == OpCode.reconfig.rawValue, let next = pendingVerifier, case .setData(_, let data, _) = proposal.txn {
            let designated = designatedLeader(next, acks: broadcast.reconfigAcks)
            broadcast.activate(next)
            verifier = next
            pendingVerifier = nil
            if designated != discovery.leader.myid { allowedToCommit = false }
            let leaderBytes = Self.bytes(designated)
            for (learner, state) in learners.sorted(by: { $0.key < $1.key }) where state != .handshaking {
                actions.append(.send(to: learner, observers.contains(learner)
                    ? QuorumPacket(.informAndActivate, zxid: committed, data: leaderBytes + proposal.bytes)
                    : QuorumPacket(.commitAndActivate, zxid: committed, data: leaderBytes)))
            }
            // Last: a leader that hands over stops once the learners have been told.
            actions.append(.activate(config: data ?? [], designatedLeader: designated, zxid: committed))
        } else {
            for (learner, state) in learners.sorted(by: { $0.key < $1.key }) where state != .handshaking {
                actions.append(.send(to: learner, observers.contains(learner)
                    ? QuorumPacket(.inform, zxid: committed, data: proposal.bytes)
                    : QuorumPacket(.commit, zxid: committed)))
            }
        }
        while let first = pendingSyncs.first, first.zxid <= committed {
            pendingSyncs.removeFirst()
            actions.append(.send(to: first.sid, QuorumPacket(.sync, zxid: 0)))
        }
    }

    /// `Leader.getDesignatedLeader`: this server while it is a voter of the new configuration;
    /// otherwise, of the new voters that acknowledged the reconfiguration, the one that has
    /// acknowledged the most of the proposals after it (the smallest id among equals).
    private func designatedLeader(_ next: QuorumVerifier, acks: Set<Int64>) -> Int64 {
        let myid = discovery.leader.myid
        if next.voters.contains(myid) { return myid }
        var candidates = acks.intersection(next.voters)
        candidates.remove(myid)
        guard var best = candidates.min() else { return myid }
        for later in broadcast.outstanding {
            let remaining = candidates.intersection(later.acks)
            if remaining.isEmpty { break }
            candidates = remaining
            best = remaining.min() ?? best
        }
        return best
    }

    private static func bytes(_ value: Int64) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }

    private mutating func discoveryActions(_ steps: [Discovery.Action], into actions: inout [Action]) {
        for step in steps {
            switch step {
            case .writeAcceptedEpoch(let epoch): actions.append(.writeAcceptedEpoch(epoch))
            case .writeCurrentEpoch(let epoch): actions.append(.writeCurrentEpoch(epoch))
            case .sendLeaderInfo(let sid, let zxid): actions.append(.send(to: sid, QuorumPacket(.leaderInfo, zxid: zxid, data: [0, 1, 0, 0])))
            case .dropLearner(let sid, let reason):
                forget(sid)
                actions.append(.closeLearner(sid, reason: reason))
            case .synchronize(let sid, let peer): synchronize(sid, peerLastZxid: peer, into: &actions)
            case .established(let epoch):
                established = true
                lastZxid = max(lastZxid, epoch << 32)
                if reconfigEnabled {
                    versionConfiguration()
                    // `startZkServer`: the configuration NEWLEADER carried is now in force.
                    let next = pendingVerifier ?? verifier
                    let designated = designatedLeader(next, acks: discovery.newLeaderAcks)
                    actions.append(.activate(config: configText, designatedLeader: designated, zxid: epoch << 32))
                    broadcast.activate(next)
                    verifier = next
                    pendingVerifier = nil
                    if designated != discovery.leader.myid { allowedToCommit = false }
                }
                actions.append(.serving(epoch: epoch))
                for (sid, state) in learners.sorted(by: { $0.key < $1.key }) where state == .synced {
                    actions.append(.send(to: sid, QuorumPacket(.upToDate, zxid: -1)))
                }
            case .fail(let reason): actions.append(.fail(reason))
            }
        }
    }

    /// The sync packets, the committed proposals after them, what is in flight, then NEWLEADER.
    /// A learner behind the committed log waits for the transaction log to be read first.
    private mutating func synchronize(_ sid: Int64, peerLastZxid: Int64, fromLog: [Learner.Proposal]? = nil, logRead: Bool = false,
                                      into actions: inout [Action]) {
        let zxids = committedLog.map(\.header.zxid)
        if readsTxnLog && !logRead && peerLastZxid < (zxids.first ?? broadcast.lastCommitted) {
            awaitingTxnLog[sid] = peerLastZxid
            return actions.append(.readTxnLog(for: sid, after: peerLastZxid, upTo: broadcast.lastCommitted))
        }
        let plan = SyncPlan.decide(peerLastZxid: peerLastZxid, committedLog: zxids, lastProcessedZxid: broadcast.lastCommitted,
                                   txnLog: fromLog?.map(\.header.zxid))
        switch plan.kind {
        case .diff(let zxid): actions.append(.send(to: sid, QuorumPacket(.diff, zxid: zxid)))
        case .trunc(let zxid): actions.append(.send(to: sid, QuorumPacket(.trunc, zxid: zxid)))
        case .snap(let zxid): actions.append(.sendSnapshot(to: sid, zxid: zxid))
        }
        var known: [Int64: Learner.Proposal] = [:]
        if !plan.proposals.isEmpty {
            for proposal in (fromLog ?? []) + committedLog { known[proposal.header.zxid] = proposal }
        }
        for zxid in plan.proposals {
            guard let proposal = known[zxid] else { continue }
            actions.append(.send(to: sid, QuorumPacket(.proposal, zxid: zxid, data: proposal.bytes)))
            actions.append(.send(to: sid, QuorumPacket(.commit, zxid: zxid)))
        }
        // startForwarding: what is proposed and not yet committed follows (to participants),
        // then NEWLEADER.
        if !observers.contains(sid) {
            for proposal in inFlight where proposal.header.zxid > plan.lastQueued {
                actions.append(.send(to: sid, QuorumPacket(.proposal, zxid: proposal.header.zxid, data: proposal.bytes)))
            }
        }
        learners[sid] = .synchronizing
        syncPoints[sid] = plan.lastQueued
        versionConfiguration()
        actions.append(.send(to: sid, QuorumPacket(.newLeader, zxid: discovery.newLeaderZxid, data: configText)))
    }
}
