import Configuration
import ServerCore

/// How this server sees each member of its ensemble (failure detection): the leader knows
/// every learner's connection, acknowledged zxid, when it last heard from it and the round
/// trip of its pings; a learner knows its leader and when it last heard from it. Shown by the
/// AdminServer's `peers`, as `aviary_peer_*` series and on the dashboard.
public struct PeerHealth: Sendable, Equatable {
    public var id: Int64
    /// "participant" or "observer", as the configuration in force lists it.
    public var role: String
    /// "self", "leader", "synced", "synchronizing", "not connected" or "unknown" (a learner
    /// knows only its leader).
    public var state: String
    /// The newest zxid it is known to hold (a follower's last acknowledged; what was last sent
    /// to an observer).
    public var zxid: Int64?
    /// Transactions behind this server.
    public var lag: Int64?
    /// Milliseconds since the oldest proposal it has not acknowledged was sent (0 when it has
    /// acknowledged everything; a follower's, as its leader sees it).
    public var lagMillis: Int64?
    /// Milliseconds since a packet from it arrived.
    public var heardMillisAgo: Int64?
    /// The last PING round trip, in milliseconds.
    public var roundTripMillis: Int64?
    /// Whose view this is: "self", or "leader" for what a learner knows of the other members
    /// from its leader's `peer` answer.
    public var seenBy = "self"

    public init(id: Int64, role: String, state: String, zxid: Int64? = nil, lag: Int64? = nil, lagMillis: Int64? = nil,
                heardMillisAgo: Int64? = nil, roundTripMillis: Int64? = nil) {
        self.id = id; self.role = role; self.state = state; self.zxid = zxid; self.lag = lag; self.lagMillis = lagMillis
        self.heardMillisAgo = heardMillisAgo; self.roundTripMillis = roundTripMillis
    }

    /// Whether it takes part in the quorum now, as far as this server knows.
    public var isUp: Bool { ["self", "leader", "synced"].contains(state) }

    /// Every configured member, this one included, in id order.
    public static func peers(_ core: ServerCore, _ context: ServerContext) -> [PeerHealth] {
        guard let ensemble = context.ensemble else { return [] }
        let zxid = core.tree.lastProcessedZxid
        let views = Dictionary(ensemble.learnerViews.map { ($0.sid, $0) }, uniquingKeysWith: { first, _ in first })
        let leaderView = ensemble.leaderPeerView.map(parse) ?? [:]
        return context.configuration.servers.values.sorted { $0.id < $1.id }.map { server in
            var peer = PeerHealth(id: server.id, role: server.role, state: "unknown")
            if server.id == ensemble.myid {
                peer.state = "self"
                peer.zxid = zxid
                peer.lag = 0
            } else if let view = views[server.id] {
                let known = view.isObserver ? view.lastZxid : view.lastAckedZxid
                peer.state = view.synced ? "synced" : "synchronizing"
                peer.zxid = known < 0 ? nil : known
                peer.lag = known < 0 ? nil : max(0, zxid - known)
                peer.heardMillisAgo = context.now.monotonicMillis - view.lastHeardMillis
                peer.roundTripMillis = view.roundTripMillis
                if !view.isObserver { peer.lagMillis = view.oldestUnacknowledgedMillis.map { max(0, context.now.monotonicMillis - $0) } ?? 0 }
            } else if server.id == ensemble.leaderId && context.mode != .leader {
                peer.state = "leader"
                peer.heardMillisAgo = ensemble.leaderLastHeardMillis.map { context.now.monotonicMillis - $0 }
            } else if context.mode == .leader {
                peer.state = "not connected"
            } else if let reported = leaderView[server.id] {
                peer = reported
                peer.role = server.role
                peer.seenBy = "leader"
            }
            return peer
        }
    }

    /// A `peer` answer read back, by member id.
    public static func parse(_ text: String) -> [Int64: PeerHealth] {
        var peers: [Int64: PeerHealth] = [:]
        for line in text.split(separator: "\n") {
            var fields: [String: String] = [:]
            for item in line.split(separator: " ") {
                let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
                if parts.count == 2 { fields[parts[0]] = parts[1] }
            }
            guard let id = fields["id"].flatMap({ Int64($0) }), let state = fields["state"] else { continue }
            peers[id] = PeerHealth(id: id, role: fields["role"] ?? "participant", state: state.replacingOccurrences(of: "_", with: " "),
                                   zxid: fields["zxid"].flatMap { $0.hasPrefix("0x") ? UInt64($0.dropFirst(2), radix: 16).map(Int64.init(bitPattern:)) : nil },
                                   lag: fields["lag"].flatMap { Int64($0) }, lagMillis: fields["lag_ms"].flatMap { Int64($0) },
                                   heardMillisAgo: fields["heard_ms"].flatMap { Int64($0) },
                                   roundTripMillis: fields["round_trip_ms"].flatMap { Int64($0) })
        }
        return peers
    }
}

/// The leader's watch over its members: events when a member is lost, returns, lags past a
/// threshold or catches up again, and when the quorum is at risk (only a bare majority of the
/// voters up) or safe again. Fed the peers each half tick; pure.
public struct PeerWatch: Sendable {
    /// Transactions a member may lag before `member_lagging`.
    public var lagThreshold: Int64
    private var seenUp: Set<Int64> = []
    private var lost: Set<Int64> = []
    private var lagging: Set<Int64> = []
    private var atRisk = false

    public init(lagThreshold: Int64 = 1000) { self.lagThreshold = lagThreshold }

    /// The events `peers` (as ``PeerHealth/peers(_:_:)`` sees them now) call for.
    public mutating func update(_ peers: [PeerHealth]) -> [(kind: String, details: [String: String])] {
        var events: [(String, [String: String])] = []
        for peer in peers where peer.state != "self" {
            let id = String(peer.id)
            if peer.isUp {
                if lost.remove(peer.id) != nil { events.append(("member_returned", ["member": id, "role": peer.role])) }
                seenUp.insert(peer.id)
            } else if seenUp.contains(peer.id) && !lost.contains(peer.id) {
                lost.insert(peer.id)
                lagging.remove(peer.id)
                events.append(("member_lost", ["member": id, "role": peer.role, "state": peer.state,
                                               "heard_ms": peer.heardMillisAgo.map(String.init) ?? ""]))
            }
            if let lag = peer.lag, peer.isUp {
                if lag > lagThreshold && !lagging.contains(peer.id) {
                    lagging.insert(peer.id)
                    events.append(("member_lagging", ["member": id, "lag": String(lag), "threshold": String(lagThreshold)]))
                } else if lag <= lagThreshold / 2 && lagging.remove(peer.id) != nil {
                    events.append(("member_caught_up", ["member": id, "lag": String(lag)]))
                }
            }
        }
        let voters = peers.filter { $0.role == "participant" }
        let up = voters.filter(\.isUp).count
        let risky = voters.count > 1 && up == voters.count / 2 + 1 && up < voters.count
        if risky != atRisk {
            atRisk = risky
            events.append((risky ? "quorum_at_risk" : "quorum_safe",
                           ["voters": String(voters.count), "up": String(up), "needed": String(voters.count / 2 + 1)]))
        }
        return events.map { (kind: $0.0, details: $0.1) }
    }
}
