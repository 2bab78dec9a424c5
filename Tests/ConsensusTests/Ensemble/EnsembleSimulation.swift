import Consensus
import ZooKeeperProtocol

/// A whole ensemble in one process from one seed, on the cores the server runs: each member
/// elects with ``FastLeaderElection``, leads with ``LeaderRole`` or follows and observes with
/// ``Learner``, and goes back to LOOKING the way `QuorumPeer` does. Around them: a
/// ``SimulatedNetwork`` (lossy election datagrams; quorum connections as TCP streams that
/// stall across a cut and end with FIN), a ``SimulatedDisk`` per member (syncs in order after
/// a random delay; a crash keeps what was synced and a random part of the rest), a clock,
/// clients writing through any serving member, and faults: crashes and restarts, partitions
/// (both ways and one way), pauses (SIGSTOP).
///
/// What it checks as it runs (``failures``) and at the end (``verdict()``), after
/// `EnsembleHistory`: at most one established leader per epoch; every member's committed
/// transactions are a prefix of one sequence; a zxid is never proposed twice; no TRUNC cuts a
/// committed transaction; every acknowledged write survives; each client's writes commit in
/// the order it issued them; writes are linearizable (one acknowledged before another began
/// precedes it); and once the faults heal, one leader serves every member, all with the same
/// tree, within a bound.
struct EnsembleSimulation {
    typealias Random = ElectionSimulation.Random

    struct Settings {
        var voters: [Int64] = [1, 2, 3]
        var observers: [Int64] = []
        var clients = 3
        var tickTime: Int64 = 500
        var initLimit: Int64 = 10
        var syncLimit: Int64 = 5
        var electionLossPercent = 5
        var electionDuplicatePercent = 5
        /// The largest one-way network delay and the largest fsync time, in milliseconds.
        var maximumDelay: Int64 = 20
        var maximumSyncTime: Int64 = 15
        /// A client gives up on a write it has no answer to after this long.
        var clientTimeout: Int64 = 6_000
        /// How many committed proposals a leader keeps for DIFFs; nil: chosen from the seed
        /// (half the seeds keep ZooKeeper's 500, the others 8 to 71, so that learners fall
        /// behind it and are synchronized from the leader's transaction log).
        var commitLogCount: Int?
        /// Whether a member's election learns that it cannot reach a peer, as `ElectionNode`
        /// does when a connection is refused (the peer is down) or times out (cut off, after
        /// `cnxTimeout`): the shortcut that ends an election without waiting for it.
        var reportsUnreachablePeers = true
        /// `cnxTimeout`: how long a connection to a cut-off peer takes to fail.
        var connectTimeout: Int64 = 5_000
    }

    enum Fault {
        /// One fault chosen when it happens, from what the ensemble looks like then.
        case random
        case resume(Int64)
        case restartOne(Int64)
        /// Every cut healed, every paused member resumed, every crashed member restarted.
        case healAll
    }

    enum Event {
        case election(from: Int64, to: Int64, ElectionNotification)
        /// Member `Int64`'s connection to `peer`'s election port failed.
        case peerUnreachable(Int64, peer: Int64)
        case electionTimer(Int64, token: Int)
        case pump(connection: Int, toLeader: Bool)
        case connect(Int64, role: Int, attempt: Int)
        case synced(Int64, incarnation: Int, sequence: Int)
        case leaderHalfTick(Int64, role: Int)
        case discoveryWatch(Int64, role: Int, phase: Discovery.Phase)
        /// The leader's read of its transaction log for a learner is done.
        case txnLogRead(Int64, role: Int, learner: Int64, after: Int64, [Learner.Proposal]?)
        case learnerWatchdog(Int64, role: Int)
        case clientStep(Int)
        case clientRequest(client: Int, server: Int64, cxid: Int32, role: Int)
        case clientTimeout(client: Int, cxid: Int32)
        case fault(Fault)
        case probe
    }

    struct Node {
        let id: Int64
        let isObserver: Bool
        var up = true
        var paused = false
        /// Events that reached this member while it was paused, run when it resumes.
        var deferred: [Event] = []
        /// Bumped by each crash: syncs of a previous life are void.
        var incarnation = 0
        var disk = SimulatedDisk()
        /// The tree, as the zxids applied to it; the first `committedCount` are known committed.
        var tree: [Int64] = []
        var committedCount = 0
        var election: FastLeaderElection
        var electionTimer = 0
        /// The role instance now (unique in the run): timers and streams of an older one are void.
        var role = 0
        var leader: LeaderRole?
        var learner: Learner?
        var serving = false
        // As a learner:
        var leaderId: Int64?
        var connection: Int?
        var lastHeard: Int64 = 0
        var logged: [Int64] = []
        var incomingSnapshot: [Int64]?
        // As a leader: each learner's connection.
        var learnerConnections: [Int64: Int] = [:]
    }

    struct ClientWrite: Hashable {
        var client: Int
        var cxid: Int32
    }

    struct WriteRecord {
        /// The connection it was sent on: the client's n-th.
        var connection: Int
        var invokedAt: Int64
        var ackedAt: Int64?
        var zxid: Int64?
    }

    /// A client keeps its connection to one member until that member stops serving it (or a
    /// write times out), then connects to another.
    struct Client {
        var nextCxid: Int32 = 0
        var waiting: (cxid: Int32, server: Int64, role: Int)?
        var server: (id: Int64, role: Int)?
        var connections = 0
    }

