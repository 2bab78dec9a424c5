import ZooKeeperProtocol

/// ZooKeeper 3.8's fast leader election (`FastLeaderElection.lookForLeader` and its
/// `WorkerReceiver`) as a pure state machine: notifications and timer expiries in, the
/// notifications to send, the timer to set and the outcome out.
///
/// The shell delivers every notification addressed to this server's own id back to it (as
/// ZooKeeper's connection manager loops them back: a server's own vote counts through its
/// queue), and keeps one timer: ``Action/setTimer(milliseconds:)`` replaces any earlier one.
public struct FastLeaderElection: Sendable {
    /// What the election needs to know of this server and its ensemble.
    public struct Configuration: Sendable {
        public var myid: Int64
        /// The committed membership (and, with reconfig, a newer last-seen one).
        public var verifier: QuorumVerifier
        public var lastSeenVerifier: QuorumVerifier?
        /// The configuration text sent with every notification (`QuorumVerifier.toString`).
        public var configText: String
        /// `zookeeper.fastleader.minNotificationInterval` and `maxNotificationInterval`.
        public var minimumNotificationInterval: Int64 = 200
        public var maximumNotificationInterval: Int64 = 60_000
        /// How long a quorum must stand with no better vote arriving (`finalizeWait`).
        public var finalizeWait: Int64 = 200

        public init(myid: Int64, verifier: QuorumVerifier, lastSeenVerifier: QuorumVerifier? = nil, configText: String = "") {
            self.myid = myid; self.verifier = verifier; self.lastSeenVerifier = lastSeenVerifier; self.configText = configText
        }

        /// Voters of the committed and the last-seen configuration (`getCurrentAndNextConfigVoters`).
        var allVoters: Set<Int64> { verifier.voters.union(lastSeenVerifier?.voters ?? []) }
        var isVoter: Bool { verifier.voters.contains(myid) }
    }

    public enum Event: Sendable {
        /// Start a new election round (the server became LOOKING), proposing itself with the
        /// tree's last zxid and the `currentEpoch` file's epoch.
        case start(lastLoggedZxid: Int64, currentEpoch: Int64)
        /// A notification from server `from` (this server's own included).
        case notification(from: Int64, ElectionNotification)
        /// The timer set last expired.
        case timerFired
        /// The shell could not reach voter `sid` (its election port refused or timed out):
        /// no vote will come from it until it says something.
        case peerUnreachable(Int64)
    }

    public enum Action: Hashable, Sendable {
        case send(to: Int64, ElectionNotification)
        case setTimer(milliseconds: Int64)
        /// The election is over: lead (state `.leading`) or follow or observe `vote.leader`.
        case elected(Vote, state: PeerState)
        /// While looking, a notification carried a configuration newer than this server's
        /// (`WorkerReceiver` calls `processReconfig`): the shell puts it in force, with
        /// ``reconfigure(_:vote:)``, if reconfig is enabled; the election goes on with it.
        case newerConfiguration(String)
    }

    public private(set) var configuration: Configuration
    /// LOOKING while an election runs; afterwards the state it ended in.
    public private(set) var state: PeerState = .looking
    /// The round (`logicalclock`): 0 before the first election, then one more per election.
    public private(set) var logicalClock: Int64 = 0
    /// The vote this server stands by outside an election (`QuorumPeer.currentVote`).
    public private(set) var currentVote: Vote
    /// Whether an election is running (between `.start` and `.elected`).
    public private(set) var running = false

    private var proposal = (leader: Int64(0), zxid: Int64(0), peerEpoch: Int64(0))
    private var initial = (leader: Int64(0), zxid: Int64(0), peerEpoch: Int64(0))
    private var received: [Int64: Vote] = [:]
    private var outOfElection: [Int64: Vote] = [:]
    private var notificationTimeout: Int64
    /// Set while a quorum agrees and the election waits `finalizeWait` for a better vote.
    private var finalizing = false
    /// Voters the shell could not reach in this round, and that have not been heard since.
    private var unreachable: Set<Int64> = []
    /// LOOKING notifications of a round newer than the last, received between elections: the
    /// round this server is about to join. ZooKeeper queues them (its state is LOOKING before
    /// `lookForLeader` runs); they are taken in at the next start, so the vote they carry is
    /// not lost to the race between a peer's notification and this server's own start.
    private var early: [Int64: ElectionNotification] = [:]

