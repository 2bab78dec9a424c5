import Consensus
import ZooKeeperProtocol

/// One leader and its learners (followers, and observers if asked for) in a seeded world: FIFO
/// links with random delays (ZAB runs over TCP), disks whose writes become durable after a
/// random delay, learners that crash (losing what was not durable) and come back, and
/// learners' `sync` requests. The tree is modelled by the zxids applied to it.
struct ZabSimulation {
    typealias Random = ElectionSimulation.Random

    struct Disk {
        var acceptedEpoch: Int64 = 0
        var currentEpoch: Int64 = 0
        /// The zxids in the newest snapshot, and the durable log after it.
        var snapshot: [Int64] = []
        var log: [Int64] = []
        var lastLogged: Int64 { log.last ?? snapshot.last ?? 0 }
    }

    struct Follower {
        var learner: Learner
        var disk = Disk()
        /// The tree: zxids applied, in order.
        var applied: [Int64] = []
        /// Logged but not yet durable.
        var pending: [Int64] = []
        var connected = true
        var serving = false
        var generation = 0
        var isObserver = false
    }

    enum Payload {
        case toLeader(from: Int64, QuorumPacket, term: Int)
        case toFollower(Int64, QuorumPacket, generation: Int)
        case leaderDurable(Int64, term: Int)
        case followerDurable(Int64, Int64, generation: Int)
        case write(Int)
        /// A client's `sync` through this learner: forwarded to the leader as a REQUEST.
        case sync(Int64)
        case crash(Int64)
        case restart(Int64)
        case failOver
        /// The leader's half tick (tickTime 500 ms, so every 250 ms).
        case leaderTick(term: Int)
    }

    struct Scheduled {
        var at: Int64
        var sequence: Int
        var payload: Payload
    }

    var random: Random
    var now: Int64 = 0
    var sequence = 0
    var queue: [Scheduled] = []
    /// The time the last message on each link (or write on each disk) arrives, so that links
    /// and disks stay FIFO.
    var linkTail: [String: Int64] = [:]
    var leader: LeaderRole
    var leaderApplied: [Int64] = []
    var leaderServing = false
    var followers: [Int64: Follower] = [:]
    var failures: [String] = []
    var leaderId: Int64 = 3
    /// Bumped when a leader is replaced, so that its messages in flight are dropped.
    var term = 0
    /// Every proposal ever made, by zxid, so that a new leader can rebuild its log.
    var proposals: [Int64: Learner.Proposal] = [:]
    /// The leader's own durable log (its tree is `leaderApplied`).
    var leaderLog: [Int64] = []
    let voters: Set<Int64>
    let observerIds: Set<Int64>
    /// For each learner's SYNCs the leader has received and not yet answered, in order: the
    /// zxid proposed last when it came, which the learner must have applied when the answer
    /// reaches it.
    var syncsAwaited: [Int64: [Int64]] = [:]
    /// SYNC answers that reached their learner; SYNCs each learner sent and has no answer to
    /// yet; SYNCs whose learner crashed before the answer came (its client sees the
    /// connection drop).
    var syncsAnswered = 0
    var syncsOutstanding: [Int64: Int] = [:]
    var syncsLost = 0
    /// Writes handed to a serving leader, by term.
    var writesIssued: [Int: Int] = [:]
    /// Followers cut off from the leader: their packets, both ways, are lost (the connection
    /// stays up, as with a partition or a paused process).
    var cut: Set<Int64> = []
    /// When the leader stepped down for not hearing a quorum, and why.
    var steppedDown: (at: Int64, reason: String)?

    init(seed: UInt64, followerIds: [Int64] = [1, 2], observerIds: [Int64] = []) {
        random = Random(state: seed)
        voters = Set(followerIds + [3])
        self.observerIds = Set(observerIds)
        let verifier = QuorumVerifier(voters: voters, observers: self.observerIds)
        leader = LeaderRole(verifier: verifier, leader: .init(myid: 3, acceptedEpoch: 0, currentEpoch: 0, lastProcessedZxid: 0),
                            committedLog: [])
        for id in followerIds + observerIds {
            let observer = self.observerIds.contains(id)
            followers[id] = Follower(learner: Learner(configuration: .init(myid: id, isObserver: observer),
                                                      disk: .init(acceptedEpoch: 0, currentEpoch: 0, lastLoggedZxid: 0)),
                                     isObserver: observer)
        }
    }

