import Configuration
import Consensus
import DataTree
import Foundation
import Logging
import Operations
import NIOCore
import NIOPosix
import ServerCore
import Storage
import ZooKeeperProtocol

/// A member of an ensemble (`QuorumPeer.run`): elects a leader with the other members, then
/// follows or observes it, and elects again whenever that ends. The client port belongs to the
/// ``AviaryServer``; clients are served only while this member is part of a serving quorum.
///
/// Everything runs on the server's core loop.
final class QuorumPeer: @unchecked Sendable {
    /// What the member is doing now, as `srvr` and `mntr` show it.
    enum State: Equatable {
        case looking
        case following(leader: Int64)
        case observing(leader: Int64)
        case leading
    }

    unowned let server: AviaryServer
    let myid: Int64
    let me: ServerSpec
    /// The configuration in force (`getQuorumVerifier`), and the newest seen, which differs
    /// while a reconfig is proposed and not committed (`getLastSeenQuorumVerifier`).
    var membership: Membership
    var lastSeenMembership: Membership
    /// The voters and observers of the configuration in force.
    var verifier: QuorumVerifier { Self.verifier(membership) }
    let election: ElectionNode
    let epochs: EpochFiles
    var logger: Logger { server.logger }
    private(set) var state: State = .looking
    /// The connection to the leader, while following or observing.
    var learner: LearnerLink?
    /// Leadership of the current epoch, while leading.
    var leader: EnsembleLeader?
    /// Whether this member observes. A server the configuration no longer lists follows as a
    /// non-voting participant, as ZooKeeper's `updateLearnerType` leaves it.
    var isObserver: Bool { membership.servers[myid]?.role == "observer" }
    /// The leader a reconfig named (`updateVote`): the next role starts with it, without an
    /// election (`QuorumPeer.updateServerState` with the reconfig flag set).
    var designatedLeader: Int64?
    private var electionStartedAt: UInt64 = 0
    /// Since when this member has not served clients (`unavailableStartTime`); nil while serving.
    private var unavailableSince: UInt64? = DispatchTime.now().uptimeNanoseconds
    /// What `/metrics` shows under ZooKeeper's quorum metric names.
    var statistics = QuorumStatistics()
    private var stopped = false
    /// The epochs of `currentEpoch` and `acceptedEpoch`, as last written.
    private(set) var currentEpoch: Int64 = 0
    private(set) var acceptedEpoch: Int64 = 0

    init(server: AviaryServer, myid: Int64, me: ServerSpec) throws {
        self.server = server
        self.myid = myid
        self.me = me
        let config = server.configuration
        self.membership = config.membership
        self.lastSeenMembership = Self.pendingMembership(config) ?? config.membership
        self.epochs = EpochFiles(directory: server.dataDirectory.snapshotDirectory)
        let lastSeen = lastSeenMembership.version > membership.version ? Self.verifier(lastSeenMembership) : nil
        let core = FastLeaderElection(configuration: .init(myid: myid, verifier: Self.verifier(config.membership),
                                                           lastSeenVerifier: lastSeen, configText: config.membership.text))
        self.election = ElectionNode(core: core, peers: Self.electionPeers(config.membership),
                                     loop: server.coreLoop, connectTimeoutMillis: Int64(config.connectTimeoutMs), logger: server.logger)
        self.election.tls = server.quorumTLS
        self.election.quorumAuth = server.quorumAuth
    }

    /// A reconfig proposed and not known to be committed when the server last ran: its
    /// `zoo.cfg.dynamic.next` (with reconfig enabled), when newer than the configuration in force.
    static func pendingMembership(_ config: ServerConfiguration) -> Membership? {
        guard config.reconfigEnabled, let file = config.filePath,
              let text = try? String(contentsOfFile: DynamicConfigFile.nextPath(forConfig: file), encoding: .utf8),
              let next = try? Membership(parsing: text), next.version > config.configVersion, !next.servers.isEmpty else { return nil }
        return next
    }