    var settings: Settings
    var random: Random
    var now: Int64 = 0
    var queue = EventQueue<Event>()
    var network = SimulatedNetwork()
    var nodes: [Int64: Node] = [:]
    let verifier: QuorumVerifier
    var roles = 0
    var diskTail: [Int64: Int64] = [:]
    var clients: [Client]
    var writes: [ClientWrite: WriteRecord] = [:]
    /// Clients issue writes until then.
    var loadUntil: Int64 = .max
    /// Every proposal made, by zxid.
    var proposals: [Int64: Learner.Proposal] = [:]
    /// The one committed sequence every member's committed prefix must agree with.
    var history: [Int64] = []
    var epochLeaders: [Int64: Int64] = [:]
    var failures: [String] = []
    /// When the faults were healed, and when the ensemble had converged after.
    var healedAt: Int64?
    var convergedAt: Int64?
    /// Figures of the run, for the test's messages and the note.
    var elections = 0
    var crashes = 0
    var closedLearners = 0
    /// Election connections that failed (``Settings/reportsUnreachablePeers``).
    var unreachableReports = 0
    /// Learner synchronizations by kind (DIFF, TRUNC, SNAP), and the leaders' transaction-log
    /// reads for them (answered, or refused: not reaching back, or across a gap).
    var syncs: [String: Int] = [:]
    /// Set to see what happens in one seed: role changes, syncs, crashes.
    var trace: ((String) -> Void)?
    /// Zxids whose proposal and commits are traced.
    var watched: Set<Int64> = []

    private func note(_ line: @autoclosure () -> String) {
        if let trace { trace("t=\(now) \(line())") }
    }

    private func hex(_ zxid: Int64) -> String { "0x" + String(zxid, radix: 16) }

    init(seed: UInt64, settings: Settings = Settings()) {
        self.settings = settings
        random = Random(state: seed)
        // Each seed its own hardware: disks from fast to slow, networks from near to far.
        self.settings.maximumSyncTime = 2 + random.below(settings.maximumSyncTime * 4)
        self.settings.maximumDelay = 2 + random.below(settings.maximumDelay)
        // From the seed itself, not the generator, so that seeds keep the runs they had.
        if settings.commitLogCount == nil { self.settings.commitLogCount = seed % 2 == 0 ? LeaderRole.commitLogCount : 8 + Int(seed % 64) }
        verifier = QuorumVerifier(voters: Set(settings.voters), observers: Set(settings.observers))
        clients = Array(repeating: Client(), count: settings.clients)
        for id in settings.voters + settings.observers {
            nodes[id] = Node(id: id, isObserver: settings.observers.contains(id), election: Self.election(id, verifier))
        }
    }

    static func election(_ id: Int64, _ verifier: QuorumVerifier) -> FastLeaderElection {
        FastLeaderElection(configuration: .init(myid: id, verifier: verifier, configText: "version=0"))
    }

    mutating func schedule(_ event: Event, after delay: Int64) {
        queue.push(event, at: now + max(0, delay))
    }

    private mutating func fail(_ message: String) {
        if failures.count < 20 { failures.append("t=\(now) \(message)") }
    }

    // MARK: Running

    /// Starts every member and the clients; faults come at random from `faultsFrom` until
    /// `healAt`, when everything heals; clients write until `healAt + 5 s`.
    mutating func start(faultsFrom: Int64 = 3_000, healAt: Int64 = 40_000) {
        for id in nodes.keys.sorted() { startLooking(id) }
        for client in clients.indices { schedule(.clientStep(client), after: 100 + random.below(500)) }
        var at = faultsFrom
        while at < healAt {
            queue.push(.fault(.random), at: at)
            at += 500 + random.below(3_000)
        }
        queue.push(.fault(.healAll), at: healAt)
        loadUntil = healAt + 5_000
    }

    mutating func run(until limit: Int64) {
        while let time = queue.nextTime, time <= limit, let entry = queue.pop() {
            now = max(now, entry.at)
            if let target = target(of: entry.payload), let node = nodes[target], node.paused {
                nodes[target]?.deferred.append(entry.payload)
                continue
            }
            handle(entry.payload)
        }
        now = max(now, limit)
    }

    /// The member an event runs on, if it runs on one (a paused member runs nothing).
    private func target(of event: Event) -> Int64? {
        switch event {
        case .election(_, let to, _): return to
        case .peerUnreachable(let id, _): return id
        case .electionTimer(let id, _), .connect(let id, _, _), .synced(let id, _, _), .leaderHalfTick(let id, _),
             .discoveryWatch(let id, _, _), .learnerWatchdog(let id, _), .txnLogRead(let id, _, _, _, _):
            return id
        case .clientRequest(_, let server, _, _): return server
        case .pump, .clientStep, .clientTimeout, .fault, .probe: return nil
        }
    }