    public init(configuration: Configuration) {
        self.configuration = configuration
        self.notificationTimeout = configuration.minimumNotificationInterval
        self.currentVote = Vote(leader: configuration.myid, zxid: 0, electionEpoch: 0, peerEpoch: 0)
    }

    /// After synchronization the leader and each learner record the new epoch in the vote they
    /// answer LOOKING servers with (`QuorumPeer.updateElectionVote`).
    public mutating func updatePeerEpoch(_ epoch: Int64) {
        currentVote.peerEpoch = epoch
    }

    /// A new configuration is in force (`QuorumPeer.processReconfig` restarting the
    /// election): later rounds count its voters and send its text. `vote`, when given, is the
    /// designated leader this server now stands by and answers LOOKING servers with
    /// (`QuorumPeer.updateVote`).
    public mutating func reconfigure(_ configuration: Configuration, vote: Vote? = nil) {
        self.configuration = configuration
        if let vote { currentVote = vote }
    }

    /// Takes up `state` with `vote` without an election (`QuorumPeer.updateServerState` after
    /// a reconfiguration or a leader transfer named the leader): LOOKING servers are answered
    /// with them, so that they find the new leader.
    public mutating func standBy(_ vote: Vote, state: PeerState) {
        currentVote = vote
        self.state = state
        running = false
        finalizing = false
    }

    public mutating func receive(_ event: Event) -> [Action] {
        var actions: [Action] = []
        switch event {
        case .start(let zxid, let epoch):
            start(lastLoggedZxid: zxid, currentEpoch: epoch, into: &actions)
        case .notification(let sid, let notification):
            receive(notification, from: sid, into: &actions)
        case .timerFired:
            guard running else { break }
            if finalizing {
                finish(leader: proposal.leader, zxid: proposal.zxid, electionEpoch: logicalClock, peerEpoch: proposal.peerEpoch,
                       into: &actions)
            } else {
                // An empty poll: send the votes again, and wait twice as long next time.
                sendNotifications(into: &actions)
                notificationTimeout = min(notificationTimeout * 2, configuration.maximumNotificationInterval)
                actions.append(.setTimer(milliseconds: notificationTimeout))
            }
        case .peerUnreachable(let sid):
            guard running, configuration.allVoters.contains(sid) else { break }
            unreachable.insert(sid)
            if finalizing && everyReachableVoterAgrees() {
                finish(leader: proposal.leader, zxid: proposal.zxid, electionEpoch: logicalClock, peerEpoch: proposal.peerEpoch,
                       into: &actions)
            }
        }
        return actions
    }

    // MARK: Rounds

    private mutating func start(lastLoggedZxid: Int64, currentEpoch: Int64, into actions: inout [Action]) {
        if logicalClock == 0 {
            // Before its first election a server stands by itself (`QuorumPeer.startLeaderElection`).
            currentVote = Vote(leader: configuration.myid, zxid: lastLoggedZxid, electionEpoch: 0, peerEpoch: currentEpoch)
        }
        state = .looking
        running = true
        finalizing = false
        received = [:]
        outOfElection = [:]
        unreachable = []
        notificationTimeout = configuration.minimumNotificationInterval
        logicalClock += 1
        // A server that is not a voter proposes nobody (`getInitId` and friends).
        initial = configuration.isVoter ? (configuration.myid, lastLoggedZxid, currentEpoch) : (Int64.min, Int64.min, Int64.min)
        proposal = initial
        sendNotifications(into: &actions)
        actions.append(.setTimer(milliseconds: notificationTimeout))
        let waiting = early
        early = [:]
        for (sid, notification) in waiting.sorted(by: { $0.key < $1.key }) where running {
            receive(notification, from: sid, into: &actions)
        }
    }

    private func notification(_ vote: (leader: Int64, zxid: Int64, peerEpoch: Int64), electionEpoch: Int64,
                              state: PeerState) -> ElectionNotification {
        ElectionNotification(state: state, leader: vote.leader, zxid: vote.zxid, electionEpoch: electionEpoch,
                             peerEpoch: vote.peerEpoch, config: configuration.configText)
    }

    /// The own proposal to every voter, this server included.
    private func sendNotifications(into actions: inout [Action]) {
        for sid in configuration.allVoters.sorted() {
            actions.append(.send(to: sid, notification(proposal, electionEpoch: logicalClock, state: .looking)))
        }
    }