    /// A configuration's voters and observers.
    static func verifier(_ membership: Membership) -> QuorumVerifier {
        QuorumVerifier(voters: Set(membership.voters.map(\.id)), observers: Set(membership.observers.map(\.id)), version: membership.version)
    }

    /// Where a configuration's members listen for election connections.
    static func electionPeers(_ membership: Membership) -> [ElectionNode.Peer] {
        membership.servers.values.map { .init(id: $0.id, host: $0.host, port: $0.electionPort) }
    }

    /// Binds the election port and starts the first election.
    func start() async throws {
        let config = server.configuration
        election.newerConfiguration = { [unowned self] text in
            // A member that was away during a reconfig learns it from its peers' notifications
            // and elects with it (`processReconfig` from `WorkerReceiver`).
            // No leader is named: the election goes on and decides.
            _ = activate(Array(text.utf8), designatedLeader: nil, zxid: nil, currentLeader: -1)
        }
        try await election.listen(host: config.quorumListenOnAllIPs ? "0.0.0.0" : me.host, port: me.electionPort)
        try await server.coreLoop.submit { [self] in
            // A data directory from a standalone server has no epoch files: they start at the
            // epoch of its last zxid, as ZooKeeper's loadDataBase writes them.
            let loaded = try epochs.load(lastProcessedZxid: server.core.tree.lastProcessedZxid)
            for note in loaded.notes { logger.info("\(note)") }
            currentEpoch = loaded.currentEpoch
            acceptedEpoch = loaded.acceptedEpoch
            lookForLeader()
        }.get()
    }

    func stop() {
        stopped = true
        learner?.close()
        learner = nil
        leader?.close()
        leader = nil
    }

    /// Writes `currentEpoch` or `acceptedEpoch` durably; false (and logged) when it cannot.
    func writeEpoch(_ name: String, _ epoch: Int64) -> Bool {
        do {
            try epochs.write(name, epoch)
        } catch {
            logger.error("cannot write \(name): \(error)")
            return false
        }
        if name == EpochFiles.current { currentEpoch = epoch } else { acceptedEpoch = epoch }
        return true
    }

    // MARK: Election

    /// Back to LOOKING: clients are no longer served until a leader is followed again.
    func lookForLeader() {
        guard !stopped else { return }
        peerViewTask?.cancel()
        leaderPeerView = nil
        state = .looking
        server.stopServing()
        electionStartedAt = DispatchTime.now().uptimeNanoseconds
        if unavailableSince == nil { unavailableSince = electionStartedAt }
        statistics.lookingCount += 1
        server.events.publish("election_started", ["myid": String(myid), "zxid": hex(server.core.tree.lastProcessedZxid)])
        scheduleReadOnly()
        logger.info("LOOKING: election as server.\(myid) at zxid 0x\(hex(server.core.tree.lastProcessedZxid)), epoch \(currentEpoch)")
        election.start(lastLoggedZxid: server.core.tree.lastProcessedZxid, currentEpoch: currentEpoch) { [self] vote, state in
            server.coreLoop.execute { self.elected(vote, state) }
        }
    }

    private func elected(_ vote: Vote, _ outcome: PeerState) {
        guard !stopped else { return }
        readOnlyRound += 1
        server.stopReadOnly()
        let millis = (DispatchTime.now().uptimeNanoseconds - electionStartedAt) / 1_000_000
        if outcome != .looking { statistics.electionTime.record(Int64(millis)) }
        server.events.publish("election_finished", ["myid": String(myid), "leader": String(vote.leader),
                                                    "state": "\(outcome)", "millis": String(millis)])
        server.events.publish("leader_elected", ["leader": String(vote.leader), "zxid": hex(vote.zxid), "epoch": String(vote.peerEpoch)])
        switch outcome {
        case .following, .observing:
            guard let leader = membership.servers[vote.leader] ?? lastSeenMembership.servers[vote.leader] else {
                logger.error("elected server.\(vote.leader), which is not in the configuration; electing again")
                return retryElection()
            }
            // A server the configuration no longer lists follows without a vote (ZooKeeper's
            // `learningState` goes by the learner type, which stays participant).
            state = isObserver ? .observing(leader: vote.leader) : .following(leader: vote.leader)
            logger.info("\(isObserver ? "OBSERVING" : "FOLLOWING") server.\(vote.leader) at \(leader.host):\(leader.quorumPort) (election took \(millis) ms)")
            let link = LearnerLink(peer: self, leaderId: vote.leader, host: leader.host, port: leader.quorumPort)
            learner = link
            link.connect()
        case .leading:
            state = .leading
            logger.info("LEADING (election took \(millis) ms)")
            let leadership = EnsembleLeader(peer: self)
            leader = leadership
            leadership.start()
        case .looking:
            retryElection()
        }
    }

