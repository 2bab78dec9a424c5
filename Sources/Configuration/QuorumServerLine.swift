import Foundation

/// `server.N` lines, as ZooKeeper 3.8 reads them (`QuorumPeer.QuorumServer`,
/// `ConfigUtils.getHostAndPort`), and the dynamic configuration file that may hold them.
extension ZooConfigParser {
    static let serverFormat = "expected host:quorumPort:electionPort[:participant|observer][;[clientHost:]clientPort]"

    /// Reads one `server.N=...` line into `config`; `place` is "file:line" for messages.
    static func readServer(key: String, value: String, at place: String, into config: inout ServerConfiguration)
        throws(ConfigurationError) {
        func fail(_ message: String) -> ConfigurationError {
            let parts = place.split(separator: ":", maxSplits: 1).map(String.init)
            return ConfigurationError(file: parts.first ?? place, line: Int(parts.last ?? "") ?? 0, message: "\(key)=\(value): \(message)")
        }
        guard let id = Int64(key.dropFirst("server.".count)), id >= 0 else { throw fail("expected server.<id>") }
        if let earlier = config.serverLines[id] { throw fail("server.\(id) is listed twice (first at \(earlier))") }
        if value.contains("|") { throw fail("several addresses for one server need multiAddress.enabled, which Aviary does not support") }
        guard let spec = parseServer(id: id, value) else { throw fail(serverFormat) }
        if spec.quorumPort == spec.electionPort {
            throw fail("the quorum and election ports must be different (ZooKeeper refuses this too)")
        }
        config.servers[id] = spec
        config.serverLines[id] = place
    }

    /// Splits `host:port[:...]`, where the host may be a bracketed IPv6 literal.
    static func hostAndPorts(_ text: Substring) -> [String]? {
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return rest.isEmpty ? [host] : nil }
            return [host] + rest.dropFirst().split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        }
        return text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    }

    /// One `server.N` line's value (`host:quorumPort:electionPort[:role][;[clientHost:]clientPort]`),
    /// or nil when it is malformed.
    public static func parseServer(id: Int64, _ value: String) -> ServerSpec? {
        let halves = value.split(separator: ";", omittingEmptySubsequences: false)
        guard halves.count <= 2, let parts = hostAndPorts(halves[0]) else { return nil }
        guard parts.count == 3 || parts.count == 4, !parts[0].isEmpty,
              let quorum = Int(parts[1]), let election = Int(parts[2]),
              (1...65535).contains(quorum), (1...65535).contains(election) else { return nil }
        let role = parts.count == 4 ? parts[3].lowercased() : "participant"
        guard role == "participant" || role == "observer" else { return nil }
        var spec = ServerSpec(id: id, host: parts[0], quorumPort: quorum, electionPort: election, role: role)
        if halves.count == 2 {
            guard let client = hostAndPorts(halves[1]), client.count <= 2,
                  let port = Int(client.last ?? ""), (1...65535).contains(port) else { return nil }
            spec.clientPort = port
            spec.clientAddress = client.count == 2 ? client[0] : nil
        }
        return spec
    }

    /// Reads `dynamicConfigFile`: `server.N` lines only (and `group.`/`weight.`), the version
    /// taken from the file name's hex suffix (`zoo.cfg.dynamic.100000000` is 0x100000000).
    static func readDynamicFile(_ path: String, into config: inout ServerConfiguration,
                                readFile: (String) -> String?) throws(ConfigurationError) {
        if let first = config.serverLines.values.sorted().first {
            let parts = first.split(separator: ":", maxSplits: 1).map(String.init)
            throw ConfigurationError(file: parts.first ?? first, line: Int(parts.last ?? "") ?? 0,
                                     message: "server.N lines must be in the dynamic configuration file \(path) when dynamicConfigFile is set")
        }
        guard let text = readFile(path) else {
            throw ConfigurationError(file: path, line: 0, message: "cannot read the dynamic configuration file")
        }
        let name = path.split(separator: "/").last.map(String.init) ?? path
        if let dot = name.lastIndex(of: "."), name[..<dot].hasSuffix(".dynamic") || name[..<dot].hasSuffix("dynamic"),
           let version = UInt64(name[name.index(after: dot)...], radix: 16) {
            config.configVersion = Int64(bitPattern: version)
        }
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix("!") { continue }
            guard let separator = line.firstIndex(where: { $0 == "=" || $0 == ":" }) else {
                throw ConfigurationError(file: path, line: index + 1, message: "'\(line)' is not key=value")
            }
            let key = line[..<separator].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: separator)...].trimmingCharacters(in: .whitespaces)
            if key == "version" {
                throw ConfigurationError(file: path, line: index + 1, message: "a dynamic file holds no version: it is in the file's name")
            }
            if key.hasPrefix("group.") || key.hasPrefix("weight.") {
                throw ConfigurationError(file: path, line: index + 1, message: "\(key): hierarchical quorums are not supported yet")
            }
            guard key.hasPrefix("server.") else {
                throw ConfigurationError(file: path, line: index + 1, message: "\(key) does not belong in a dynamic configuration file")
            }
            try readServer(key: key, value: value, at: "\(path):\(index + 1)", into: &config)
        }
    }
}