    private func isQuorum(_ votes: [Int64: Vote], agreeingWith vote: Vote) -> Bool {
        let agreeing = Set(votes.filter { $0.value.agrees(with: vote) }.keys)
        guard configuration.verifier.isQuorum(agreeing) else { return false }
        if let next = configuration.lastSeenVerifier, next.version > configuration.verifier.version {
            return next.isQuorum(agreeing)
        }
        return true
    }

    /// `checkLeader`: a leader other than this server must have said it leads; this server
    /// leads only from its own round.
    private func leaderConfirmed(_ votes: [Int64: Vote], leader: Int64, electionEpoch: Int64) -> Bool {
        if leader != configuration.myid { return votes[leader]?.state == .leading }
        return logicalClock == electionEpoch
    }

    private mutating func finish(leader: Int64, zxid: Int64, electionEpoch: Int64, peerEpoch: Int64, into actions: inout [Action]) {
        let outcome: PeerState = leader == configuration.myid ? .leading : (configuration.isVoter ? .following : .observing)
        let vote = Vote(leader: leader, zxid: zxid, electionEpoch: electionEpoch, peerEpoch: peerEpoch)
        state = outcome
        running = false
        finalizing = false
        currentVote = vote
        received = [:]
        outOfElection = [:]
        actions.append(.elected(vote, state: outcome))
    }

    // MARK: Notifications

    /// The version a configuration text ends with (`version=<hex>`), if any.
    static func version(of config: String) -> Int64? {
        guard let line = config.split(separator: "\n").last(where: { $0.hasPrefix("version=") }),
              let version = UInt64(line.dropFirst("version=".count), radix: 16) else { return nil }
        return Int64(bitPattern: version)
    }

    private mutating func receive(_ n: ElectionNotification, from sid: Int64, into actions: inout [Action]) {
        if running, let version = Self.version(of: n.config), version > configuration.verifier.version,
           version > (configuration.lastSeenVerifier?.version ?? Int64.min) {
            actions.append(.newerConfiguration(n.config))
        }
        let voters = configuration.allVoters
        unreachable.remove(sid)
        // WorkerReceiver: a server outside the voters is told at once where things stand, if
        // it is looking. ZooKeeper answers whatever it says; but an observer that observes
        // writes only to answer a LOOKING voter, and answering that answer made the two trade
        // notifications as fast as the network carries them for as long as the voter looked.
        guard voters.contains(sid) else {
            guard n.state == .looking else { return }
            actions.append(.send(to: sid, ElectionNotification(state: state, leader: currentVote.leader, zxid: currentVote.zxid,
                                                                electionEpoch: logicalClock, peerEpoch: currentVote.peerEpoch,
                                                                config: configuration.configText)))
            return
        }
        guard running else {
            // Not looking: answer a LOOKING server with the vote this server stands by.
            if n.state == .looking {
                actions.append(.send(to: sid, ElectionNotification(state: state, leader: currentVote.leader, zxid: currentVote.zxid,
                                                                    electionEpoch: currentVote.electionEpoch,
                                                                    peerEpoch: currentVote.peerEpoch, config: configuration.configText)))
                if n.electionEpoch > logicalClock { early[sid] = n }
            }
            return
        }
        if n.state == .looking && n.electionEpoch < logicalClock {
            actions.append(.send(to: sid, notification(proposal, electionEpoch: logicalClock, state: .looking)))
        }
        if finalizing {
            // Waiting out finalizeWait: a better vote reopens the election with it; anything
            // else is dropped and the wait starts again, as ZooKeeper's poll loop does.
            guard Vote.beats(leader: n.leader, zxid: n.zxid, peerEpoch: n.peerEpoch, currentLeader: proposal.leader,
                             currentZxid: proposal.zxid, currentPeerEpoch: proposal.peerEpoch) else {
                if n.state == .looking && n.electionEpoch == logicalClock {
                    // The last voter agreeing ends the wait (see everyReachableVoterAgrees).
                    received[sid] = Vote(leader: n.leader, zxid: n.zxid, electionEpoch: n.electionEpoch, peerEpoch: n.peerEpoch)
                    if everyReachableVoterAgrees() {
                        return finish(leader: proposal.leader, zxid: proposal.zxid, electionEpoch: logicalClock,
                                      peerEpoch: proposal.peerEpoch, into: &actions)
                    }
                }
                actions.append(.setTimer(milliseconds: configuration.finalizeWait))
                return
            }
            finalizing = false
        }
        guard voters.contains(n.leader) else {
            rearm(into: &actions)
            return
        }
        switch n.state {
        case .looking:
            looking(n, from: sid, into: &actions)
        case .observing:
            rearm(into: &actions)
        case .following, .leading:
            outOfElection(n, from: sid, into: &actions)
        }
    }