    private mutating func handle(_ event: Event) {
        switch event {
        case .election(let from, let to, let notification):
            guard nodes[to]?.up == true else { return }
            electionActions(to, nodes[to]?.election.receive(.notification(from: from, notification)) ?? [])
        case .peerUnreachable(let id, let peer):
            guard nodes[id]?.up == true else { return }
            unreachableReports += 1
            electionActions(id, nodes[id]?.election.receive(.peerUnreachable(peer)) ?? [])
        case .electionTimer(let id, let token):
            guard let node = nodes[id], node.up, node.electionTimer == token else { return }
            electionActions(id, nodes[id]?.election.receive(.timerFired) ?? [])
        case .pump(let connection, let toLeader):
            pump(connection, toLeader: toLeader)
        case .connect(let id, let role, let attempt):
            connect(id, role: role, attempt: attempt)
        case .synced(let id, let incarnation, let sequence):
            guard let node = nodes[id], node.up, node.incarnation == incarnation else { return }
            guard let zxid = nodes[id]?.disk.synced(upTo: sequence, role: node.role) else { return }
            if node.leader != nil { toLeader(id, .durable(upTo: zxid)) } else if node.learner != nil { toLearner(id, .durable(upTo: zxid)) }
        case .leaderHalfTick(let id, let role):
            guard let node = nodes[id], node.up, node.role == role, node.leader != nil else { return }
            toLeader(id, .halfTick)
            if nodes[id]?.role == role { schedule(.leaderHalfTick(id, role: role), after: settings.tickTime / 2) }
        case .discoveryWatch(let id, let role, let phase):
            guard let node = nodes[id], node.up, node.role == role, let leader = node.leader, !leader.isEstablished else { return }
            if leader.discovery.phase == phase { toLeader(id, .deadlinePassed) }
            if let next = nodes[id]?.leader, nodes[id]?.role == role, !next.isEstablished {
                schedule(.discoveryWatch(id, role: role, phase: next.discovery.phase), after: settings.initLimit * settings.tickTime)
            }
        case .txnLogRead(let id, let role, let learner, let after, let proposals):
            guard let node = nodes[id], node.up, node.role == role, node.leader != nil else { return }
            toLeader(id, .txnLogRead(for: learner, after: after, proposals))
        case .learnerWatchdog(let id, let role):
            guard let node = nodes[id], node.up, node.role == role, node.learner != nil else { return }
            let limit = settings.tickTime * (node.serving ? settings.syncLimit : settings.initLimit)
            if now - node.lastHeard > limit {
                learnerEnded(id, reason: "nothing from the leader for \(now - node.lastHeard) ms")
            } else {
                schedule(.learnerWatchdog(id, role: role), after: settings.tickTime / 2)
            }
        case .clientStep(let client):
            clientStep(client)
        case .clientRequest(let client, let server, let cxid, let role):
            clientRequest(client, at: server, cxid: cxid, role: role)
        case .clientTimeout(let client, let cxid):
            guard clients[client].waiting?.cxid == cxid else { return }
            clients[client].waiting = nil
            clients[client].server = nil
            schedule(.clientStep(client), after: 50)
        case .fault(let fault):
            inject(fault)
        case .probe:
            probe()
        }
    }

    // MARK: Election

    /// LOOKING (`QuorumPeer.run`): a new role, and an election from the tree's last zxid and
    /// the currentEpoch file.
    mutating func startLooking(_ id: Int64) {
        guard let node = nodes[id], node.up else { return }
        roles += 1
        nodes[id]?.role = roles
        elections += 1
        let zxid = node.tree.last ?? 0
        note("server.\(id) LOOKING at \(hex(zxid)) currentEpoch \(node.disk.currentEpoch) log \(node.disk.log.suffix(3).map { hex($0.zxid) + ($0.durable ? "" : "?") })")
        electionActions(id, nodes[id]?.election.receive(.start(lastLoggedZxid: zxid, currentEpoch: node.disk.currentEpoch)) ?? [])
    }

    private mutating func electionActions(_ id: Int64, _ actions: [FastLeaderElection.Action]) {
        for action in actions {
            guard nodes[id]?.up == true else { return }
            switch action {
            case .send(let to, let notification):
                if to == id {
                    schedule(.election(from: id, to: id, notification), after: 0)
                    continue
                }
                if settings.reportsUnreachablePeers, nodes[to]?.up != true || !network.reachable(id, to) {
                    // Refused at once by a machine whose server is down; timed out across a cut.
                    let after = nodes[to]?.up != true ? 1 + random.below(settings.maximumDelay) : settings.connectTimeout
                    schedule(.peerUnreachable(id, peer: to), after: after)
                    continue
                }
                // Election connections are TCP: a notification is lost or sent twice only around a
                // connection that breaks (a redial resends the last one), which the faults model
                // until the heal; after it every notification arrives once. (The draws are made as
                // before, so that a seed's run up to the heal does not change.) With losses after
                // the heal, a member backed off towards the 60 s notification interval could lose
                // three notifications to its leader in a row and stay LOOKING past any bound (seed
                // 706); with copies after it, the answers a LOOKING voter and an observer trade
                // (ZooKeeper's WorkerReceiver answers both ways) doubled without end (seed 13 of
                // five voters, once the draws for losses were made unconditionally).
                guard network.reachable(id, to) else { continue }
                if random.chance(settings.electionLossPercent) && healedAt == nil { continue }
                let copies = random.chance(settings.electionDuplicatePercent) && healedAt == nil ? 2 : 1
                for _ in 0..<copies {
                    schedule(.election(from: id, to: to, notification), after: 1 + random.below(settings.maximumDelay))
                }
            case .setTimer(let milliseconds):
                nodes[id]?.electionTimer += 1
                schedule(.electionTimer(id, token: nodes[id]?.electionTimer ?? 0), after: milliseconds)
            case .newerConfiguration:
                break  // no reconfiguration is simulated yet
            case .elected(let vote, let state):
                nodes[id]?.electionTimer += 1
                switch state {
                case .leading: startLeading(id)
                case .following, .observing: startLearning(id, leader: vote.leader)
                case .looking: startLooking(id)
                }
            }
        }
    }

    // MARK: Leading

    private mutating func startLeading(_ id: Int64) {
        guard let node = nodes[id] else { return }
        roles += 1
        // As `EnsembleLeader` does: the newest of the log up to the tree's last zxid, from after
        // the last gap in it.
        let commitLogCount = settings.commitLogCount ?? LeaderRole.commitLogCount
        let last = node.tree.last ?? 0
        let logged = Array(node.disk.log.map(\.zxid).filter { $0 <= last }.suffix(commitLogCount))
        let committed = TxnLogContinuity.continuousSuffix(logged, through: last, snapshots: node.disk.snapshotZxids).compactMap { proposals[$0] }
        nodes[id]?.role = roles
        nodes[id]?.leader = LeaderRole(verifier: verifier,
                                       leader: .init(myid: id, acceptedEpoch: node.disk.acceptedEpoch, currentEpoch: node.disk.currentEpoch,
                                                     lastProcessedZxid: node.tree.last ?? 0),
                                       committedLog: committed,
                                       limits: .init(initLimit: settings.initLimit, syncLimit: settings.syncLimit),
                                       commitLogCount: commitLogCount, readsTxnLog: true)
        schedule(.leaderHalfTick(id, role: roles), after: settings.tickTime / 2)
        schedule(.discoveryWatch(id, role: roles, phase: .proposingEpoch), after: settings.initLimit * settings.tickTime)
        toLeader(id, .start)
    }