    mutating func schedule(_ payload: Payload, after delay: Int64, link: String? = nil) {
        var at = now + delay
        if let link {
            at = max(at, linkTail[link] ?? 0)
            linkTail[link] = at
        }
        sequence += 1
        queue.append(Scheduled(at: at, sequence: sequence, payload: payload))
    }

    mutating func start(writes: Int) {
        schedule(.leaderTick(term: term), after: 250)
        leaderActions(leader.receive(.start))
        for id in followers.keys.sorted() { followerActions(id, followers[id]?.learner.receive(.connected) ?? []) }
        for n in 0..<writes { schedule(.write(n), after: 50 + random.below(2_000)) }
    }

    // MARK: The leader

    mutating func leaderActions(_ actions: [LeaderRole.Action]) {
        for action in actions {
            switch action {
            case .send(let sid, let packet):
                guard let follower = followers[sid], follower.connected else { continue }
                schedule(.toFollower(sid, packet, generation: follower.generation), after: random.below(20), link: "\(leaderId)>\(sid)")
            case .sendSnapshot(let sid, let zxid):
                guard let follower = followers[sid], follower.connected else { continue }
                schedule(.toFollower(sid, QuorumPacket(.snap, zxid: zxid), generation: follower.generation), after: random.below(20),
                         link: "\(leaderId)>\(sid)")
            case .log(let proposal):
                proposals[proposal.header.zxid] = proposal
                schedule(.leaderDurable(proposal.header.zxid, term: term), after: 1 + random.below(10), link: "disk\(leaderId)")
            case .commit(let zxid):
                leaderApplied.append(zxid)
            case .serving:
                leaderServing = true
            case .writeAcceptedEpoch, .writeCurrentEpoch, .touchSessions, .request, .revalidate, .readTxnLog, .activate, .transferred, .transferRefused:
                break
            case .closeLearner(let sid, let reason):
                failures.append("leader closed server.\(sid): \(reason)")
            case .fail(let reason) where reason.hasPrefix("not hearing a quorum"):
                if steppedDown == nil { steppedDown = (now, reason) }
                leaderServing = false
            case .fail(let reason):
                failures.append("leader: \(reason)")
            }
        }
    }

    // MARK: Followers

    mutating func followerActions(_ id: Int64, _ actions: [Learner.Action]) {
        for action in actions {
            guard var follower = followers[id] else { return }
            switch action {
            case .send(let packet):
                schedule(.toLeader(from: id, packet, term: term), after: random.below(20), link: "\(id)>\(leaderId)")
            case .answerPing(let zxid):
                schedule(.toLeader(from: id, QuorumPacket(.ping, zxid: zxid, data: []), term: term), after: random.below(20),
                         link: "\(id)>\(leaderId)")
            case .writeAcceptedEpoch(let epoch):
                follower.disk.acceptedEpoch = epoch
            case .writeCurrentEpoch(let epoch):
                follower.disk.currentEpoch = epoch
            case .loadSnapshot(let zxid):
                // The leader's tree as of zxid (the SNAP stream).
                follower.applied = leaderApplied.filter { $0 <= zxid }
                follower.pending = []
                followers[id] = follower
                followerActions(id, followers[id]?.learner.receive(.snapshotLoaded) ?? [])
                continue
            case .truncate(let zxid):
                follower.disk.log.removeAll { $0 > zxid }
                follower.applied = (follower.disk.snapshot + follower.disk.log).filter { $0 <= zxid }
            case .applyUnlogged(let proposal):
                follower.applied.append(proposal.header.zxid)
            case .log(let proposal):
                follower.pending.append(proposal.header.zxid)
                schedule(.followerDurable(id, proposal.header.zxid, generation: follower.generation), after: 1 + random.below(10),
                         link: "disk\(id)")
            case .commit(let zxid):
                follower.applied.append(zxid)
            case .takeSnapshot:
                follower.disk.snapshot = follower.applied
                follower.disk.log = []
            case .sawConfiguration, .activate, .handOver:
                break  // no reconfiguration or leader transfer here
            case .serving:
                follower.serving = true
            case .fail(let reason):
                failures.append("server.\(id): \(reason)")
            }
            followers[id] = follower
        }
    }

