import Consensus
import Testing
import ZooKeeperProtocol

struct FastLeaderElectionTests {
    @Test func theServerWithTheHighestIdLeadsAFreshEnsemble() {
        var world = ElectionSimulation(voters: [1, 2, 3], seed: 1)
        for id: Int64 in [1, 2, 3] { world.start(id, zxid: 0, epoch: 0) }
        world.run(until: 10_000)
        #expect(world.outcomes[3]?.state == .leading)
        #expect(world.outcomes[1]?.state == .following && world.outcomes[2]?.state == .following)
        #expect(Set(world.outcomes.values.map(\.vote.leader)) == [3])
    }

    @Test func theLatestZxidWinsOverAHigherId() {
        var world = ElectionSimulation(voters: [1, 2, 3], seed: 2)
        world.start(1, zxid: 0x1_0000_0005, epoch: 1)
        world.start(2, zxid: 0x1_0000_0003, epoch: 1)
        world.start(3, zxid: 0x1_0000_0003, epoch: 1)
        world.run(until: 10_000)
        #expect(world.outcomes[1]?.state == .leading)
        #expect(world.outcomes.values.allSatisfy { $0.vote.leader == 1 && $0.vote.zxid == 0x1_0000_0005 })
    }

    @Test func aNewerEpochWinsOverALongerLog() {
        var world = ElectionSimulation(voters: [1, 2, 3], seed: 3)
        world.start(1, zxid: 0x1_0000_0009, epoch: 1)
        world.start(2, zxid: 0x2_0000_0001, epoch: 2)
        world.start(3, zxid: 0x1_0000_0009, epoch: 1)
        world.run(until: 10_000)
        #expect(Set(world.outcomes.values.map(\.vote.leader)) == [2])
    }

    @Test func aServerThatComesLateFollowsTheLeaderItIsTold() {
        var world = ElectionSimulation(voters: [1, 2, 3], seed: 4)
        world.down = [3]
        world.start(1, zxid: 0, epoch: 0)
        world.start(2, zxid: 0, epoch: 0)
        world.run(until: 5_000)
        #expect(world.outcomes[2]?.state == .leading && world.outcomes[1]?.state == .following)
        world.down = []
        world.start(3, zxid: 0, epoch: 0)
        world.run(until: 20_000)
        #expect(world.outcomes[3]?.state == .following && world.outcomes[3]?.vote.leader == 2)
    }

    /// After a leader transfer (or a reconfiguration naming the leader) the members take up
    /// their roles without an election; a server that restarts then must find the new leader
    /// from their answers, which needs the new leader to say it leads.
    @Test func aServerThatRestartsAfterAHandOverFollowsTheNewLeader() {
        var world = ElectionSimulation(voters: [1, 2, 3], seed: 5)
        for id: Int64 in [1, 2, 3] { world.start(id, zxid: 0x1_0000_0004, epoch: 1) }
        world.run(until: 10_000)
        #expect(world.outcomes[3]?.state == .leading)
        // Leadership goes from 3 to 1; 3 then restarts.
        let handOver = Vote(leader: 1, zxid: 0x1_0000_0004, electionEpoch: -1, peerEpoch: 1)
        world.servers[1]?.standBy(handOver, state: .leading)
        world.servers[2]?.standBy(handOver, state: .following)
        for id: Int64 in [1, 2] { world.servers[id]?.updatePeerEpoch(2) }
        world.servers[3] = FastLeaderElection(configuration: .init(myid: 3, verifier: QuorumVerifier(voters: [1, 2, 3]), configText: "version=0"))
        world.outcomes[3] = nil
        world.start(3, zxid: 0x1_0000_0004, epoch: 1)
        world.run(until: 30_000)
        #expect(world.outcomes[3]?.state == .following && world.outcomes[3]?.vote.leader == 1)
    }

    /// A server that was away during a reconfiguration hears of it from its peers' notifications
    /// while it looks (`WorkerReceiver`'s processReconfig), and only then.
    @Test func aLookingServerIsToldOfANewerConfiguration() {
        var server = FastLeaderElection(configuration: .init(myid: 3, verifier: QuorumVerifier(voters: [1, 2, 3, 4, 5], version: 0x1_0000_0000),
                                                             configText: "version=100000000"))
        let newer = "server.1=a:1:2:participant\nserver.3=c:1:2:participant\nversion=100000007"
        let answer = ElectionNotification(state: .leading, leader: 1, zxid: 0x1_0000_0007, electionEpoch: 1, peerEpoch: 1, config: newer)
        #expect(server.receive(.notification(from: 1, answer)).isEmpty, "not looking: nothing to learn")
        _ = server.receive(.start(lastLoggedZxid: 0x1_0000_0003, currentEpoch: 1))
        #expect(server.receive(.notification(from: 1, answer)).first == .newerConfiguration(newer))
        let same = ElectionNotification(state: .following, leader: 1, zxid: 0x1_0000_0007, electionEpoch: 1, peerEpoch: 1, config: "version=100000000")
        #expect(!server.receive(.notification(from: 2, same)).contains(.newerConfiguration("version=100000000")))
    }