    private mutating func toLeader(_ id: Int64, _ event: LeaderRole.Event) {
        leaderActions(id, nodes[id]?.leader?.receive(event) ?? [])
    }

    private mutating func leaderActions(_ id: Int64, _ actions: [LeaderRole.Action]) {
        let role = nodes[id]?.role
        for action in actions {
            guard let node = nodes[id], node.up, node.role == role, node.leader != nil else { return }
            switch action {
            case .send(let sid, let packet):
                if let connection = node.learnerConnections[sid] { send(.packet(packet, snapshot: nil), on: connection, toLeader: false) }
            case .sendSnapshot(let sid, _):
                // Like `EnsembleLeader`: the tree as it is now, at its last zxid.
                if let connection = node.learnerConnections[sid] {
                    send(.packet(QuorumPacket(.snap, zxid: node.tree.last ?? 0), snapshot: node.tree), on: connection, toLeader: false)
                }
            case .writeAcceptedEpoch(let epoch):
                nodes[id]?.disk.acceptedEpoch = epoch
            case .writeCurrentEpoch(let epoch):
                nodes[id]?.disk.currentEpoch = epoch
            case .log(let proposal):
                log(id, proposal.header.zxid)
            case .commit(let zxid):
                apply(id, zxid)
            case .serving(let epoch):
                note("server.\(id) LEADS epoch \(epoch) at \(hex(node.tree.last ?? 0))")
                if let other = epochLeaders[epoch], other != id { fail("server.\(id) and server.\(other) both established epoch \(epoch)") }
                epochLeaders[epoch] = id
                nodes[id]?.serving = true
                nodes[id]?.committedCount = node.tree.count
                checkCommitted(id)
                nodes[id]?.election.updatePeerEpoch(epoch)
            case .touchSessions, .revalidate:
                break
            case .activate, .transferred, .transferRefused:
                break  // no reconfiguration or leader transfer is simulated yet
            case .request(_, let request):
                guard let client = clientOf(request.sessionId) else { break }
                propose(at: id, client: client, cxid: request.cxid)
            case .readTxnLog(let sid, let after, let upTo):
                // Read off the leader's loop, as `EnsembleLeader` does: commits go on meanwhile.
                let read = txnLogRead(node.disk, after: after, upTo: upTo)
                syncs[read == nil ? "log read refused" : "log read", default: 0] += 1
                note("server.\(id) reads its log for server.\(sid) from \(hex(after)) to \(hex(upTo)): \(read.map { "\($0.count) transactions, \($0.first.map { hex($0.header.zxid) } ?? "-")...\($0.last.map { hex($0.header.zxid) } ?? "-")" } ?? "not reaching back")")
                schedule(.txnLogRead(id, role: node.role, learner: sid, after: after, read), after: 1 + random.below(settings.maximumSyncTime))
            case .closeLearner(let sid, _):
                closedLearners += 1
                if let connection = node.learnerConnections[sid] {
                    nodes[id]?.learnerConnections[sid] = nil
                    close(connection, learnerSide: false)
                    toLeader(id, .learnerLost(sid))
                }
            case .fail(let reason):
                note("server.\(id) stops leading: \(reason)")
                leaderEnded(id)
            }
        }
    }

    /// What `EnsembleLeader.readTxnLog` reads from a data directory: the logged transactions
    /// from `after` (it first, when logged) to `upTo`, nil when the log does not reach back to
    /// it or has a gap in between. The log is the files as they are: what was logged and not
    /// yet synced is read too, and what a SNAP or TRUNC sync superseded is still there.
    private func txnLogRead(_ disk: SimulatedDisk, after: Int64, upTo: Int64) -> [Learner.Proposal]? {
        guard let first = disk.log.first, first.zxid <= after + 1 else { return nil }
        let zxids = disk.log.map(\.zxid).filter { $0 >= after && $0 <= upTo }
        guard TxnLogContinuity.isContinuous(zxids, after: after, through: upTo, snapshots: disk.snapshotZxids) else { return nil }
        return zxids.compactMap { proposals[$0] }
    }

    /// A client's write becomes a proposal at the next zxid.
    private mutating func propose(at id: Int64, client: Int, cxid: Int32) {
        guard let leader = nodes[id]?.leader, leader.isEstablished else { return }
        let zxid = leader.nextZxid
        let header = TxnHeader(clientId: Int64(client) + 1, cxid: cxid, zxid: zxid, time: now, type: OpCode.setData.rawValue)
        if zxid & 0xFFFF_FFFF == 1 || watched.contains(zxid) { note("server.\(id) proposes \(hex(zxid))") }
        let proposal = Learner.Proposal(header: header, txn: .setData(path: "/c\(client)", data: [UInt8(truncatingIfNeeded: cxid)], version: -1))
        if let earlier = proposals[zxid], earlier != proposal {
            fail("0x\(String(zxid, radix: 16)) proposed twice: by client \(earlier.header.clientId) and client \(client + 1)")
        }
        proposals[zxid] = proposal
        toLeader(id, .propose(header, proposal.txn))
    }

    private func clientOf(_ session: Int64) -> Int? {
        let client = Int(session) - 1
        return clients.indices.contains(client) ? client : nil
    }

    /// `Leader.lead` returned: the tree is read back from the data directory (what was written
    /// and not synced is still in the files) and the member looks again.
    private mutating func leaderEnded(_ id: Int64) {
        endRole(id)
        reloadFromDisk(id)
        startLooking(id)
    }

    // MARK: Learning

