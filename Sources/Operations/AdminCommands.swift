import DataTree
import ServerCore

/// The AdminServer's commands (`server/admin/Commands.java`): `/commands/<name>` answers
/// JSON with ZooKeeper's field names, `command` and `error` last.
public enum AdminCommands {
    /// Primary names with their aliases, in ZooKeeper's order.
    public static let names: [(primary: String, aliases: [String])] = [
        ("configuration", ["conf", "config"]), ("connection_stat_reset", ["crst"]), ("connections", ["cons"]),
        ("dirs", []), ("dump", []), ("environment", ["env", "envi"]), ("get_trace_mask", ["gtmk"]), ("hash", []),
        ("initial_configuration", ["icfg"]), ("is_read_only", ["isro"]), ("last_snapshot", ["lsnp"]),
        ("leader", ["lead"]), ("monitor", ["mntr"]), ("observer_connection_stat_reset", ["orst"]),
        ("observers", ["obsr"]), ("ruok", []), ("server_stats", ["srvr"]), ("set_trace_mask", ["stmk"]),
        ("stat_reset", ["srst"]), ("stats", ["stat"]), ("system_properties", ["sysp"]), ("voting_view", []),
        ("watch_summary", ["wchs"]), ("watches", ["wchc"]), ("watches_by_path", ["wchp"]), ("zabstate", []),
        // Aviary's own, after ZooKeeper's: how this server sees each member (failure detection).
        ("peers", []),
    ]

    /// The primary name for `name` or one of its aliases.
    public static func primary(_ name: String) -> String? {
        names.first { $0.primary == name || $0.aliases.contains(name) }?.primary
    }

    /// The `/commands` page: a link per command, as ZooKeeper serves it.
    public static var index: String {
        names.map { "<a href=\"/commands/\($0.primary)\">\($0.primary)</a>\n<br/>\n" }.joined()
    }

    /// Runs a command. `parameters` are the query parameters (`set_trace_mask?traceMask=...`).
    public static func run(_ name: String, parameters: [String: String], core: inout ServerCore,
                           context: inout ServerContext) -> JSONValue {
        guard let primary = primary(name) else {
            return .object([("command", .string(name)), ("error", .string("Unknown command: \(name)"))])
        }
        if primary == "set_trace_mask" && parameters["traceMask"].flatMap({ Int64($0) }) == nil {
            return .object([("error", .string("setTraceMask requires long traceMask argument")), ("command", .string(primary))])
        }
        var fields = fieldsOf(primary, parameters: parameters, core: &core, context: &context)
        fields.append(("command", .string(primary)))
        fields.append(("error", .null))
        return .object(fields)
    }

    static func ids<S: Sequence>(_ values: S) -> JSONValue where S.Element == Int64 { .array(values.map { .int($0) }) }
    static func strings<S: Sequence>(_ values: S) -> JSONValue where S.Element == String { .array(values.map { .string($0) }) }

    static func serverStats(_ core: ServerCore, _ context: ServerContext) -> [(String, JSONValue)] {
        let latency = core.statistics.latency
        let views = core.connectionViews
        let local = views.filter { $0.statistics.remote.hasPrefix("127.") || $0.statistics.remote.hasPrefix("[::1]") }.count
        let responses: JSONValue = .object([
            ("last_buffer_size", .int(context.responseSizes.last)), ("min_buffer_size", .int(context.responseSizes.min)),
            ("max_buffer_size", .int(context.responseSizes.max)),
        ])
        return [
            ("version", .string(context.version)),
            ("read_only", .bool(false)),
            ("server_stats", .object([
                ("packets_sent", .int(core.statistics.packetsSent)),
                ("packets_received", .int(core.statistics.packetsReceived)),
                ("fsync_threshold_exceed_count", .int(context.slowFsyncCount)),
                ("client_response_stats", responses),
                ("data_dir_size", .int(context.snapshotDirectorySize)),
                ("log_dir_size", .int(context.logDirectorySize)),
                ("provider_null", .bool(context.configuration.metricsPort == 0)),
                ("server_state", .string(context.mode.rawValue)),
                ("last_processed_zxid", .int(core.tree.lastProcessedZxid)),
                ("outstanding_requests", .int(Int64(core.outstandingRequests))),
                ("avg_latency", .double(latency.average)),
                ("max_latency", .int(latency.maximum)),
                ("min_latency", .int(latency.minimum)),
                ("num_alive_client_connections", .int(Int64(views.filter { $0.sessionId != nil }.count))),
                ("uptime", .int(context.now.monotonicMillis - context.startedAt)),
                ("auth_failed_count", .int(core.statistics.authFailures)),
                ("non_mtlsremote_conn_count", .int(Int64(views.count - local))),
                ("non_mtlslocal_conn_count", .int(Int64(local))),
            ])),
            ("client_response", responses),
            ("node_count", .int(Int64(FourLetterWords.nodeCount(core)))),
        ]
    }