    /// A voter answers an observer that is looking with its vote, whatever its own state (as
    /// ZooKeeper's WorkerReceiver does), but not the answer of one that observes: the two would
    /// trade notifications for as long as the voter looks.
    @Test func aVoterAnswersALookingObserverButNotAnObservingOne() {
        var core = FastLeaderElection(configuration: .init(myid: 1, verifier: QuorumVerifier(voters: [1, 2, 3], observers: [4])))
        _ = core.receive(.start(lastLoggedZxid: 0x1_0000_0004, currentEpoch: 1))
        func sends(_ actions: [FastLeaderElection.Action], to sid: Int64) -> Bool {
            actions.contains { if case .send(let to, _) = $0 { return to == sid } else { return false } }
        }
        let looking = ElectionNotification(state: .looking, leader: 4, zxid: 0x1_0000_0004, electionEpoch: 1, peerEpoch: 1, config: "")
        #expect(sends(core.receive(.notification(from: 4, looking)), to: 4))
        let observing = ElectionNotification(state: .observing, leader: 3, zxid: 0x1_0000_0004, electionEpoch: 1, peerEpoch: 1, config: "")
        #expect(core.receive(.notification(from: 4, observing)).isEmpty)
    }

    /// finalizeWait is skipped once every voter that can vote has voted for the proposal:
    /// all of them, or all but those the shell could not reach. A voter neither heard nor
    /// known unreachable keeps the wait.
    @Test func theElectionEndsAtOnceWhenEveryReachableVoterAgrees() {
        func election() -> FastLeaderElection {
            var core = FastLeaderElection(configuration: .init(myid: 1, verifier: QuorumVerifier(voters: [1, 2, 3])))
            _ = core.receive(.start(lastLoggedZxid: 0x1_0000_0004, currentEpoch: 1))
            return core
        }
        func vote(for leader: Int64, round: Int64 = 1) -> ElectionNotification {
            ElectionNotification(state: .looking, leader: leader, zxid: 0x1_0000_0004, electionEpoch: round, peerEpoch: 1, config: "")
        }
        func elected(_ actions: [FastLeaderElection.Action]) -> Bool {
            actions.contains { if case .elected = $0 { return true } else { return false } }
        }
        var waiting = election()
        _ = waiting.receive(.notification(from: 2, vote(for: 2)))
        _ = waiting.receive(.notification(from: 1, vote(for: 2)))
        #expect(!elected(waiting.receive(.notification(from: 2, vote(for: 2)))), "server 3 may still bring a better vote")
        let afterRefusal = waiting.receive(.peerUnreachable(3))
        #expect(elected(afterRefusal) && waiting.currentVote.leader == 2, "server 3's election port refused: no vote can come")

        var refusedFirst = election()
        _ = refusedFirst.receive(.peerUnreachable(3))
        _ = refusedFirst.receive(.notification(from: 2, vote(for: 2)))
        #expect(elected(refusedFirst.receive(.notification(from: 1, vote(for: 2)))))

        var everyone = election()
        _ = everyone.receive(.notification(from: 3, vote(for: 2)))
        _ = everyone.receive(.notification(from: 2, vote(for: 2)))
        #expect(elected(everyone.receive(.notification(from: 1, vote(for: 2)))), "all three voted for server 2")

        var heardAgain = election()
        _ = heardAgain.receive(.peerUnreachable(3))
        _ = heardAgain.receive(.notification(from: 3, vote(for: 3, round: 0)))
        _ = heardAgain.receive(.notification(from: 2, vote(for: 2)))
        #expect(!elected(heardAgain.receive(.notification(from: 1, vote(for: 2)))), "server 3 spoke since: it is reachable")
    }