    /// Bumped by each election outcome, so that a read-only start planned for an earlier
    /// LOOKING spell does not happen.
    private var readOnlyRound = 0

    /// With `readonlymode.enabled`, a member still LOOKING after max(2 s, tickTime) serves
    /// read-only clients until the election ends (`QuorumPeer.run`'s roZkMgr).
    private func scheduleReadOnly() {
        let config = server.configuration
        guard config.readOnlyModeEnabled else { return }
        let round = readOnlyRound
        server.coreLoop.scheduleTask(in: .milliseconds(Int64(max(2000, config.tickTime)))) { [self] in
            guard !stopped, round == readOnlyRound, state == .looking else { return }
            server.startReadOnly()
        }
    }

    private func retryElection(after millis: Int64 = 0) {
        server.coreLoop.scheduleTask(in: .milliseconds(millis)) { [self] in lookForLeader() }
    }

    /// What `mntr` and the AdminServer show of this member.
    var figures: EnsembleFigures {
        let quorumSize = verifier.voters.count
        var figures: EnsembleFigures
        switch state {
        case .looking:
            figures = EnsembleFigures(peerState: "looking", quorumSize: quorumSize)
        case .following(let leaderId), .observing(let leaderId):
            figures = EnsembleFigures(peerState: isObserver ? "observing" : "following", quorumSize: quorumSize)
            figures.zabState = learner?.zabState ?? "discovery"
            figures.leaderLastHeardMillis = learner?.lastHeard
            // The leader's view of the other members, while it is fresh (three fetches).
            if let view = leaderPeerView, AviaryServer.now().monotonicMillis - view.at <= 3 * Int64(max(server.configuration.tickTime, 1000)) {
                figures.leaderPeerView = view.text
            }
            figures.leaderId = leaderId
            figures.leaderHost = membership.servers[leaderId]?.host
        case .leading:
            figures = EnsembleFigures(peerState: "leading", quorumSize: quorumSize)
            if let leader {
                let role = leader.core
                figures.learners = role.learnerCount
                figures.syncedFollowers = role.syncedFollowers
                figures.syncedObservers = role.syncedObservers
                figures.pendingSyncs = role.pendingSyncCount
                figures.leaderUptime = leader.establishedAt.map { DispatchTime.now().uptimeNanoseconds / 1_000_000 - $0 }.map(Int64.init)
                figures.learnerViews = leader.learnerViews
                switch role.discovery.phase {
                case .proposingEpoch, .awaitingEpochAcks, .failed: figures.zabState = "discovery"
                case .awaitingNewLeaderAcks:
                    figures.zabState = "synchronization"
                case .established:
                    figures.zabState = "broadcast"
                }
                // ZooKeeper names the leader only once the epoch is agreed.
                if figures.zabState != "discovery" {
                    figures.leaderId = myid
                    figures.leaderHost = me.host
                }
            }
        }
        // `getDetailedPeerState`: the ZAB phase follows the peer state outside an election.
        if figures.zabState != "election" { figures.peerState += " - \(figures.zabState)" }
        figures.myid = myid
        figures.voting = verifier.voters.contains(myid)
        figures.statistics = statistics
        return figures
    }

