import ZooKeeperProtocol

/// The links of the ensemble simulation. Election notifications are datagrams in effect (the
/// connection manager drops and re-dials): delayed, lost, duplicated, reordered. Quorum
/// connections are TCP streams: each direction delivers in order with random delays, holds
/// its bytes while the path is cut (retransmission) and delivers them once it heals, and ends
/// with FIN when a side closes; bytes reaching a side that closed are answered with a reset.
struct SimulatedNetwork {
    /// What travels on a quorum connection: a packet (SNAP's carries the leader's tree), or
    /// the end of the stream.
    enum Segment {
        case packet(QuorumPacket, snapshot: [Int64]?)
        case fin
    }

    struct Connection {
        let id: Int
        let learner: Int64
        let leader: Int64
        /// The role instances at each end, so that a new role never reads an old stream.
        let learnerRole: Int
        let leaderRole: Int
        var learnerOpen = true
        var leaderOpen = true
        /// Segments on their way, toward the leader and toward the learner.
        var toLeader: [Segment] = []
        var toLearner: [Segment] = []
        var pumpingToLeader = false
        var pumpingToLearner = false
    }

    var connections: [Int: Connection] = [:]
    private var nextConnection = 0
    /// Directed paths that are cut: (from, to).
    var cut: Set<[Int64]> = []

    /// Whether `from` can reach `to` now. A TCP stream needs both directions.
    func reachable(_ from: Int64, _ to: Int64) -> Bool {
        !cut.contains([from, to])
    }

    func streamOpen(_ a: Int64, _ b: Int64) -> Bool {
        reachable(a, b) && reachable(b, a)
    }

    mutating func open(learner: Int64, learnerRole: Int, leader: Int64, leaderRole: Int) -> Int {
        nextConnection += 1
        connections[nextConnection] = Connection(id: nextConnection, learner: learner, leader: leader,
                                                 learnerRole: learnerRole, leaderRole: leaderRole)
        return nextConnection
    }

    /// Queues a segment; returns whether the direction needs a pump scheduled.
    mutating func enqueue(_ segment: Segment, on id: Int, toLeader: Bool) -> Bool {
        guard var connection = connections[id] else { return false }
        defer { connections[id] = connection }
        if toLeader {
            connection.toLeader.append(segment)
            if connection.pumpingToLeader { return false }
            connection.pumpingToLeader = true
        } else {
            connection.toLearner.append(segment)
            if connection.pumpingToLearner { return false }
            connection.pumpingToLearner = true
        }
        return true
    }

    /// Takes the next segment of one direction; the pump stops once the direction is empty.
    mutating func dequeue(on id: Int, toLeader: Bool) -> Segment? {
        guard var connection = connections[id] else { return nil }
        defer { connections[id] = connection }
        if toLeader {
            let segment = connection.toLeader.isEmpty ? nil : connection.toLeader.removeFirst()
            if connection.toLeader.isEmpty { connection.pumpingToLeader = false }
            return segment
        } else {
            let segment = connection.toLearner.isEmpty ? nil : connection.toLearner.removeFirst()
            if connection.toLearner.isEmpty { connection.pumpingToLearner = false }
            return segment
        }
    }

    func hasMore(on id: Int, toLeader: Bool) -> Bool {
        guard let connection = connections[id] else { return false }
        return toLeader ? !connection.toLeader.isEmpty : !connection.toLearner.isEmpty
    }

    mutating func forget(_ id: Int) {
        guard let connection = connections[id], !connection.learnerOpen, !connection.leaderOpen else { return }
        connections[id] = nil
    }
}
