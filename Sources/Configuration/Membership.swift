import Foundation

/// An ensemble's members and the version of their configuration, as ZooKeeper's `QuorumMaj`
/// holds them: what `/zookeeper/config`, NEWLEADER and version-2 election notifications carry
/// (``text``), and what a `zoo.cfg.dynamic.<version>` file holds.
public struct Membership: Sendable, Hashable {
    public var servers: [Int64: ServerSpec]
    /// The zxid of the reconfig that made this configuration (0 for a static one).
    public var version: Int64

    public init(servers: [Int64: ServerSpec], version: Int64) {
        self.servers = servers; self.version = version
    }

    /// The participants, by id.
    public var voters: [ServerSpec] { servers.values.filter { $0.role == "participant" }.sorted { $0.id < $1.id } }
    /// The observers, by id.
    public var observers: [ServerSpec] { servers.values.filter { $0.role == "observer" }.sorted { $0.id < $1.id } }

    /// `QuorumMaj.toString`: a `server.N=host:quorumPort:electionPort:role[;clientHost:clientPort]`
    /// line per member in id order, then `version=<hex>`.
    public var text: String {
        servers.values.sorted { $0.id < $1.id }.map { "server.\($0.id)=\(Self.serverText($0))\n" }.joined()
            + "version=\(String(UInt64(bitPattern: version), radix: 16))"
    }

    /// `QuorumServer.toString`: IPv6 hosts in brackets, the client address `0.0.0.0` when the
    /// line gave only a port.
    public static func serverText(_ server: ServerSpec) -> String {
        func delimited(_ host: String) -> String { host.contains(":") ? "[\(host)]" : host }
        var text = "\(delimited(server.host)):\(server.quorumPort):\(server.electionPort):\(server.role)"
        if let port = server.clientPort { text += ";\(delimited(server.clientAddress ?? "0.0.0.0")):\(port)" }
        return text
    }

    /// Reads ``text`` back (the data of `/zookeeper/config`, a NEWLEADER's or a notification's
    /// configuration): `server.N` lines and `version=<hex>`; anything else is an error.
    public init(parsing text: String) throws(ConfigurationError) {
        var servers: [Int64: ServerSpec] = [:]
        var version: Int64 = 0
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            func fail(_ message: String) -> ConfigurationError { ConfigurationError(file: "configuration", line: index + 1, message: message) }
            guard let (key, value) = Self.property(line) else { continue }
            if key == "version" {
                guard let parsed = UInt64(value, radix: 16) else { throw fail("version=\(value) is not hexadecimal") }
                version = Int64(bitPattern: parsed)
            } else if key.hasPrefix("server."), let id = Int64(key.dropFirst("server.".count)), id >= 0 {
                guard let spec = ZooConfigParser.parseServer(id: id, value) else { throw fail("\(key)=\(value): \(ZooConfigParser.serverFormat)") }
                servers[id] = spec
            } else {
                throw fail("\(key) is not a server.N line or the version")
            }
        }
        self.init(servers: servers, version: version)
    }

    /// One line of a Java properties text as `Properties.load` splits it: leading blanks
    /// dropped, `#` and `!` comments and blank lines skipped, the key up to the first `=`, `:`
    /// or blank, the value after it with its separator and leading blanks removed.
    static func property(_ line: Substring) -> (key: String, value: String)? {
        let text = line.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let first = text.first, first != "#", first != "!" else { return nil }
        guard let separator = text.firstIndex(where: { $0 == "=" || $0 == ":" || $0 == " " || $0 == "\t" }) else {
            return (text, "")
        }
        var value = text[text.index(after: separator)...].trimmingCharacters(in: .whitespaces)
        // "key = value": a blank separator may be followed by the real one.
        if text[separator] == " " || text[separator] == "\t", value.hasPrefix("=") || value.hasPrefix(":") {
            value = value.dropFirst().trimmingCharacters(in: .whitespaces)
        }
        return (String(text[..<separator]), value)
    }
}

extension ServerConfiguration {
    /// The members this configuration lists, at its version.
    public var membership: Membership { Membership(servers: servers, version: configVersion) }
}
