import Configuration
import Foundation

/// An ensemble as the operator commands see it from outside (`aviary status`, `aviary
/// member`): each member of the configuration in force with what it says of itself (`srvr`),
/// a verdict per member, the problems of the whole, and the checks that keep a membership
/// change safe. Pure: the commands gather the statuses.
public struct EnsembleView: Sendable, Equatable, Codable {
    /// One member: its place in the configuration and its state.
    public struct Member: Sendable, Equatable, Codable {
        public var id: Int64
        /// "participant" or "observer", as the configuration lists it.
        public var role: String
        /// `host:quorumPort:electionPort`.
        public var quorumAddress: String
        /// Where clients reach it (the wildcard address replaced by the member's host).
        public var clientAddress: String?
        public var status: ServerStatus?
        /// "ok", or what is wrong with it.
        public var verdict: String
        /// As an Aviary leader sees it (its `peer` word): milliseconds since the oldest proposal
        /// it has not acknowledged was sent, and since a packet from it arrived.
        public var lagMillis: Int64?
        public var heardMillisAgo: Int64?

        public var isVoter: Bool { role == "participant" }
        /// Whether it serves as a member of a quorum (leads, follows or observes).
        public var isServing: Bool { ["leader", "follower", "observer"].contains(status?.mode ?? "") }
    }

    public var version: Int64
    public var members: [Member]
    /// Servers asked that the configuration does not list (given on the command line).
    public var strangers: [ServerStatus]
    /// What is wrong with the ensemble as a whole, and with each member; empty when healthy.
    public var problems: [String]

    /// Transactions a serving member may lag before it counts as a problem.
    public static let defaultLagLimit: Int64 = 1000

    /// Builds the view of `membership`, with each member's status by its id and `others`, the
    /// statuses of servers asked that the configuration does not list.
    public init(membership: Membership, statuses: [Int64: ServerStatus], others: [ServerStatus] = [],
                lagLimit: Int64 = EnsembleView.defaultLagLimit) {
        version = membership.version
        strangers = others
        let lagged = ServerStatus.withLag(membership.servers.keys.sorted().compactMap { statuses[$0] } + others)
        var byAddress: [String: ServerStatus] = [:]
        for status in lagged { byAddress[status.address] = status }
        members = membership.servers.values.sorted { $0.id < $1.id }.map { server in
            let client = Self.clientAddress(server)
            let status = statuses[server.id].flatMap { byAddress[$0.address] }
            return Member(id: server.id, role: server.role, quorumAddress: "\(server.host):\(server.quorumPort):\(server.electionPort)",
                          clientAddress: client, status: status, verdict: "ok")
        }
        problems = []
        let leaders = members.filter { $0.status?.mode == "leader" }.map(\.id)
        let voters = members.filter(\.isVoter)
        let serving = voters.filter(\.isServing)
        for index in members.indices {
            let member = members[index]
            var verdict: [String] = []
            if member.clientAddress == nil {
                verdict.append("no client address in the configuration")
            } else if let status = member.status, !status.reachable {
                verdict.append("unreachable: \(status.error ?? "no answer")")
            } else if member.status?.mode == "not serving" || (member.status != nil && !member.isServing && member.status?.mode != "standalone") {
                verdict.append("not serving (\(member.status?.mode ?? "?"))")
            } else if member.status?.mode == "standalone" {
                verdict.append("standalone, not a member of an ensemble")
            }
            if member.isServing, !member.isVoter, member.status?.mode != "observer", member.status?.mode != nil {
                verdict.append("an observer in the configuration, but \(member.status?.mode ?? "?")")
            }
            if member.isServing, member.isVoter, member.status?.mode == "observer" {
                verdict.append("a participant in the configuration, but observing")
            }
            if let lag = member.status?.lag, lag > lagLimit { verdict.append("\(lag) transactions behind") }
            if !verdict.isEmpty {
                members[index].verdict = verdict.joined(separator: "; ")
                problems.append("server.\(member.id): \(members[index].verdict)")
            }
        }
        if leaders.isEmpty {
            problems.insert("no leader: no member says it leads", at: 0)
        } else if leaders.count > 1 {
            problems.insert("more than one leader: \(leaders.map { "server.\($0)" }.joined(separator: ", "))", at: 0)
        }
        let majority = voters.count / 2 + 1
        if !voters.isEmpty && serving.count < majority {
            problems.insert("no quorum: \(serving.count) of \(voters.count) voters serving, \(majority) needed", at: 0)
        } else if voters.count > 1 && serving.count == majority && serving.count < voters.count {
            problems.insert("quorum at risk: only \(serving.count) of \(voters.count) voters serving, one more loss stops writes", at: 0)
        }
    }

