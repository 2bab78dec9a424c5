import Consensus
import Testing

/// The leader and learner cores together: discovery, sync and broadcast of a fixed leader with
/// two followers, over FIFO links with random delays and disks with random fsync times.
struct ZabSimulationTests {
    @Test func writesCommitEverywhereInOneOrder() {
        for seed in SimulationSeeds.seeds(default: 100) {
            var world = ZabSimulation(seed: seed)
            world.start(writes: 40)
            world.run(until: 60_000)
            #expect(world.failures.isEmpty, "\(SimulationSeeds.replay("ZabSimulationTests", seed)): \(world.failures.prefix(3))")
            #expect(world.leaderApplied.count == 40, "\(SimulationSeeds.replay("ZabSimulationTests", seed)): \(world.leaderApplied.count) of 40 committed")
            for (id, follower) in world.followers {
                #expect(follower.serving && follower.applied == world.leaderApplied, "\(SimulationSeeds.replay("ZabSimulationTests", seed)): server.\(id) differs")
            }
        }
    }

    /// A follower crashes at a random moment (what it had not fsynced is lost) and comes back:
    /// it is synchronized (DIFF, TRUNC or SNAP, as the leader decides) and ends with exactly
    /// the leader's committed sequence; the other follower keeps the quorum meanwhile.
    @Test func aCrashedFollowerCatchesUp() {
        for seed in SimulationSeeds.seeds(default: 150) {
            var world = ZabSimulation(seed: seed)
            world.start(writes: 40)
            let crashAt = 100 + world.random.below(2_000)
            world.schedule(.crash(1), after: crashAt)
            world.schedule(.restart(1), after: crashAt + 50 + world.random.below(1_500))
            world.run(until: 60_000)
            #expect(world.failures.isEmpty, "\(SimulationSeeds.replay("ZabSimulationTests", seed)): \(world.failures.prefix(3))")
            #expect(world.leaderApplied.count == 40, "\(SimulationSeeds.replay("ZabSimulationTests", seed)): \(world.leaderApplied.count) of 40 committed")
            for (id, follower) in world.followers {
                #expect(follower.serving && follower.applied == world.leaderApplied,
                        "\(SimulationSeeds.replay("ZabSimulationTests", seed)): server.\(id) has \(follower.applied.count), the leader \(world.leaderApplied.count)")
            }
        }
    }

    /// The leader dies mid-stream; the follower with the newest history leads the other in a
    /// new epoch. Nothing the old leader committed (acknowledged to a client) is lost: it is a
    /// prefix of the new leader's history, the follower ends equal to the new leader, and
    /// writes in the new epoch commit.
    @Test func noCommittedWriteIsLostWhenTheLeaderDies() {
        for seed in SimulationSeeds.seeds(default: 150) {
            var world = ZabSimulation(seed: seed)
            world.start(writes: 30)
            let dies = 300 + world.random.below(1_500)
            world.run(until: dies)
            let committed = world.leaderApplied
            world.schedule(.failOver, after: 0)
            for n in 30..<45 { world.schedule(.write(n), after: 100 + world.random.below(2_000)) }
            world.run(until: 120_000)
            let replay = SimulationSeeds.replay("ZabSimulationTests", seed)
            #expect(world.failures.isEmpty, "\(replay): \(world.failures.prefix(3))")
            #expect(Array(world.leaderApplied.prefix(committed.count)) == committed,
                    "\(replay): the old leader committed \(committed.count), the new leader holds \(world.leaderApplied.prefix(committed.count).count) of them")
            #expect(world.leaderApplied.filter { $0 >> 32 == world.leader.epoch }.count == world.writesIssued[1, default: 0],
                    "\(replay): every write of the new epoch commits")
            #expect(world.writesIssued[1, default: 0] >= 15)
            for (id, follower) in world.followers {
                #expect(follower.serving && follower.applied == world.leaderApplied, "\(replay): server.\(id) differs from the new leader")
            }
        }
    }

    /// syncLimit liveness with tickTime 500 ms and syncLimit 5: cut off from one follower the
    /// leader keeps its quorum and its writes commit; cut off from both it steps down within
    /// about syncLimit ticks; never cut, it never does.
    @Test func theLeaderStepsDownOnlyWhenItNoLongerHearsAQuorum() {
        for seed in SimulationSeeds.seeds(default: 50) {
            let replay = SimulationSeeds.replay("ZabSimulationTests", seed)
            var healthy = ZabSimulation(seed: seed)
            healthy.start(writes: 20)
            healthy.run(until: 30_000)
            #expect(healthy.steppedDown == nil && healthy.failures.isEmpty, "\(replay): stepped down without a fault")

            var one = ZabSimulation(seed: seed)
            one.start(writes: 30)
            one.run(until: 1_000)
            one.cut = [1]
            one.run(until: 30_000)
            #expect(one.steppedDown == nil, "\(replay): stepped down with a quorum left")
            #expect(one.leaderApplied.count == 30, "\(replay): \(one.leaderApplied.count) of 30 committed with one follower cut off")

            var both = ZabSimulation(seed: seed)
            both.start(writes: 10)
            both.run(until: 3_000)
            let cutAt = both.now
            both.cut = [1, 2]
            both.run(until: 30_000)
            guard let steppedDown = both.steppedDown else {
                Issue.record("\(replay): still leading without a quorum")
                continue
            }
            // syncLimit × tickTime, plus the tick it takes to notice and the ping in flight.
            #expect(steppedDown.at - cutAt <= 5 * 500 + 1_000, "\(replay): stepped down after \(steppedDown.at - cutAt) ms")
        }
    }

    /// Two followers and an observer, with learners' `sync`s at random moments and the observer
    /// crashing and coming back: the observer ends with the leader's committed sequence (it
    /// gets INFORM, never PROPOSAL, and acks nothing), and every SYNC answer reaches a learner
    /// that has applied what was proposed before the leader saw the SYNC.
    @Test func observersAndSyncsSeeEveryCommit() {
        for seed in SimulationSeeds.seeds(default: 100) {
            let replay = SimulationSeeds.replay("ZabSimulationTests", seed)
            var world = ZabSimulation(seed: seed, observerIds: [4])
            world.start(writes: 40)
            for _ in 0..<20 { world.schedule(.sync([1, 2, 4][Int(world.random.below(3))]), after: 50 + world.random.below(3_000)) }
            if world.random.below(2) == 0 {
                let crashAt = 100 + world.random.below(2_000)
                world.schedule(.crash(4), after: crashAt)
                world.schedule(.restart(4), after: crashAt + 50 + world.random.below(1_500))
            }
            world.run(until: 60_000)
            #expect(world.failures.isEmpty, "\(replay): \(world.failures.prefix(3))")
            #expect(world.leaderApplied.count == 40, "\(replay): \(world.leaderApplied.count) of 40 committed")
            #expect(world.syncsAnswered == 20 - world.syncsLost, "\(replay): \(world.syncsAnswered) SYNCs answered")
            for (id, follower) in world.followers {
                #expect(follower.serving && follower.applied == world.leaderApplied,
                        "\(replay): server.\(id) has \(follower.applied.count), the leader \(world.leaderApplied.count)")
            }
        }
    }
}