    private mutating func startLearning(_ id: Int64, leader: Int64) {
        guard let node = nodes[id] else { return }
        roles += 1
        nodes[id]?.role = roles
        nodes[id]?.leaderId = leader
        nodes[id]?.logged = []
        nodes[id]?.learner = Learner(configuration: .init(myid: id, isObserver: node.isObserver),
                                     disk: .init(acceptedEpoch: node.disk.acceptedEpoch, currentEpoch: node.disk.currentEpoch,
                                                 lastLoggedZxid: node.tree.last ?? 0))
        schedule(.connect(id, role: roles, attempt: 1), after: 0)
    }

    /// Dials the leader: five tries a second apart, as `LearnerLink` does.
    private mutating func connect(_ id: Int64, role: Int, attempt: Int) {
        guard let node = nodes[id], node.up, node.role == role, node.learner != nil, let leaderId = node.leaderId else { return }
        if let leader = nodes[leaderId], leader.up, leader.leader != nil, network.streamOpen(id, leaderId) {
            let connection = network.open(learner: id, learnerRole: role, leader: leaderId, leaderRole: leader.role)
            nodes[id]?.connection = connection
            nodes[id]?.lastHeard = now
            schedule(.learnerWatchdog(id, role: role), after: settings.tickTime / 2)
            toLearner(id, .connected)
        } else if attempt >= 5 {
            learnerEnded(id, reason: "cannot connect to server.\(leaderId)")
        } else {
            schedule(.connect(id, role: role, attempt: attempt + 1), after: 1_000)
        }
    }

    private mutating func toLearner(_ id: Int64, _ event: Learner.Event) {
        if case .packet(let packet) = event, packet.kind == .diff { syncs["DIFF", default: 0] += 1 }
        learnerActions(id, nodes[id]?.learner?.receive(event) ?? [])
    }

    private mutating func learnerActions(_ id: Int64, _ actions: [Learner.Action]) {
        let role = nodes[id]?.role
        for action in actions {
            guard let node = nodes[id], node.up, node.role == role, node.learner != nil else { return }
            switch action {
            case .send(let packet):
                if let connection = node.connection { send(.packet(packet, snapshot: nil), on: connection, toLeader: true) }
            case .answerPing(let zxid):
                if let connection = node.connection {
                    send(.packet(QuorumPacket(.ping, zxid: zxid, data: SessionTouches.encode([])), snapshot: nil), on: connection, toLeader: true)
                }
            case .writeAcceptedEpoch(let epoch):
                nodes[id]?.disk.acceptedEpoch = epoch
            case .writeCurrentEpoch(let epoch):
                nodes[id]?.disk.currentEpoch = epoch
            case .loadSnapshot:
                syncs["SNAP", default: 0] += 1
                note("server.\(id) SNAP to \(hex(node.incomingSnapshot?.last ?? 0)) from \(hex(node.tree.last ?? 0))")
                nodes[id]?.tree = node.incomingSnapshot ?? []
                nodes[id]?.incomingSnapshot = nil
                toLearner(id, .snapshotLoaded)
            case .truncate(let zxid):
                syncs["TRUNC", default: 0] += 1
                note("server.\(id) TRUNC to \(hex(zxid)) from \(hex(node.tree.last ?? 0))")
                if node.tree.prefix(node.committedCount).contains(where: { $0 > zxid }) {
                    fail("server.\(id) told to TRUNC to 0x\(String(zxid, radix: 16)), cutting committed transactions")
                }
                nodes[id]?.disk.truncate(to: zxid)
                let tree = nodes[id]?.disk.recovered ?? []
                if (tree.last ?? 0) > zxid { fail("server.\(id)'s snapshot is past the TRUNC point 0x\(String(zxid, radix: 16))") }
                nodes[id]?.tree = tree
                nodes[id]?.committedCount = min(node.committedCount, tree.count)
            case .applyUnlogged(let proposal):
                nodes[id]?.tree.append(proposal.header.zxid)
            case .log(let proposal):
                nodes[id]?.logged.append(proposal.header.zxid)
                log(id, proposal.header.zxid)
            case .commit(let zxid):
                guard let index = node.logged.firstIndex(of: zxid) else {
                    fail("server.\(id) told to commit 0x\(String(zxid, radix: 16)), which it did not log")
                    continue
                }
                nodes[id]?.logged.remove(at: index)
                if node.serving { apply(id, zxid) } else { nodes[id]?.tree.append(zxid) }
            case .takeSnapshot:
                nodes[id]?.disk.writeSnapshot(node.tree)
            case .sawConfiguration, .activate, .handOver:
                break  // no reconfiguration or leader transfer is simulated yet
            case .serving(let epoch):
                note("server.\(id) follows server.\(node.leaderId ?? 0) in epoch \(epoch) at \(hex(node.tree.last ?? 0))")
                nodes[id]?.serving = true
                nodes[id]?.committedCount = node.tree.count
                checkCommitted(id)
                nodes[id]?.election.updatePeerEpoch(epoch)
            case .fail(let reason):
                learnerEnded(id, reason: reason)
            }
        }
    }

    /// `Follower.followLeader` returned: what was logged and not committed joins the tree (as
    /// `LearnerLink` fast-forwards), and the member looks again.
    private mutating func learnerEnded(_ id: Int64, reason: String) {
        guard let node = nodes[id] else { return }
        note("server.\(id) leaves server.\(node.leaderId ?? 0): \(reason)")
        endRole(id)
        let last = node.tree.last ?? 0
        nodes[id]?.tree.append(contentsOf: node.logged.filter { $0 > last })
        nodes[id]?.logged = []
        startLooking(id)
    }

    // MARK: Roles, trees and disks

