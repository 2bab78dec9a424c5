import Configuration
import DataTree
import Foundation
import ServerCore
import ZooKeeperProtocol

/// The four-letter words, answered in Apache ZooKeeper's formats
/// (`server/command/*Command.java`, `ServerCnxn.dumpConnectionInfo`, `ServerStats`).
public enum FourLetterWords {
    /// Every word ZooKeeper knows.
    public static let all: [String] = [
        "conf", "cons", "crst", "dirs", "dump", "envi", "gtmk", "ruok", "stmk", "srvr", "srst", "stat",
        "wchc", "wchp", "wchs", "mntr", "isro", "hash",
        // Aviary's own: how this server sees each member of its ensemble (`aviary member list`).
        "peer",
    ]

    /// What a member outside a serving quorum answers the words that need one.
    public static let notServing = "This ZooKeeper instance is not currently serving requests\n"
    static let servingOnly: Set<String> = [
        "srvr", "stat", "cons", "crst", "srst", "wchs", "wchc", "wchp", "dump", "mntr", "hash", "conf", "dirs", "peer",
    ]

    /// Words that change nothing: Aviary's default allow-list (ZooKeeper's is `srvr` alone).
    public static let readOnly: Set<String> = Set(all).subtracting(["crst", "srst", "stmk"])

    /// The answer to `word`. `crst` and `srst` reset the core's counters.
    public static func answer(_ word: String, core: inout ServerCore, context: ServerContext) -> String {
        if context.mode == .looking && servingOnly.contains(word) { return notServing }
        switch word {
        case "ruok": return "imok"
        case "isro": return context.mode == .looking ? "null" : context.mode == .readOnly ? "ro" : "rw"
        case "gtmk", "stmk": return "\(context.traceMask)"
        case "srvr": return serverStats(core, context, clients: false)
        case "stat": return serverStats(core, context, clients: true)
        case "cons": return connections(core, brief: false) + "\n"
        case "crst":
            core.resetConnectionStatistics()
            return "Connection stats reset.\n"
        case "srst":
            core.resetServerStatistics()
            return "Server stats reset.\n"
        case "conf": return configuration(core, context)
        case "dirs": return "datadir_size: \(context.snapshotDirectorySize)\nlogdir_size: \(context.logDirectorySize)\n"
        case "envi": return environment(context)
        case "wchs": return watchSummary(core)
        case "wchc": return watchesBySession(core)
        case "wchp": return watchesByPath(core)
        case "dump": return dump(core, context)
        case "mntr": return Monitor.values(core, context).map { "zk_\($0.key)\t\($0.value)\n" }.joined()
        case "peer":
            return PeerHealth.peers(core, context).map { peer in
                func number(_ value: Int64?) -> String { value.map(String.init) ?? "-" }
                return "id=\(peer.id) role=\(peer.role) state=\(peer.state.replacingOccurrences(of: " ", with: "_")) "
                    + "zxid=\(peer.zxid.map { "0x" + String(UInt64(bitPattern: $0), radix: 16) } ?? "-") lag=\(number(peer.lag)) "
                    + "lag_ms=\(number(peer.lagMillis)) heard_ms=\(number(peer.heardMillisAgo)) round_trip_ms=\(number(peer.roundTripMillis)) "
                    + "seen_by=\(peer.seenBy)\n"
            }.joined()
        case "hash":
            // DigestCommand: one line per logged digest, the zxid in hex.
            return core.tree.digestLog.map { "\(hex($0.zxid)): \($0.digest)\n" }.joined()
        default: return "\(word) is not a known command.\n"
        }
    }

    /// ZooKeeper keeps the root under both "" and "/", and its node count shows both;
    /// Aviary reports the same figure so that dashboards and alerts compare like for like.
    static func nodeCount(_ core: ServerCore) -> Int { core.tree.nodeCount + 1 }

    static func hex(_ value: Int64) -> String { String(UInt64(bitPattern: value), radix: 16) }

    /// A latency mean the way Java prints a double.
    static func javaDouble(_ value: Double) -> String {
        value == value.rounded() ? String(format: "%.1f", value) : "\(value)"
    }

    static func serverStats(_ core: ServerCore, _ context: ServerContext, clients: Bool) -> String {
        var text = "Zookeeper version: \(context.version)\n"
        if clients { text += "Clients:\n" + connections(core, brief: true) + "\n" }
        let latency = core.statistics.latency
        text += "Latency min/avg/max: \(latency.minimum)/\(javaDouble(latency.average))/\(latency.maximum)\n"
        text += "Received: \(core.statistics.packetsReceived)\n"
        text += "Sent: \(core.statistics.packetsSent)\n"
        text += "Connections: \(core.connectionCount)\n"
        text += "Outstanding: \(core.outstandingRequests)\n"
        text += "Zxid: 0x\(hex(core.tree.lastProcessedZxid))\n"
        text += "Mode: \(context.mode.rawValue)\n"
        text += "Node count: \(nodeCount(core))\n"
        return text
    }

    /// One line per connection (`ServerCnxn.dumpConnectionInfo`).
    static func connections(_ core: ServerCore, brief: Bool) -> String {
        core.connectionViews.map { view in
            let s = view.statistics
            var line = " /\(s.remote)[\(view.sessionId == nil ? 0 : 1)](queued=0,recved=\(s.packetsReceived),sent=\(s.packetsSent)"
            if !brief, let session = view.sessionId, session != 0 {
                line += ",sid=0x\(hex(session)),lop=\(s.lastOperation),est=\(s.established),to=\(view.sessionTimeout ?? 0)"
                if s.lastCxid >= 0 { line += ",lcxid=0x\(hex(s.lastCxid))" }
                line += ",lzxid=0x\(hex(s.lastZxid)),lresp=\(s.lastResponseTime),llat=\(s.lastLatency)"
                line += ",minlat=\(s.latency.minimum),avglat=\(s.latency.count == 0 ? 0 : s.latency.total / s.latency.count),maxlat=\(s.latency.maximum)"
            }
            return line + ")\n"
        }.joined()
    }

