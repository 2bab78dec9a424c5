import DataTree
import ServerCore

/// The `mntr` values (`MonitorCommand`, `ServerMetrics`), under ZooKeeper's key names.
/// Only figures Aviary really keeps are listed; nothing is reported as a made-up zero.
public enum Monitor {
    public static func values(_ core: ServerCore, _ context: ServerContext) -> [(key: String, value: String)] {
        let tree = core.tree
        let latency = core.statistics.latency
        let sessionCount = core.sessions.sessions.count
        var values: [(String, String)] = [
            ("version", context.version),
            ("server_state", context.mode.rawValue),
            ("avg_latency", FourLetterWords.javaDouble(latency.average)),
            ("max_latency", "\(latency.maximum)"),
            ("min_latency", "\(latency.minimum)"),
            ("packets_received", "\(core.statistics.packetsReceived)"),
            ("packets_sent", "\(core.statistics.packetsSent)"),
            ("num_alive_connections", "\(core.connectionCount)"),
            ("outstanding_requests", "\(core.outstandingRequests)"),
            ("znode_count", "\(FourLetterWords.nodeCount(core))"),
            ("watch_count", "\(tree.dataWatches.count + tree.childWatches.count)"),
            ("ephemerals_count", "\(tree.ephemerals.values.reduce(0) { $0 + $1.count })"),
            ("approximate_data_size", "\(tree.approximateDataSize)"),
            ("open_file_descriptor_count", "\(context.openFileDescriptors)"),
            ("max_file_descriptor_count", "\(context.maxFileDescriptors)"),
            ("uptime", "\(context.now.monotonicMillis - context.startedAt)"),
            ("global_sessions", "\(sessionCount - core.localSessionCount)"),
            ("local_sessions", "\(core.localSessionCount)"),
            ("connection_rejected", "\(core.statistics.connectionsRejected)"),
            ("auth_failed_count", "\(core.statistics.authFailures)"),
            ("unsuccessful_handshake", "\(core.statistics.unsuccessfulHandshakes)"),
            ("cnt_fsynctime", "\(context.fsyncCount)"),
            ("sum_fsynctime", "\(context.fsyncMillis)"),
            ("avg_fsynctime", FourLetterWords.javaDouble(context.fsyncCount == 0 ? 0
                : (Double(context.fsyncMillis) / Double(context.fsyncCount) * 10_000).rounded() / 10_000)),
        ]
        if let ensemble = context.ensemble {
            values.append(("peer_state", ensemble.peerState))
            values.append(("quorum_size", "\(ensemble.quorumSize)"))
            if let learners = ensemble.learners { values.append(("learners", "\(learners)")) }
            if let synced = ensemble.syncedFollowers { values.append(("synced_followers", "\(synced)")) }
            if let synced = ensemble.syncedObservers { values.append(("synced_observers", "\(synced)")) }
            if let pending = ensemble.pendingSyncs { values.append(("pending_syncs", "\(pending)")) }
            if let uptime = ensemble.leaderUptime { values.append(("leader_uptime", "\(uptime)")) }
        }
        values.sort { $0.0 < $1.0 }
        return values.map { (key: $0.0, value: $0.1) }
    }
}
