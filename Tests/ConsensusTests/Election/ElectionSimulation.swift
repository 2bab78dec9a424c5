import Consensus
import ZooKeeperProtocol

/// A small deterministic world for elections: servers running ``FastLeaderElection``, a
/// network that delays, drops, duplicates and reorders notifications, one timer per server and
/// a clock, all driven by one seed (SplitMix64). The same seed replays the same run.
struct ElectionSimulation {
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int64) -> Int64 { Int64(next() % UInt64(max(1, n))) }
        mutating func chance(_ percent: Int) -> Bool { below(100) < Int64(percent) }
    }

    struct Faults {
        var lossPercent = 0
        var duplicatePercent = 0
        var maximumDelay: Int64 = 5
    }

    struct Message {
        var at: Int64
        var sequence: Int
        var from: Int64
        var to: Int64
        var notification: ElectionNotification
    }

    var servers: [Int64: FastLeaderElection] = [:]
    var timers: [Int64: Int64] = [:]
    var inFlight: [Message] = []
    var now: Int64 = 0
    var sequence = 0
    var random: Random
    var faults: Faults
    var outcomes: [Int64: (vote: Vote, state: PeerState, at: Int64)] = [:]
    /// Servers that are down: they neither send nor receive.
    var down: Set<Int64> = []

    init(voters: [Int64], observers: [Int64] = [], seed: UInt64, faults: Faults = Faults()) {
        random = Random(state: seed)
        self.faults = faults
        let verifier = QuorumVerifier(voters: Set(voters), observers: Set(observers))
        for id in voters + observers {
            servers[id] = FastLeaderElection(configuration: .init(myid: id, verifier: verifier, configText: "version=0"))
        }
    }

    mutating func start(_ id: Int64, zxid: Int64, epoch: Int64) {
        perform(id, servers[id]?.receive(.start(lastLoggedZxid: zxid, currentEpoch: epoch)) ?? [])
    }

    private mutating func perform(_ id: Int64, _ actions: [FastLeaderElection.Action]) {
        for action in actions {
            switch action {
            case .send(let to, let notification):
                if down.contains(id) { continue }
                // A server's notification to itself is looped back locally, never lost.
                let local = to == id
                if !local && random.chance(faults.lossPercent) { continue }
                let copies = !local && random.chance(faults.duplicatePercent) ? 2 : 1
                for _ in 0..<copies {
                    sequence += 1
                    inFlight.append(Message(at: now + (local ? 0 : random.below(faults.maximumDelay + 1)), sequence: sequence,
                                            from: id, to: to, notification: notification))
                }
            case .setTimer(let milliseconds):
                timers[id] = now + milliseconds
            case .elected(let vote, let state):
                outcomes[id] = (vote, state, now)
                timers[id] = nil
            case .newerConfiguration:
                break  // every simulated server has the same configuration
            }
        }
    }

    /// Runs until nothing is left to happen or `limit` milliseconds have passed.
    mutating func run(until limit: Int64) {
        while now <= limit {
            let nextMessage = inFlight.min { ($0.at, $0.sequence) < ($1.at, $1.sequence) }
            let nextTimer = timers.filter { !down.contains($0.key) }.min { ($0.value, $0.key) < ($1.value, $1.key) }
            switch (nextMessage, nextTimer) {
            case (nil, nil):
                return
            case (let message?, let timer) where timer == nil || message.at <= timer!.value:
                inFlight.removeAll { $0.sequence == message.sequence }
                now = max(now, message.at)
                if down.contains(message.to) { continue }
                perform(message.to, servers[message.to]?.receive(.notification(from: message.from, message.notification)) ?? [])
            case (_, let timer?):
                timers[timer.key] = nil
                now = max(now, timer.value)
                perform(timer.key, servers[timer.key]?.receive(.timerFired) ?? [])
            default:
                return
            }
        }
    }
}