    static func connection(_ view: ServerCore.ConnectionView, full: Bool) -> JSONValue {
        let s = view.statistics
        var fields: [(String, JSONValue)] = [
            ("remote_socket_address", .string(s.remote)), ("interest_ops", .int(view.sessionId == nil ? 0 : 1)),
            ("outstanding_requests", .int(0)), ("packets_received", .int(s.packetsReceived)), ("packets_sent", .int(s.packetsSent)),
        ]
        if full, let session = view.sessionId {
            fields += [
                ("session_id", .int(session)), ("last_operation", .string(s.lastOperation)), ("established", .int(s.established)),
                ("session_timeout", .int(Int64(view.sessionTimeout ?? 0))), ("last_cxid", .int(s.lastCxid)),
                ("last_zxid", .int(s.lastZxid)), ("last_response_time", .int(s.lastResponseTime)),
                ("last_latency", .int(s.lastLatency)), ("min_latency", .int(s.latency.minimum)),
                ("avg_latency", .int(s.latency.count == 0 ? 0 : s.latency.total / s.latency.count)),
                ("max_latency", .int(s.latency.maximum)),
            ]
        }
        return .object(fields)
    }

    static func sessionOf(_ core: ServerCore, _ watcher: WatcherID) -> Int64 {
        core.connectionViews.first { $0.id == watcher }?.sessionId ?? 0
    }