    static func configuration(_ core: ServerCore, _ context: ServerContext) -> String {
        let c = context.configuration
        let bounds = core.configuration.sessionTimeoutBounds
        return """
            clientPort=\(c.clientPort)
            secureClientPort=-1
            dataDir=\(context.snapshotDirectory)
            dataDirSize=\(context.snapshotDirectorySize)
            dataLogDir=\(context.logDirectory)
            dataLogSize=\(context.logDirectorySize)
            tickTime=\(c.tickTime)
            maxClientCnxns=\(c.maxClientCnxns)
            minSessionTimeout=\(bounds.lowerBound)
            maxSessionTimeout=\(bounds.upperBound)
            clientPortListenBacklog=-1
            serverId=\(c.myid ?? 0)

            """ + quorumConfiguration(context)
    }

    /// A member's part of `conf` (`QuorumZooKeeperServer.dumpConf`): limits, election
    /// algorithm, its ports and learner type (0 participant, 1 observer), then the membership
    /// in force as `/zookeeper/config` holds it.
    static func quorumConfiguration(_ context: ServerContext) -> String {
        guard let ensemble = context.ensemble else { return "" }
        let c = context.configuration
        let me = c.servers[ensemble.myid]
        return "initLimit=\(c.initLimit)\nsyncLimit=\(c.syncLimit)\nelectionAlg=3\n"
            + "electionPort=\(me.map { String($0.electionPort) } ?? "")\nquorumPort=\(me.map { String($0.quorumPort) } ?? "")\n"
            + "peerType=\(me?.role == "observer" ? 1 : 0)\nmembership: \n" + Membership(servers: c.servers, version: c.configVersion).text
    }

    static func environment(_ context: ServerContext) -> String {
        "Environment:\nzookeeper.version=\(context.version)\n" + context.environment.map { "\($0.0)=\($0.1)\n" }.joined()
    }

    /// `wchs`, `wchc` and `wchp` read the data-watch table, as ZooKeeper's do.
    static func watchSummary(_ core: ServerCore) -> String {
        let table = core.tree.dataWatches
        return "\(table.pathsByWatcher.count) connections watching \(table.watchesByPath.count) paths\nTotal watches:\(table.count)\n"
    }

    static func sessionName(_ core: ServerCore, _ watcher: WatcherID) -> String {
        let session = core.connectionViews.first { $0.id == watcher }?.sessionId ?? 0
        return "0x" + hex(session)
    }

    static func watchesBySession(_ core: ServerCore) -> String {
        let table = core.tree.dataWatches
        var text = ""
        for (watcher, paths) in table.pathsByWatcher.sorted(by: { $0.key < $1.key }) {
            text += sessionName(core, watcher) + "\n" + paths.sorted().map { "\t\($0)\n" }.joined()
        }
        return text + "\n"
    }

    static func watchesByPath(_ core: ServerCore) -> String {
        let table = core.tree.dataWatches
        var text = ""
        for (path, watchers) in table.watchesByPath.sorted(by: { $0.key < $1.key }) {
            text += path + "\n" + watchers.keys.sorted().map { "\t\(sessionName(core, $0))\n" }.joined()
        }
        return text + "\n"
    }

    static let dateFormatter: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE MMM dd HH:mm:ss 'UTC' yyyy"
        return formatter
    }()

    /// A monotonic deadline as Java's `Date.toString` shows it.
    static func date(_ monotonic: Int64, _ now: Now) -> String {
        dateFormatter.string(from: Date(timeIntervalSince1970: Double(now.wallMillis + monotonic - now.monotonicMillis) / 1000))
    }

    static func dump(_ core: ServerCore, _ context: ServerContext) -> String {
        let sessions = core.sessions.sessions.values.sorted { ($0.expiresAt, $0.id) < ($1.expiresAt, $1.id) }
        let buckets = Dictionary(grouping: sessions, by: \.expiresAt).sorted { $0.key < $1.key }
        var text = "SessionTracker dump:\nSession Sets (\(buckets.count))/(\(sessions.count)):\n"
        for (expiry, members) in buckets {
            text += "\(members.count) expire at \(date(expiry, context.now)):\n" + members.map { "\t0x\(hex($0.id))\n" }.joined()
        }
        let ephemerals = core.tree.ephemerals.sorted { $0.key < $1.key }
        text += "ephemeral nodes dump:\nSessions with Ephemerals (\(ephemerals.count)):\n"
        for (session, paths) in ephemerals {
            text += "0x\(hex(session)):\n" + paths.sorted().map { "\t\($0)\n" }.joined()
        }
        let connections = core.connectionViews
        text += "Connections dump:\nConnections Sets (\(connections.isEmpty ? 0 : 1))/(\(connections.count)):\n"
        if !connections.isEmpty {
            text += "\(connections.count) expire at \(date(context.now.monotonicMillis + Int64(context.configuration.tickTime) * 5, context.now)):\n"
            text += connections.map { "\tip: /\($0.statistics.remote) sessionId: 0x\(hex($0.sessionId ?? 0))\n" }.joined()
        }
        return text
    }
}
