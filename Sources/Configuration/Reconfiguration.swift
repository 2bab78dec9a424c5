import Foundation

/// Why a `reconfig` request's new membership is refused, as ZooKeeper's
/// `PrepRequestProcessor` refuses it; the client gets only the code, the message is logged.
public enum ReconfigRefusal: Error, Equatable, Sendable, CustomStringConvertible {
    /// `BadArgumentsException` (-8): a malformed server line, an address another member
    /// uses, too few voters.
    case badArguments(String)
    /// A runtime failure in ZooKeeper's parsing (a server id that is not a number, observers
    /// without participants), which its request processor answers with MARSHALLINGERROR (-5).
    case marshallingError(String)

    public var description: String {
        switch self {
        case .badArguments(let message), .marshallingError(let message): return message
        }
    }
}

extension Membership {
    /// The membership a `reconfig` request asks for, from this one (the last seen), at
    /// `version` (the reconfig's zxid).
    ///
    /// `newMembers`, when set, is the whole new membership (non-incremental, `server.N` lines
    /// separated by commas or newlines); otherwise `leaving` (server ids) and then `joining`
    /// (`server.N=host:quorumPort:electionPort[:role];[clientHost:]clientPort`, comma-separated;
    /// a listed member is replaced) change this one. Checks what `PrepRequestProcessor` checks
    /// before it looks at the live quorum: each line's form, a joiner's client port, addresses
    /// another member uses (loopback and wildcard addresses aside, as ZooKeeper's
    /// `checkAddressDuplicate` leaves them out), and at least two voters (one when
    /// `standaloneEnabled` is false).
    public func reconfigured(joining: String?, leaving: String?, newMembers: String?, version: Int64,
                             standaloneEnabled: Bool = true) throws(ReconfigRefusal) -> Membership {
        var next: Membership
        if let newMembers {
            next = try Self.nonIncremental(newMembers, standaloneEnabled: standaloneEnabled)
        } else {
            next = self
            for leaver in Self.items(leaving) {
                guard let id = Int64(leaver) else { throw .marshallingError("For input string: \"\(leaver)\"") }
                next.servers[id] = nil
            }
            for joiner in Self.items(joining) {
                let parts = joiner.split(separator: "=").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
                guard parts.count == 2 else { throw .badArguments("Wrong format of server string") }
                let key = parts[0]
                let idText = key.lastIndex(of: ".").map { String(key[key.index(after: $0)...]) } ?? key
                guard let id = Int64(idText) else { throw .marshallingError("For input string: \"\(idText)\"") }
                guard let spec = Self.server(id: id, parts[1]) else { throw .badArguments("Reconfiguration failed") }
                guard spec.clientPort != nil else {
                    throw .badArguments("Wrong format of server string - each server should have 3 ports specified")
                }
                for other in next.servers.values where other.id != id {
                    if let conflict = Self.sharedAddress(spec, other) {
                        throw .badArguments("\(conflict) of server.\(id) conflicts \(conflict) of server.\(other.id)")
                    }
                }
                next.servers[id] = spec
            }
        }
        next.version = version
        let voters = next.voters.count
        if standaloneEnabled && voters < 2 {
            throw .badArguments("Reconfig failed - new configuration must include at least 2 followers")
        } else if voters < 1 {
            throw .badArguments("Reconfig failed - new configuration must include at least 1 follower")
        }
        return next
    }

    /// `QuorumPeerConfig.parseDynamicConfig` over the request's text.
    private static func nonIncremental(_ text: String, standaloneEnabled: Bool) throws(ReconfigRefusal) -> Membership {
        var servers: [Int64: ServerSpec] = [:]
        let lines = text.split(omittingEmptySubsequences: false) { $0 == "," || $0 == "\n" }
        for line in lines {
            guard let (key, value) = property(line) else { continue }
            if key.hasPrefix("group") || key.hasPrefix("weight") {
                throw .badArguments("\(key): hierarchical quorums are not supported")
            }
            if key == "version" { continue }
            guard key.hasPrefix("server.") else { throw .badArguments("Unrecognised parameter: \(key)") }
            guard let id = Int64(key.dropFirst("server.".count)) else {
                throw .marshallingError("For input string: \"\(key.dropFirst("server.".count))\"")
            }
            guard let spec = server(id: id, value) else { throw .badArguments("\(value) \(ZooConfigParser.serverFormat)") }
            servers[id] = spec
        }
        let membership = Membership(servers: servers, version: 0)
        let voters = membership.voters.count, observers = membership.observers.count
        if voters == 0 && observers > 0 {
            throw .marshallingError(standaloneEnabled ? "Observers w/o participants is an invalid configuration"
                                                      : "standaloneEnabled = false then number of participants should be >0")
        }
        if voters == 1 && standaloneEnabled && observers > 0 {
            throw .marshallingError("Observers w/o quorum is an invalid configuration")
        }
        return membership
    }

    /// One server's address text, or nil where `QuorumServer` throws a `ConfigException`.
    private static func server(id: Int64, _ text: String) -> ServerSpec? {
        guard let spec = ZooConfigParser.parseServer(id: id, text), spec.quorumPort != spec.electionPort else { return nil }
        return spec
    }

    /// `StringUtils.split(text, ",")`: trimmed, empty items left out.
    private static func items(_ text: String?) -> [String] {
        guard let text else { return [] }
        return text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }

    /// An address (host and port) `a` and `b` both use, loopback and wildcard hosts aside.
    private static func sharedAddress(_ a: ServerSpec, _ b: ServerSpec) -> String? {
        func addresses(_ s: ServerSpec) -> [(String, Int)] {
            var list = [(s.host, s.quorumPort), (s.host, s.electionPort)]
            if let port = s.clientPort { list.append((s.clientAddress ?? "0.0.0.0", port)) }
            return list.filter { !isLoopbackOrWildcard($0.0) }
        }
        let theirs = addresses(b)
        for (host, port) in addresses(a) where theirs.contains(where: { $0.0 == host && $0.1 == port }) {
            return "\(host):\(port)"
        }
        return nil
    }

    private static func isLoopbackOrWildcard(_ host: String) -> Bool {
        host == "0.0.0.0" || host == "::" || host == "::1" || host == "localhost" || host.hasPrefix("127.")
            || host == "0:0:0:0:0:0:0:0" || host == "0:0:0:0:0:0:0:1"
    }
}