    /// Closes every stream of the member's role and fails the clients waiting on it (ZooKeeper
    /// closes their connections when it stops serving).
    private mutating func endRole(_ id: Int64) {
        // In key order: a dictionary's order differs from process to process, and each close
        // draws from the generator, so a seed would not replay.
        for key in network.connections.keys.sorted() {
            guard let connection = network.connections[key] else { continue }
            if connection.learner == id && connection.learnerOpen { close(key, learnerSide: true) }
            if connection.leader == id && connection.leaderOpen { close(key, learnerSide: false) }
        }
        for client in clients.indices where clients[client].server?.id == id {
            clients[client].server = nil
            if clients[client].waiting != nil {
                clients[client].waiting = nil
                schedule(.clientStep(client), after: 50)
            }
        }
        nodes[id]?.serving = false
        nodes[id]?.leader = nil
        nodes[id]?.learner = nil
        nodes[id]?.leaderId = nil
        nodes[id]?.connection = nil
        nodes[id]?.learnerConnections = [:]
        nodes[id]?.incomingSnapshot = nil
    }

    private mutating func reloadFromDisk(_ id: Int64) {
        guard let node = nodes[id] else { return }
        let tree = node.disk.recovered
        let kept = min(node.committedCount, tree.count)
        if Array(tree.prefix(kept)) != Array(node.tree.prefix(kept)) {
            fail("server.\(id)'s data directory lost committed transactions it had applied")
        }
        nodes[id]?.tree = tree
        nodes[id]?.committedCount = kept
    }

    private mutating func log(_ id: Int64, _ zxid: Int64) {
        guard let node = nodes[id] else { return }
        let sequence = nodes[id]?.disk.append(zxid, role: node.role) ?? 0
        let at = max(now + 1 + random.below(settings.maximumSyncTime), diskTail[id] ?? 0)
        diskTail[id] = at
        queue.push(.synced(id, incarnation: node.incarnation, sequence: sequence), at: at)
    }

    /// A committed transaction joins the member's tree; the client that wrote it through this
    /// member gets its answer.
    private mutating func apply(_ id: Int64, _ zxid: Int64) {
        if watched.contains(zxid) { note("server.\(id) commits \(hex(zxid))") }
        nodes[id]?.tree.append(zxid)
        let count = nodes[id]?.tree.count ?? 0
        nodes[id]?.committedCount = count
        checkCommitted(id, appended: true)
        guard let header = proposals[zxid]?.header, let client = clientOf(header.clientId), let waiting = clients[client].waiting,
              waiting.cxid == header.cxid, waiting.server == id, waiting.role == nodes[id]?.role else { return }
        writes[ClientWrite(client: client, cxid: header.cxid)]?.ackedAt = now
        writes[ClientWrite(client: client, cxid: header.cxid)]?.zxid = zxid
        clients[client].waiting = nil
        schedule(.clientStep(client), after: random.below(50))
    }

    /// The member's committed prefix agrees with the one history (and extends it).
    private mutating func checkCommitted(_ id: Int64, appended: Bool = false) {
        guard let node = nodes[id] else { return }
        let count = node.committedCount
        // After one append only the newest entry is new; otherwise compare the whole prefix.
        let start = appended ? max(0, count - 1) : 0
        for index in start..<max(start, min(count, history.count)) where history[index] != node.tree[index] {
            return diverged(id, at: index)
        }
        if count > history.count { history.append(contentsOf: node.tree[history.count..<count]) }
    }

    private mutating func diverged(_ id: Int64, at index: Int) {
        let theirs = nodes[id]?.tree[index] ?? 0
        fail("server.\(id) committed 0x\(String(theirs, radix: 16)) at position \(index), where the history has 0x\(String(history[index], radix: 16))")
    }

    // MARK: Streams

    private mutating func send(_ segment: SimulatedNetwork.Segment, on connection: Int, toLeader: Bool) {
        guard let stream = network.connections[connection], toLeader ? stream.learnerOpen : stream.leaderOpen else { return }
        if network.enqueue(segment, on: connection, toLeader: toLeader) {
            schedule(.pump(connection: connection, toLeader: toLeader), after: 1 + random.below(settings.maximumDelay))
        }
    }

    /// One side closes: a FIN follows what it sent.
    private mutating func close(_ connection: Int, learnerSide: Bool) {
        guard var stream = network.connections[connection] else { return }
        if learnerSide { stream.learnerOpen = false } else { stream.leaderOpen = false }
        network.connections[connection] = stream
        if network.enqueue(.fin, on: connection, toLeader: learnerSide) {
            schedule(.pump(connection: connection, toLeader: learnerSide), after: 1 + random.below(settings.maximumDelay))
        }
    }

    private mutating func pump(_ connection: Int, toLeader towardLeader: Bool) {
        let toLeader = towardLeader
        guard let stream = network.connections[connection] else { return }
        let receiverId = toLeader ? stream.leader : stream.learner
        let senderId = toLeader ? stream.learner : stream.leader
        let receiver = nodes[receiverId]
        // A paused receiver or a cut path holds the bytes (TCP retransmits them later).
        if receiver?.up == true && (receiver?.paused == true || !network.streamOpen(senderId, receiverId)) {
            schedule(.pump(connection: connection, toLeader: toLeader), after: 100 + random.below(200))
            return
        }
        guard let segment = network.dequeue(on: connection, toLeader: toLeader) else { return }
        if network.hasMore(on: connection, toLeader: toLeader) {
            schedule(.pump(connection: connection, toLeader: toLeader), after: random.below(3))
        }
        let receiverRole = toLeader ? stream.leaderRole : stream.learnerRole
        let receiverOpen = toLeader ? stream.leaderOpen : stream.learnerOpen
        guard let node = receiver, node.up, receiverOpen, node.role == receiverRole else {
            // Nobody reads this end any more: a reset tells the sender, once.
            if case .packet = segment, toLeader ? stream.learnerOpen : stream.leaderOpen {
                if toLeader { network.connections[connection]?.leaderOpen = false } else { network.connections[connection]?.learnerOpen = false }
                if network.enqueue(.fin, on: connection, toLeader: !toLeader) {
                    schedule(.pump(connection: connection, toLeader: !toLeader), after: 1 + random.below(settings.maximumDelay))
                }
            }
            network.forget(connection)
            return
        }
        switch segment {
        case .fin:
            if toLeader {
                network.connections[connection]?.leaderOpen = false
                if let sid = node.learnerConnections.first(where: { $0.value == connection })?.key {
                    nodes[receiverId]?.learnerConnections[sid] = nil
                    self.toLeader(receiverId, .learnerLost(sid))
                }
            } else {
                network.connections[connection]?.learnerOpen = false
                if node.connection == connection { learnerEnded(receiverId, reason: "the leader closed the connection") }
            }
            network.forget(connection)
        case .packet(let packet, let snapshot):
            if toLeader {
                leaderReceived(receiverId, packet, on: connection, from: stream.learner)
            } else {
                guard node.connection == connection else { return }
                nodes[receiverId]?.lastHeard = now
                if let snapshot { nodes[receiverId]?.incomingSnapshot = snapshot }
                toLearner(receiverId, .packet(packet))
            }
        }
    }