    /// Adds what the leader's `peer` word says of each member (Aviary's leaders answer it;
    /// ZooKeeper's do not, and nothing changes).
    public mutating func addLeaderView(_ peer: String) {
        for (id, seen) in PeerHealth.parse(peer) {
            guard let index = members.firstIndex(where: { $0.id == id }) else { continue }
            members[index].lagMillis = seen.lagMillis
            members[index].heardMillisAgo = seen.heardMillisAgo
        }
    }

    /// The member that leads, if exactly one says so.
    public var leader: Member? {
        let leaders = members.filter { $0.status?.mode == "leader" }
        return leaders.count == 1 ? leaders.first : nil
    }

    /// The client address of a configuration line: its own host when the line gives the
    /// wildcard address, nil when it gives none.
    public static func clientAddress(_ server: ServerSpec) -> String? {
        guard let port = server.clientPort else { return nil }
        var host = server.clientAddress ?? "0.0.0.0"
        if host == "0.0.0.0" || host == "::" || host == "0:0:0:0:0:0:0:0" { host = server.host }
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    // MARK: Safe membership changes

    /// Why removing server `id` is unsafe, or nil: it is not a member; it leads (leadership
    /// should move first); or the voters left would not hold a quorum of serving servers.
    /// `force` skips the last two.
    public func refusalToRemove(_ id: Int64, force: Bool) -> String? {
        guard let member = members.first(where: { $0.id == id }) else { return "server.\(id) is not a member of configuration 0x\(Self.hex(version))" }
        if force { return nil }
        if member.status?.mode == "leader" {
            return "server.\(id) is the leader: move leadership first (aviary leader transfer), or use --force"
        }
        guard member.isVoter else { return nil }
        let remaining = members.filter { $0.isVoter && $0.id != id }
        let serving = remaining.filter(\.isServing)
        if remaining.isEmpty || serving.count * 2 <= remaining.count {
            return "without server.\(id) the voters would be \(Self.ids(remaining)), of which \(Self.ids(serving)) serve: "
                + "no quorum (\(remaining.count / 2 + 1) needed); use --force to remove it anyway"
        }
        return nil
    }

    /// Why server `id` cannot be made a voter yet, or nil: it is not a member, votes already,
    /// does not serve, or lags more than `maximumLag` transactions behind the newest member.
    public func refusalToPromote(_ id: Int64, maximumLag: Int64) -> String? {
        guard let member = members.first(where: { $0.id == id }) else { return "server.\(id) is not a member of configuration 0x\(Self.hex(version))" }
        if member.isVoter { return "server.\(id) is a participant already" }
        guard member.isServing, let lag = member.status?.lag else {
            return "server.\(id) is not serving (\(member.verdict)): it must have caught up before it votes"
        }
        if lag > maximumLag { return "server.\(id) lags \(lag) transactions behind (at most \(maximumLag) allowed): wait and try again" }
        return nil
    }

    static func ids(_ members: [Member]) -> String { "[" + members.map { String($0.id) }.joined(separator: ", ") + "]" }
    static func hex(_ value: Int64) -> String { String(UInt64(bitPattern: value), radix: 16) }

    /// One table, a row per member (then the servers the configuration does not list).
    public var table: String {
        let header = ["ID", "ROLE", "SERVER", "STATE", "ZXID", "LAG", "LAG ms", "HEARD ms ago", "LATENCY min/avg/max", "CONNECTIONS",
                      "OUTSTANDING", "VERDICT"]
        var rows: [[String]] = members.map { member in
            let s = member.status
            return [String(member.id), member.role, member.clientAddress ?? member.quorumAddress,
                    s.map { $0.reachable ? ($0.mode ?? "?") : "unreachable" } ?? "-",
                    s?.zxid.map { "0x" + Self.hex($0) } ?? "-", s?.lag.map(String.init) ?? "-", member.lagMillis.map(String.init) ?? "-",
                    member.heardMillisAgo.map(String.init) ?? "-", s?.latency ?? "-",
                    s?.connections.map(String.init) ?? "-", s?.outstanding.map(String.init) ?? "-", member.verdict]
        }
        rows += strangers.map { s in
            ["-", "not a member", s.address, s.reachable ? (s.mode ?? "?") : "unreachable", s.zxid.map { "0x" + Self.hex($0) } ?? "-",
             s.lag.map(String.init) ?? "-", "-", "-", s.latency ?? "-", s.connections.map(String.init) ?? "-", s.outstanding.map(String.init) ?? "-", ""]
        }
        return ServerStatus.render([header] + rows)
    }
}