    mutating func crash(_ id: Int64) {
        guard var follower = followers[id] else { return }
        follower.connected = false
        follower.serving = false
        follower.generation += 1
        follower.pending = []
        followers[id] = follower
        linkTail["\(leaderId)>\(id)"] = nil
        linkTail["\(id)>\(leaderId)"] = nil
        linkTail["disk\(id)"] = nil
        syncsAwaited[id] = nil
        syncsLost += syncsOutstanding.removeValue(forKey: id) ?? 0
        leaderActions(leader.receive(.learnerLost(id)))
    }

    mutating func restart(_ id: Int64) {
        guard var follower = followers[id] else { return }
        // Recovery: the snapshot, then the durable log replayed (committed or not).
        follower.applied = follower.disk.snapshot + follower.disk.log
        followers[id] = follower
        reconnect(id)
    }

    /// A fresh learner from what the follower's disk holds, connected to the leader.
    mutating func reconnect(_ id: Int64) {
        guard var follower = followers[id] else { return }
        follower.learner = Learner(configuration: .init(myid: id, isObserver: follower.isObserver),
                                   disk: .init(acceptedEpoch: follower.disk.acceptedEpoch, currentEpoch: follower.disk.currentEpoch,
                                               lastLoggedZxid: follower.disk.lastLogged))
        follower.connected = true
        followers[id] = follower
        followerActions(id, followers[id]?.learner.receive(.connected) ?? [])
    }

    /// The leader dies (what its disk had not written is lost with it). The followers' disks
    /// finish what they were writing; both go LOOKING and run ``FastLeaderElection`` with what
    /// their disks hold (last logged zxid, currentEpoch) over a lossy network of their own, the
    /// dead leader silent. The winner leads the other in a new epoch.
    mutating func failOver() {
        let survivors = followers.keys.sorted()
        term += 1
        leaderServing = false
        var candidates: [(id: Int64, epoch: Int64, zxid: Int64)] = []
        for id in survivors {
            guard var follower = followers[id] else { continue }
            follower.disk.log += follower.pending
            follower.pending = []
            follower.generation += 1
            follower.serving = false
            // Leaving a role reloads the tree from disk: the snapshot and the whole log.
            follower.applied = follower.disk.snapshot + follower.disk.log
            followers[id] = follower
            if voters.contains(id) { candidates.append((id, follower.disk.currentEpoch, follower.disk.lastLogged)) }
        }
        linkTail = [:]
        syncsAwaited = [:]
        var election = ElectionSimulation(voters: voters.sorted(), seed: random.next(),
                                          faults: .init(lossPercent: 10, duplicatePercent: 5, maximumDelay: 40))
        election.down = [leaderId]
        for candidate in candidates { election.start(candidate.id, zxid: candidate.zxid, epoch: candidate.epoch) }
        election.run(until: now + 600_000)
        let leaders = Set(election.outcomes.values.map(\.vote.leader))
        guard election.outcomes.count == candidates.count, leaders.count == 1, let chosen = leaders.first,
              let winner = candidates.first(where: { $0.id == chosen }) else {
            failures.append("the survivors' election ended with \(election.outcomes.count) outcomes for leaders \(leaders)")
            return
        }
        guard let elected = followers.removeValue(forKey: winner.id) else { return }
        leaderId = winner.id
        leaderApplied = elected.applied
        leaderLog = elected.applied
        leader = LeaderRole(verifier: QuorumVerifier(voters: voters, observers: observerIds),
                            leader: .init(myid: winner.id, acceptedEpoch: elected.disk.acceptedEpoch, currentEpoch: elected.disk.currentEpoch,
                                          lastProcessedZxid: elected.disk.lastLogged),
                            committedLog: elected.applied.compactMap { proposals[$0] })
        leaderActions(leader.receive(.start))
        schedule(.leaderTick(term: term), after: 250)
        for id in followers.keys.sorted() { reconnect(id) }
    }