    private mutating func leaderReceived(_ id: Int64, _ packet: QuorumPacket, on connection: Int, from learner: Int64) {
        guard let node = nodes[id] else { return }
        if node.learnerConnections[learner] == connection { return toLeader(id, .packet(from: learner, packet)) }
        // The first packet names the learner; a reconnecting learner replaces its old stream.
        guard packet.kind == .followerInfo || packet.kind == .observerInfo else { return close(connection, learnerSide: false) }
        if let old = node.learnerConnections[learner] {
            close(old, learnerSide: false)
            toLeader(id, .learnerLost(learner))
        }
        nodes[id]?.learnerConnections[learner] = connection
        toLeader(id, .packet(from: learner, packet))
    }

    // MARK: Clients

    private mutating func clientStep(_ client: Int) {
        guard clients[client].waiting == nil, now < loadUntil else { return }
        if let current = clients[client].server, nodes[current.id]?.role != current.role || nodes[current.id]?.serving != true {
            clients[client].server = nil
        }
        if clients[client].server == nil {
            let serving = nodes.values.filter { $0.up && $0.serving }.map(\.id).sorted()
            guard let id = pick(serving) else { return schedule(.clientStep(client), after: 200) }
            clients[client].server = (id, nodes[id]?.role ?? 0)
            clients[client].connections += 1
        }
        guard let (server, role) = clients[client].server else { return }
        let cxid = clients[client].nextCxid
        clients[client].nextCxid += 1
        clients[client].waiting = (cxid, server, role)
        writes[ClientWrite(client: client, cxid: cxid)] = WriteRecord(connection: clients[client].connections, invokedAt: now)
        schedule(.clientRequest(client: client, server: server, cxid: cxid, role: role), after: 1 + random.below(settings.maximumDelay))
        schedule(.clientTimeout(client: client, cxid: cxid), after: settings.clientTimeout)
    }

    private mutating func clientRequest(_ client: Int, at id: Int64, cxid: Int32, role: Int) {
        guard clients[client].waiting?.cxid == cxid else { return }
        guard let node = nodes[id], node.up, node.role == role, node.serving else {
            // The connection is gone: the client sees a connection loss and tries elsewhere.
            clients[client].waiting = nil
            clients[client].server = nil
            return schedule(.clientStep(client), after: 50)
        }
        if node.leader != nil {
            propose(at: id, client: client, cxid: cxid)
        } else if let connection = node.connection {
            let request = LearnerRequest(sessionId: Int64(client) + 1, cxid: cxid, type: OpCode.setData.rawValue, body: [], authInfo: [])
            send(.packet(request.packet, snapshot: nil), on: connection, toLeader: true)
        }
    }

    // MARK: Faults

    private mutating func inject(_ fault: Fault) {
        let ids = nodes.keys.sorted()
        switch fault {
        case .random:
            let up = ids.filter { nodes[$0]?.up == true && nodes[$0]?.paused == false }
            let down = ids.filter { nodes[$0]?.up == false }
            switch random.below(8) {
            case 0, 1:
                guard let id = pick(up) else { return }
                crash(id)
            case 7:
                // A power failure: every member at once, each losing what it had not synced.
                for id in up { crash(id) }
                for id in ids { schedule(.fault(.restartOne(id)), after: 200 + random.below(3_000)) }
            case 2:
                guard let id = pick(down) else { return }
                restart(id)
            case 3:
                guard let id = pick(ids) else { return }
                for other in ids where other != id {
                    network.cut.insert([id, other])
                    network.cut.insert([other, id])
                }
            case 4:
                guard let from = pick(ids), let to = pick(ids.filter { $0 != from }) else { return }
                network.cut.insert([from, to])
            case 5:
                network.cut.removeAll()
            default:
                guard let id = pick(up) else { return }
                nodes[id]?.paused = true
                schedule(.fault(.resume(id)), after: 300 + random.below(8_000))
            }
        case .resume(let id):
            resume(id)
        case .restartOne(let id):
            restart(id)
        case .healAll:
            healedAt = now
            network.cut.removeAll()
            for id in ids {
                resume(id)
                if nodes[id]?.up == false { restart(id) }
            }
            schedule(.probe, after: 100)
        }
    }

    private mutating func pick(_ ids: [Int64]) -> Int64? {
        ids.isEmpty ? nil : ids[Int(random.below(Int64(ids.count)))]
    }

    private mutating func resume(_ id: Int64) {
        guard let node = nodes[id], node.paused else { return }
        nodes[id]?.paused = false
        nodes[id]?.deferred = []
        for event in node.deferred { schedule(event, after: 0) }
    }

