/// Checks an ensemble configuration as ZooKeeper 3.8 does (`QuorumPeerConfig.parseDynamicConfig`,
/// `setupMyId`, `setupPeerType`, `checkValidity`), plus what ZooKeeper only finds out later or
/// never: a myid not listed, two members on one address.
enum EnsembleValidation {
    static func check(_ config: inout ServerConfiguration, file: String, warnings: inout [String]) throws(ConfigurationError) {
        guard !config.servers.isEmpty else { return }
        func error(_ id: Int64?, _ message: String) -> ConfigurationError {
            guard let id, let place = config.serverLines[id] else { return ConfigurationError(file: file, line: 0, message: message) }
            let parts = place.split(separator: ":", maxSplits: 1).map(String.init)
            return ConfigurationError(file: parts.first ?? file, line: Int(parts.last ?? "") ?? 0, message: message)
        }
        let voters = config.voters
        let observers = config.observers
        if voters.isEmpty {
            if !config.standaloneEnabled {
                throw error(observers.first?.id, "standaloneEnabled=false needs at least one participant among the server.N lines")
            }
            throw error(observers.first?.id, "observers without participants is not an ensemble")
        }
        if voters.count == 1 && config.standaloneEnabled {
            if !observers.isEmpty { throw error(observers.first?.id, "observers without a quorum of participants is not an ensemble") }
            warnings.append("\(file): only one server listed and standaloneEnabled is true: running standalone, as ZooKeeper does")
            return
        }
        if voters.count == 2 {
            warnings.append("\(file): no server failure will be tolerated: an ensemble needs at least 3 voters for that")
        } else if voters.count % 2 == 0 {
            warnings.append("\(file): \(voters.count) voters tolerate no more failures than \(voters.count - 1); consider an odd number")
        }
        // Two members (or one member's two ports) on one address cannot both listen there.
        var taken: [String: (Int64, String)] = [:]
        for server in config.servers.values.sorted(by: { $0.id < $1.id }) {
            var ports = [("quorum", server.quorumPort), ("election", server.electionPort)]
            if let client = server.clientPort { ports.append(("client", client)) }
            for (kind, port) in ports {
                let address = "\(server.host.lowercased()):\(port)"
                if let (other, otherKind) = taken[address] {
                    throw error(server.id, "server.\(server.id)'s \(kind) port \(address) is already server.\(other)'s \(otherKind) port")
                }
                taken[address] = (server.id, kind)
            }
        }
        guard let myid = config.myid else {
            throw ConfigurationError(file: "\(config.dataDir)/myid", line: 0,
                                     message: "myid file is missing: an ensemble member needs dataDir/myid holding its server id")
        }
        guard let me = config.servers[myid] else {
            let listed = config.servers.keys.sorted().map { "server.\($0)" }.joined(separator: ", ")
            throw ConfigurationError(file: "\(config.dataDir)/myid", line: 1,
                                     message: "myid \(myid) is not among the servers listed (\(listed))")
        }
        if me.role != config.peerType {
            warnings.append("\(file): peerType \(config.peerType) does not match server.\(myid)'s role \(me.role); using \(me.role), as ZooKeeper does")
            config.peerType = me.role
        }
    }
}