    /// A peer's notification of the round this server is about to start, arriving just
    /// before it starts, counts once it does (ZooKeeper has it queued): the server takes the
    /// better vote at once instead of after a notification timeout.
    @Test func aNotificationJustBeforeTheStartIsTakenIn() {
        var core = FastLeaderElection(configuration: .init(myid: 1, verifier: QuorumVerifier(voters: [1, 2, 3])))
        let early = ElectionNotification(state: .looking, leader: 2, zxid: 0x1_0000_0004, electionEpoch: 1, peerEpoch: 1, config: "")
        let answer = core.receive(.notification(from: 2, early))
        #expect(answer.count == 1, "answered with the vote it stands by, as before")
        let started = core.receive(.start(lastLoggedZxid: 0x1_0000_0004, currentEpoch: 1))
        #expect(started.contains(.send(to: 2, ElectionNotification(state: .looking, leader: 2, zxid: 0x1_0000_0004, electionEpoch: 1,
                                                                   peerEpoch: 1, config: ""))),
                "it votes for server 2 at once")
    }

    @Test func noQuorumNoLeader() {
        var world = ElectionSimulation(voters: [1, 2, 3, 4, 5], seed: 5)
        world.down = [3, 4, 5]
        world.start(1, zxid: 0, epoch: 0)
        world.start(2, zxid: 0, epoch: 0)
        world.run(until: 120_000)
        #expect(world.outcomes.isEmpty, "two of five cannot elect")
        #expect((world.servers[1]?.running ?? false) && (world.servers[2]?.running ?? false))
    }

    @Test func anObserverObservesTheLeader() {
        var world = ElectionSimulation(voters: [1, 2, 3], observers: [4], seed: 6)
        for id: Int64 in [1, 2, 3] { world.start(id, zxid: 0, epoch: 0) }
        world.run(until: 5_000)
        world.start(4, zxid: 0, epoch: 0)
        world.run(until: 20_000)
        #expect(world.outcomes[4]?.state == .observing && world.outcomes[4]?.vote.leader == 3)
    }

    @Test func votesAgreeAsZooKeepersVoteEquals() {
        let looking = Vote(leader: 3, zxid: 5, electionEpoch: 1, peerEpoch: 1)
        #expect(looking.agrees(with: Vote(leader: 3, zxid: 5, electionEpoch: 1, peerEpoch: 1, state: .following)))
        #expect(!looking.agrees(with: Vote(leader: 3, zxid: 5, electionEpoch: 2, peerEpoch: 1, state: .following)))
        let following = Vote(leader: 3, zxid: 9, electionEpoch: 7, peerEpoch: 2, state: .following, version: 2)
        #expect(following.agrees(with: Vote(leader: 3, zxid: 1, electionEpoch: 1, peerEpoch: 2, state: .leading, version: 2)))
        #expect(!following.agrees(with: Vote(leader: 3, zxid: 1, electionEpoch: 1, peerEpoch: 3, state: .leading, version: 2)))
        #expect(following.agrees(with: Vote(leader: 3, zxid: 1, electionEpoch: 1, peerEpoch: 3, state: .leading, version: 0)),
                "one vote of version 0: the leader alone is compared")
    }

    /// A seeded world: 3 or 5 voters with random epochs and zxids, all starting at once.
    static func world(seed: UInt64, lossy: Bool) -> (ElectionSimulation, best: Int64, size: Int, ElectionSimulation.Faults) {
        var random = ElectionSimulation.Random(state: seed ^ 0xA5A5)
        let size = random.chance(50) ? 3 : 5
        let voters = (1...Int64(size)).map { $0 }
        let faults = ElectionSimulation.Faults(lossPercent: lossy ? Int(random.below(25)) : 0, duplicatePercent: Int(random.below(20)),
                                               maximumDelay: 1 + random.below(150))
        var world = ElectionSimulation(voters: voters, seed: seed, faults: faults)
        var candidates: [(id: Int64, epoch: Int64, zxid: Int64)] = []
        for id in voters {
            let epoch = random.below(3)
            let zxid = epoch << 32 | random.below(4)
            candidates.append((id, epoch, zxid))
            world.start(id, zxid: zxid, epoch: epoch)
        }
        let best = candidates.max { ($0.epoch, $0.zxid, $0.id) < ($1.epoch, $1.zxid, $1.id) }
        return (world, best?.id ?? -1, size, faults)
    }

    /// Many seeds of a network that duplicates and reorders but loses nothing, with delays under
    /// finalizeWait: every server ends its election, all agree on one leader, and it is the
    /// best candidate (highest epoch, then zxid, then id).
    @Test func seededElectionsWithoutLossAgreeOnTheBestCandidate() {
        for seed in SimulationSeeds.seeds(default: 300) {
            var (world, best, size, faults) = Self.world(seed: seed, lossy: false)
            world.run(until: 600_000)
            let leaders = Set(world.outcomes.values.map(\.vote.leader))
            #expect(world.outcomes.count == size, "\(SimulationSeeds.replay("FastLeaderElectionTests", seed)): \(world.outcomes.count) of \(size) finished (\(faults))")
            #expect(leaders == [best], "\(SimulationSeeds.replay("FastLeaderElectionTests", seed)): leaders \(leaders), best \(best) (\(faults))")
        }
    }

    /// With loss an election can end split (a server counts a quorum before a better vote
    /// reaches it); ZooKeeper relies on discovery to undo that, since a leader needs a quorum of
    /// followers. What the election itself must do under loss is end: the timer resends the
    /// votes, with a doubling interval, until every server has decided.
    @Test func seededLossyElectionsEnd() {
        for seed in SimulationSeeds.seeds(default: 300) {
            var (world, _, size, faults) = Self.world(seed: seed, lossy: true)
            world.run(until: 600_000)
            #expect(world.outcomes.count == size, "\(SimulationSeeds.replay("FastLeaderElectionTests", seed)): \(world.outcomes.count) of \(size) finished (\(faults))")
        }
    }
}