    /// SIGKILL: the process is gone with what its disk had not synced (but a random part of
    /// it, which the OS had written anyway); the kernel closes its streams.
    mutating func crash(_ id: Int64) {
        guard let node = nodes[id], node.up else { return }
        note("server.\(id) CRASHES at \(hex(node.tree.last ?? 0)) log \(node.disk.log.suffix(3).map { hex($0.zxid) + ($0.durable ? "" : "?") })")
        crashes += 1
        endRole(id)
        let unsynced = node.disk.log.filter { !$0.durable }.count
        nodes[id]?.disk.crash(keptUnsynced: Int(random.below(Int64(unsynced + 1))))
        nodes[id]?.up = false
        nodes[id]?.paused = false
        nodes[id]?.deferred = []
        nodes[id]?.incarnation += 1
        nodes[id]?.electionTimer += 1
        nodes[id]?.logged = []
        roles += 1
        nodes[id]?.role = roles
    }

    /// A new process on the same data directory: the tree is recovered from it, the election
    /// starts afresh.
    mutating func restart(_ id: Int64) {
        guard let node = nodes[id], !node.up else { return }
        note("server.\(id) restarts with \(hex(node.disk.lastZxid)) snapshot \(hex(node.disk.snapshot.last ?? 0)) log \(node.disk.log.suffix(3).map { hex($0.zxid) })")
        nodes[id]?.up = true
        nodes[id]?.tree = node.disk.recovered
        nodes[id]?.committedCount = 0
        nodes[id]?.election = Self.election(id, verifier)
        startLooking(id)
    }

    // MARK: Convergence

    /// After the heal: one established leader, every member serving under it with the same
    /// tree, and no write outstanding.
    var isConverged: Bool {
        let members = nodes.values
        guard members.allSatisfy({ $0.up && $0.serving }) else { return false }
        let leaders = members.filter { $0.leader?.isEstablished == true }
        guard leaders.count == 1, let leader = leaders.first else { return false }
        return members.allSatisfy { $0.tree == leader.tree && ($0.leader != nil || $0.leaderId == leader.id) }
            && clients.allSatisfy { $0.waiting == nil }
    }

    /// Looks for convergence after the heal; once there, the clients write for three more
    /// seconds, which must all be answered (the ensemble is live, not merely quiet).
    private mutating func probe() {
        guard convergedAt == nil else { return }
        guard now >= loadUntil && isConverged else { return schedule(.probe, after: 100) }
        convergedAt = now
        loadUntil = now + 3_000
        for client in clients.indices { schedule(.clientStep(client), after: random.below(100)) }
    }

    /// The end-of-run checks on top of ``failures``: the run converged within `bound`
    /// milliseconds of the heal; every acknowledged write is in the final tree; each client's
    /// writes are in the order it issued them; and writes are linearizable.
    func verdict(convergenceBound bound: Int64) -> [String] {
        var problems = failures
        guard let healedAt else { return problems + ["the faults never healed"] }
        guard let convergedAt, isConverged, let tree = nodes.values.first?.tree else {
            let states = nodes.values.sorted { $0.id < $1.id }.map { "server.\($0.id): up \($0.up) serving \($0.serving) zxid 0x\(String($0.tree.last ?? 0, radix: 16))" }
            return problems + ["no convergence after the heal at \(healedAt) (converged at \(convergedAt.map(String.init) ?? "never")): \(states)"]
        }
        if acknowledgedAfterConvergence == 0 { problems.append("no write was acknowledged after the ensemble converged") }
        if convergedAt - healedAt > bound { problems.append("converged \(convergedAt - healedAt) ms after the heal (bound \(bound))") }
        var position: [Int64: Int] = [:]
        for (index, zxid) in tree.enumerated() { position[zxid] = index }
        if history.count > tree.count || Array(tree.prefix(history.count)) != history {
            problems.append("the final tree (\(tree.count) transactions) does not extend the committed history (\(history.count))")
        }
        // Where each write ended up, if it committed.
        var committedAt: [ClientWrite: Int] = [:]
        for (index, zxid) in tree.enumerated() {
            guard let header = proposals[zxid]?.header, let client = clientOf(header.clientId) else { continue }
            committedAt[ClientWrite(client: client, cxid: header.cxid)] = index
        }
        for (write, record) in writes where record.ackedAt != nil {
            guard let zxid = record.zxid, position[zxid] != nil else {
                problems.append("client \(write.client)'s acknowledged write \(write.cxid) is not in the final tree")
                continue
            }
        }
        // FIFO within each client connection (across connections the real-time order below
        // covers what was acknowledged).
        var byConnection: [[Int]: [(Int, Int32)]] = [:]
        for (write, index) in committedAt {
            guard let record = writes[write] else { continue }
            byConnection[[write.client, record.connection], default: []].append((index, write.cxid))
        }
        for (key, committed) in byConnection {
            let order = committed.sorted { $0.0 < $1.0 }.map(\.1)
            if order != order.sorted() { problems.append("client \(key[0])'s writes on its connection \(key[1]) committed out of order: \(order)") }
        }
        // Real-time order: a write acknowledged before another was issued comes first.
        let acked = writes.compactMap { write, record in record.ackedAt.map { (write, $0) } }
        for (first, ackedAt) in acked {
            guard let firstAt = committedAt[first] else { continue }
            for (second, record) in writes where record.invokedAt > ackedAt {
                if let secondAt = committedAt[second], secondAt < firstAt {
                    problems.append("not linearizable: client \(first.client)'s write \(first.cxid) was acknowledged before client \(second.client)'s write \(second.cxid) began, but commits after it")
                    return problems
                }
            }
        }
        return problems
    }

    var acknowledgedWrites: Int { writes.values.filter { $0.ackedAt != nil }.count }
    var acknowledgedAfterConvergence: Int { writes.values.filter { ($0.ackedAt ?? 0) > (convergedAt ?? .max) }.count }
}