    /// The link to the leader ended (`Follower.followLeader` returned): elect again.
    func learnerEnded(_ link: LearnerLink, reason: String) {
        guard learner === link else { return }
        learner = nil
        logger.warning("leaving the leader server.\(link.leaderId): \(reason)")
        server.events.publish("learner_lost_leader", ["leader": String(link.leaderId), "reason": reason])
        nextRole()
    }

    /// After a reconfig that named a leader, starts following (or leading) it at once;
    /// otherwise elects.
    private func nextRole() {
        guard let designated = designatedLeader else { return lookForLeader() }
        designatedLeader = nil
        guard !stopped else { return }
        state = .looking
        server.stopServing()
        electionStartedAt = DispatchTime.now().uptimeNanoseconds
        if unavailableSince == nil { unavailableSince = electionStartedAt }
        let outcome: PeerState = designated == myid ? .leading : (isObserver ? .observing : .following)
        election.standBy(Vote(leader: designated, zxid: server.core.tree.lastProcessedZxid, electionEpoch: -1, peerEpoch: currentEpoch),
                         state: outcome)
        logger.info("the reconfiguration names server.\(designated) leader: \(outcome) without an election")
        elected(Vote(leader: designated, zxid: server.core.tree.lastProcessedZxid, electionEpoch: 0, peerEpoch: currentEpoch), outcome)
    }

    /// Leadership ended (`Leader.lead` returned): what was logged and not committed joins the
    /// tree, as ZooKeeper fast-forwards its database, and the member elects again.
    func leaderEnded(_ leadership: EnsembleLeader, reason: String) {
        guard leader === leadership else { return }
        leader = nil
        logger.warning("no longer leading: \(reason)")
        server.events.publish("leader_stepped_down", ["reason": reason])
        server.stopServing()
        do {
            let tree = try server.reloadTree()
            server.resetCore(role: .standalone, tree: tree)
        } catch {
            logger.error("cannot reload the tree from the data directory after leading: \(error)")
        }
        nextRole()
    }

    /// The leader's view of every member (its `peer` answer) and when it came, while this
    /// server follows or observes an Aviary leader.
    private(set) var leaderPeerView: (text: String, at: Int64)?
    private var peerViewTask: RepeatedTask?

    /// Fetches the leader's `peer` each tick while this server follows or observes it.
    private func followLeaderPeerView() {
        peerViewTask?.cancel()
        leaderPeerView = nil
        let leaderId: Int64
        switch state {
        case .following(let id), .observing(let id): leaderId = id
        case .looking, .leading: return
        }
        guard let leader = membership.servers[leaderId] ?? lastSeenMembership.servers[leaderId], let port = leader.clientPort else { return }
        let host = leader.clientAddress.flatMap { $0 == "0.0.0.0" ? nil : $0 } ?? leader.host
        let interval = TimeAmount.milliseconds(Int64(max(server.configuration.tickTime, 1000)))
        let loop = server.coreLoop
        peerViewTask = loop.scheduleRepeatedTask(initialDelay: .zero, delay: interval) { [weak self] task in
            guard let self, !self.stopped, self.learner != nil else { return task.cancel() }
            LeaderPeerView.fetch(host: host, port: port, on: loop, timeout: interval) { text in
                loop.execute { [weak self] in
                    guard let self, let text, self.learner != nil else { return }
                    self.leaderPeerView = (text, AviaryServer.now().monotonicMillis)
                }
            }
        }
    }

    /// The learner is synchronized with its leader in `epoch`: vote with it from now on.
    func serving(epoch: Int64) {
        election.updatePeerEpoch(epoch)
        followLeaderPeerView()
        if let since = unavailableSince {
            unavailableSince = nil
            let millis = Int64((DispatchTime.now().uptimeNanoseconds - since) / 1_000_000)
            statistics.unavailableTime.record(millis)
            if state == .leading { statistics.leaderUnavailableTime.record(millis) }
        }
    }
}

func hex(_ value: Int64) -> String { String(UInt64(bitPattern: value), radix: 16) }