    private func rearm(into actions: inout [Action]) {
        actions.append(.setTimer(milliseconds: notificationTimeout))
    }

    private mutating func looking(_ n: ElectionNotification, from sid: Int64, into actions: inout [Action]) {
        if initial.zxid == -1 || n.zxid == -1 { return rearm(into: &actions) }
        if n.electionEpoch > logicalClock {
            logicalClock = n.electionEpoch
            received = [:]
            if Vote.beats(leader: n.leader, zxid: n.zxid, peerEpoch: n.peerEpoch, currentLeader: initial.leader,
                          currentZxid: initial.zxid, currentPeerEpoch: initial.peerEpoch) {
                proposal = (n.leader, n.zxid, n.peerEpoch)
            } else {
                proposal = initial
            }
            sendNotifications(into: &actions)
        } else if n.electionEpoch < logicalClock {
            return rearm(into: &actions)
        } else if Vote.beats(leader: n.leader, zxid: n.zxid, peerEpoch: n.peerEpoch, currentLeader: proposal.leader,
                             currentZxid: proposal.zxid, currentPeerEpoch: proposal.peerEpoch) {
            proposal = (n.leader, n.zxid, n.peerEpoch)
            sendNotifications(into: &actions)
        }
        received[sid] = Vote(leader: n.leader, zxid: n.zxid, electionEpoch: n.electionEpoch, peerEpoch: n.peerEpoch)
        let mine = Vote(leader: proposal.leader, zxid: proposal.zxid, electionEpoch: logicalClock, peerEpoch: proposal.peerEpoch)
        if isQuorum(received, agreeingWith: mine) {
            if everyReachableVoterAgrees() {
                // No better vote can come: every voter that can vote has, for this one.
                return finish(leader: proposal.leader, zxid: proposal.zxid, electionEpoch: logicalClock,
                              peerEpoch: proposal.peerEpoch, into: &actions)
            }
            finalizing = true
            actions.append(.setTimer(milliseconds: configuration.finalizeWait))
        } else {
            rearm(into: &actions)
        }
    }

    /// Whether every voter has voted for the proposal, except those the shell could not
    /// reach: then finalizeWait could bring no better vote (each voter's proposal beats its
    /// own initial vote), and the election ends at once. ZooKeeper always waits; the outcome is
    /// the one it reaches when no vote arrives during the wait.
    private func everyReachableVoterAgrees() -> Bool {
        let mine = Vote(leader: proposal.leader, zxid: proposal.zxid, electionEpoch: logicalClock, peerEpoch: proposal.peerEpoch)
        return configuration.allVoters.allSatisfy { unreachable.contains($0) || received[$0]?.agrees(with: mine) == true }
    }

    /// `receivedFollowingNotification`: votes of servers that already follow or lead.
    private mutating func outOfElection(_ n: ElectionNotification, from sid: Int64, into actions: inout [Action]) {
        let theirs = Vote(leader: n.leader, zxid: n.zxid, electionEpoch: n.electionEpoch, peerEpoch: n.peerEpoch, state: n.state,
                          version: n.version)
        if n.electionEpoch == logicalClock {
            received[sid] = Vote(leader: n.leader, zxid: n.zxid, electionEpoch: n.electionEpoch, peerEpoch: n.peerEpoch, state: n.state)
            if isQuorum(received, agreeingWith: theirs) && leaderConfirmed(received, leader: n.leader, electionEpoch: n.electionEpoch) {
                return finish(leader: n.leader, zxid: n.zxid, electionEpoch: n.electionEpoch, peerEpoch: n.peerEpoch, into: &actions)
            }
        }
        outOfElection[sid] = theirs
        if isQuorum(outOfElection, agreeingWith: theirs) && leaderConfirmed(outOfElection, leader: n.leader, electionEpoch: n.electionEpoch) {
            logicalClock = n.electionEpoch
            return finish(leader: n.leader, zxid: n.zxid, electionEpoch: n.electionEpoch, peerEpoch: n.peerEpoch, into: &actions)
        }
        rearm(into: &actions)
    }
}