    static func fieldsOf(_ primary: String, parameters: [String: String], core: inout ServerCore,
                         context: inout ServerContext) -> [(String, JSONValue)] {
        let tree = core.tree
        switch primary {
        case "configuration":
            let c = context.configuration
            let bounds = core.configuration.sessionTimeoutBounds
            return [
                ("client_port", .int(Int64(c.clientPort))), ("data_dir", .string(context.snapshotDirectory)),
                ("data_log_dir", .string(context.logDirectory)), ("tick_time", .int(Int64(c.tickTime))),
                ("max_client_cnxns", .int(Int64(c.maxClientCnxns))), ("min_session_timeout", .int(Int64(bounds.lowerBound))),
                ("max_session_timeout", .int(Int64(bounds.upperBound))), ("server_id", .int(c.myid ?? 0)),
                ("client_port_listen_backlog", .int(-1)),
            ]
        case "connection_stat_reset":
            core.resetConnectionStatistics()
            return []
        case "connections":
            return [("connections", .array(core.connectionViews.map { connection($0, full: true) })), ("secure_connections", .array([]))]
        case "dirs":
            return [("datadir_size", .int(context.snapshotDirectorySize)), ("logdir_size", .int(context.logDirectorySize))]
        case "dump":
            let now = context.now
            let byExpiry = Dictionary(grouping: core.sessions.sessions.values) { now.wallMillis + $0.expiresAt - now.monotonicMillis }
            return [
                ("expiry_time_to_session_ids", .object(byExpiry.sorted { $0.key < $1.key }.map { (String($0.key), ids($0.value.map(\.id).sorted())) })),
                ("session_id_to_ephemeral_paths", .object(tree.ephemerals.sorted { $0.key < $1.key }.map { (String($0.key), strings($0.value.sorted())) })),
            ]
        case "environment", "system_properties":
            return [("zookeeper.version", .string(context.version))] + context.environment.map { ($0.0, .string($0.1)) }
        case "get_trace_mask":
            return [("tracemask", .int(context.traceMask))]
        case "set_trace_mask":
            if let mask = parameters["traceMask"].flatMap({ Int64($0) }) { context.traceMask = mask }
            return [("tracemask", .int(context.traceMask))]
        case "hash":
            return [("digests", .array(core.tree.digestLog.map { entry in
                .object([("zxid", .int(entry.zxid)), ("digestVersion", .int(Int64(ZnodeDigest.version))), ("digest", .int(entry.digest))])
            }))]
        case "initial_configuration":
            return [("initial_configuration", .string(context.initialConfiguration))]
        case "is_read_only":
            return [("read_only", .bool(false))]
        case "last_snapshot":
            return [("zxid", .string(String(UInt64(bitPattern: context.lastSnapshotZxid), radix: 16))),
                    ("timestamp", .int(context.lastSnapshotTimestamp))]
        case "leader":
            guard let ensemble = context.ensemble else {
                // ZooKeeper answers an error here in standalone mode; the truth is that nothing leads.
                return [("is_leader", .bool(context.mode == .leader)), ("leader_id", .null), ("leader_ip", .null)]
            }
            return [("is_leader", .bool(context.mode == .leader)), ("leader_id", .int(ensemble.leaderId ?? -1)),
                    ("leader_ip", .string(ensemble.leaderHost ?? ""))]
        case "monitor":
            return Monitor.values(core, context).map { key, value in
                if let number = Int64(value) { return (key, .int(number)) }
                if let number = Double(value) { return (key, .double(number)) }
                return (key, .string(value))
            }
        case "observer_connection_stat_reset":
            return []
        case "observers":
            let observers = (context.ensemble?.learnerViews ?? []).filter { $0.isObserver && $0.synced }
            return [("synced_observers", .int(Int64(observers.count))), ("observers", .array(observers.map(learnerInfo)))]
        case "ruok":
            return []
        case "server_stats":
            return serverStats(core, context)
        case "stat_reset":
            core.resetServerStatistics()
            return []
        case "stats":
            return serverStats(core, context) + [
                ("connections", .array(core.connectionViews.map { connection($0, full: false) })), ("secure_connections", .array([])),
            ]
        case "voting_view":
            guard context.ensemble != nil else { return [("current_config", .object([]))] }
            let voters = context.configuration.servers.values.filter { $0.role != "observer" }.sorted { $0.id < $1.id }
            return [("current_config", .object(voters.map { server in
                (String(server.id), .object([
                    ("server_addresses", .array([.string("\(server.host):\(server.quorumPort)")])),
                    ("election_addresses", .array([.string("\(server.host):\(server.electionPort)")])),
                    ("client_address", .string(server.clientPort.map { "\(server.clientAddress ?? "0.0.0.0"):\($0)" } ?? "")),
                    ("learner_type", .string("participant")),
                ]))
            }))]
        case "peers":
            return [("peers", .array(PeerHealth.peers(core, context).map { peer in
                .object([("id", .int(peer.id)), ("role", .string(peer.role)), ("state", .string(peer.state)),
                         ("zxid", peer.zxid.map { .string("0x" + String(UInt64(bitPattern: $0), radix: 16)) } ?? .null),
                         ("lag", peer.lag.map(JSONValue.int) ?? .null), ("lag_ms", peer.lagMillis.map(JSONValue.int) ?? .null),
                         ("heard_ms_ago", peer.heardMillisAgo.map(JSONValue.int) ?? .null),
                         ("round_trip_ms", peer.roundTripMillis.map(JSONValue.int) ?? .null), ("seen_by", .string(peer.seenBy))])
            }))]
        case "watch_summary":
            let table = tree.dataWatches
            return [("num_connections", .int(Int64(table.pathsByWatcher.count))), ("num_paths", .int(Int64(table.watchesByPath.count))),
                    ("num_total_watches", .int(Int64(table.count)))]
        case "watches":
            let table = tree.dataWatches
            return [("session_id_to_watched_paths", .object(table.pathsByWatcher.sorted { $0.key < $1.key }.map {
                (String(sessionOf(core, $0.key)), strings($0.value.sorted()))
            }))]
        case "watches_by_path":
            let table = tree.dataWatches
            return [("path_to_session_ids", .object(table.watchesByPath.sorted { $0.key < $1.key }.map {
                ($0.key, ids($0.value.keys.sorted().map { sessionOf(core, $0) }))
            }))]
        case "zabstate":
            guard let ensemble = context.ensemble else { return [("voting", .bool(false)), ("zabstate", .string(""))] }
            let me = context.configuration.servers[ensemble.myid]
            let zxid = core.tree.lastProcessedZxid
            return [("myid", .int(ensemble.myid)), ("is_leader", .bool(context.mode == .leader)),
                    ("quorum_address", .string(me.map { "\($0.host):\($0.quorumPort)" } ?? "")),
                    ("election_address", .string(me.map { "\($0.host):\($0.electionPort)" } ?? "")),
                    ("client_address", .string(me?.clientPort.map { "\(me?.clientAddress ?? "0.0.0.0"):\($0)" } ?? "")),
                    ("voting", .bool(ensemble.voting)),
                    ("last_zxid", .string("0x" + String(UInt64(bitPattern: zxid), radix: 16))),
                    ("zab_epoch", .int(zxid >> 32)), ("zab_counter", .int(zxid & 0xFFFF_FFFF)),
                    ("zabstate", .string(ensemble.zabState))]
        default:
            return []
        }
    }

    /// `LearnerHandler.getLearnerHandlerInfo`.
    private static func learnerInfo(_ view: LearnerView) -> JSONValue {
        .object([("remote_socket_address", .string(view.remoteAddress)), ("sid", .int(view.sid)),
                 ("established", .int(view.establishedMillis)), ("queued_packets", .int(0)), ("queued_packets_size", .int(0)),
                 ("packets_received", .int(view.packetsReceived)), ("packets_sent", .int(view.packetsSent)),
                 ("requests", .int(view.requests)), ("last_zxid", .int(view.lastZxid))])
    }
}