    mutating func run(until limit: Int64) {
        while let next = queue.min(by: { ($0.at, $0.sequence) < ($1.at, $1.sequence) }), next.at <= limit {
            queue.removeAll { $0.sequence == next.sequence }
            now = max(now, next.at)
            switch next.payload {
            case .toLeader(let sid, let packet, let sentTerm):
                guard followers[sid]?.connected == true, sentTerm == term, !cut.contains(sid), steppedDown == nil else { continue }
                if packet.kind == .request, let request = try? LearnerRequest(packet: packet), request.type == OpCode.sync.rawValue {
                    syncsAwaited[sid, default: []].append(leader.nextZxid - 1)
                }
                leaderActions(leader.receive(.packet(from: sid, packet)))
            case .toFollower(let sid, let packet, let generation):
                guard let follower = followers[sid], follower.connected, follower.generation == generation, !cut.contains(sid) else { continue }
                if packet.kind == .sync {
                    // The shell answers the client; what it reads next must include every
                    // transaction proposed before the leader saw the SYNC.
                    guard let expected = syncsAwaited[sid]?.first else {
                        failures.append("t=\(now) server.\(sid) got a SYNC answer it did not ask for")
                        continue
                    }
                    syncsAwaited[sid]?.removeFirst()
                    syncsAnswered += 1
                    syncsOutstanding[sid, default: 0] -= 1
                    if proposals[expected] != nil && !follower.applied.contains(expected) {
                        failures.append("t=\(now) server.\(sid)'s SYNC was answered before it applied 0x\(String(expected, radix: 16))")
                    }
                    continue
                }
                followerActions(sid, followers[sid]?.learner.receive(.packet(packet)) ?? [])
            case .leaderDurable(let zxid, let sentTerm):
                guard sentTerm == term else { continue }
                leaderLog.append(zxid)
                leaderActions(leader.receive(.durable(upTo: zxid)))
            case .followerDurable(let sid, let zxid, let generation):
                guard var follower = followers[sid], follower.generation == generation, follower.pending.first == zxid else { continue }
                follower.pending.removeFirst()
                follower.disk.log.append(zxid)
                followers[sid] = follower
                followerActions(sid, followers[sid]?.learner.receive(.durable(upTo: zxid)) ?? [])
            case .write(let n):
                if !leaderServing {
                    schedule(.write(n), after: 100)
                    continue
                }
                writesIssued[term, default: 0] += 1
                let header = TxnHeader(clientId: 1, cxid: Int32(n), zxid: leader.nextZxid, time: now, type: OpCode.setData.rawValue)
                leaderActions(leader.receive(.propose(header, .setData(path: "/k\(n % 7)", data: [UInt8(n % 256)], version: Int32(n)))))
            case .sync(let sid):
                guard let follower = followers[sid], follower.serving, follower.connected else {
                    schedule(.sync(sid), after: 100)
                    continue
                }
                syncsOutstanding[sid, default: 0] += 1
                let request = LearnerRequest(sessionId: sid, cxid: 0, type: OpCode.sync.rawValue, body: [], authInfo: [])
                schedule(.toLeader(from: sid, request.packet, term: term), after: random.below(20), link: "\(sid)>\(leaderId)")
            case .crash(let sid):
                crash(sid)
            case .restart(let sid):
                restart(sid)
            case .failOver:
                failOver()
            case .leaderTick(let sentTerm):
                guard sentTerm == term, steppedDown == nil else { continue }
                leaderActions(leader.receive(.halfTick))
                schedule(.leaderTick(term: term), after: 250)
            }
            checkPrefixes()
        }
    }

    /// Every follower's tree holds a prefix of what the leader committed: nothing it applied was
    /// not committed, and nothing is out of order.
    mutating func checkPrefixes() {
        for (id, follower) in followers where follower.serving {
            let count = follower.applied.count
            if count > leaderApplied.count || Array(leaderApplied.prefix(count)) != follower.applied {
                failures.append("t=\(now) server.\(id) applied \(follower.applied.suffix(4)) beyond or beside the leader's \(leaderApplied.suffix(4))")
                return
            }
        }
    }
}
