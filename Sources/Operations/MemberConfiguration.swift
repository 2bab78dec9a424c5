import Configuration

/// One member's effective configuration as its `conf` four-letter word reports it (Aviary's
/// or ZooKeeper's: `ZooKeeperServer.dumpConf` and, for a member of an ensemble,
/// `QuorumZooKeeperServer.dumpConf` with the membership in force), and how the members of
/// an ensemble differ (`aviary config show|diff`).
public struct MemberConfiguration: Sendable, Equatable {
    /// `key=value` lines, in the order given.
    public var values: [(key: String, value: String)]
    /// The membership after `membership:`, when the server is a member of an ensemble.
    public var membership: Membership?

    public static func == (a: MemberConfiguration, b: MemberConfiguration) -> Bool {
        a.values.map(\.key) == b.values.map(\.key) && a.values.map(\.value) == b.values.map(\.value) && a.membership == b.membership
    }

    /// Parses `conf`; nil when the answer is not one (a word not allowed, a member not serving).
    public init?(conf text: String) {
        var values: [(String, String)] = []
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)[...]
        while let line = lines.first {
            lines = lines.dropFirst()
            if line.hasPrefix("membership:") { break }
            guard let equals = line.firstIndex(of: "=") else { continue }
            values.append((String(line[..<equals]), String(line[line.index(after: equals)...])))
        }
        guard values.contains(where: { $0.0 == "tickTime" }) else { return nil }
        self.values = values.map { (key: $0.0, value: $0.1) }
        let rest = lines.joined(separator: "\n")
        membership = rest.isEmpty ? nil : try? Membership(parsing: rest)
    }

    public func value(_ key: String) -> String? { values.first { $0.key == key }?.value }

    /// Settings the members of one ensemble should share; the rest (ports, directories, ids)
    /// are each member's own.
    public static let shared = ["tickTime", "initLimit", "syncLimit", "electionAlg", "maxClientCnxns", "minSessionTimeout",
                                "maxSessionTimeout"]

    /// Where members disagree, one line each: a shared setting with different values, a
    /// membership of another version or other servers, a member that did not answer.
    public static func differences(_ members: [(id: Int64, configuration: MemberConfiguration?)]) -> [String] {
        var lines: [String] = []
        let answered = members.compactMap { member in member.configuration.map { (member.id, $0) } }
        for (id, configuration) in members where configuration == nil {
            lines.append("server.\(id) did not answer conf (unreachable, not serving, or conf not in its 4lw.commands.whitelist)")
        }
        for key in shared {
            let values = answered.map { ($0.0, $0.1.value(key) ?? "-") }
            if Set(values.map(\.1)).count > 1 {
                lines.append("\(key): " + values.map { "server.\($0.0)=\($0.1)" }.joined(separator: ", "))
            }
        }
        let memberships = answered.map { ($0.0, $0.1.membership) }
        if Set(memberships.map { $0.1?.version }).count > 1 {
            lines.append("membership version: " + memberships.map { "server.\($0.0)=\($0.1.map { String(UInt64(bitPattern: $0.version), radix: 16) } ?? "-")" }
                .joined(separator: ", "))
        }
        if Set(memberships.map { $0.1?.servers }).count > 1 {
            let all = Set(memberships.flatMap { $0.1?.servers.keys.map { $0 } ?? [] }).sorted()
            for server in all {
                let views = memberships.map { ($0.0, $0.1?.servers[server].map(Membership.serverText) ?? "absent") }
                if Set(views.map(\.1)).count > 1 {
                    lines.append("server.\(server) in the membership: " + views.map { "server.\($0.0) says \($0.1)" }.joined(separator: "; "))
                }
            }
        }
        return lines
    }

    /// A table: a row per setting, a column per member (then the membership lines).
    public static func table(_ members: [(id: Int64, configuration: MemberConfiguration?)]) -> String {
        var keys: [String] = []
        for member in members { for key in member.configuration?.values.map(\.key) ?? [] where !keys.contains(key) { keys.append(key) } }
        var rows = [["SETTING"] + members.map { "server.\($0.id)" }]
        for key in keys { rows.append([key] + members.map { $0.configuration?.value(key) ?? "-" }) }
        rows.append(["membership version"] + members.map { member in
            member.configuration?.membership.map { String(UInt64(bitPattern: $0.version), radix: 16) } ?? "-"
        })
        let servers = Set(members.flatMap { $0.configuration?.membership?.servers.keys.map { $0 } ?? [] }).sorted()
        for server in servers {
            rows.append(["server.\(server)"] + members.map { $0.configuration?.membership?.servers[server].map(Membership.serverText) ?? "-" })
        }
        return ServerStatus.render(rows)
    }
}
