import ServerCore

/// What the dashboard polls each second: one JSON object per call.
public enum DashboardData {
    public static func json(_ core: ServerCore, _ context: ServerContext, fsync: LatencySamples,
                            events: [OperatorEvent], errors: [OperatorEvent]) -> String {
        let stats = core.statistics
        let tree = core.tree
        return JSONValue.object([
            ("version", .string(context.version)),
            ("members", .array(members(core, context))),
            ("packets_received", .int(stats.packetsReceived)),
            ("packets_sent", .int(stats.packetsSent)),
            ("reads", .int(stats.readLatency.count)),
            ("updates", .int(stats.updateLatency.count)),
            ("avg_latency", .double(stats.latency.average)),
            ("read_p50", .int(stats.readLatency.quantile(0.5))), ("read_p99", .int(stats.readLatency.quantile(0.99))),
            ("update_p50", .int(stats.updateLatency.quantile(0.5))), ("update_p99", .int(stats.updateLatency.quantile(0.99))),
            ("fsync_p50", .int(fsync.quantile(0.5))), ("fsync_p99", .int(fsync.quantile(0.99))),
            ("znodes", .int(Int64(FourLetterWords.nodeCount(core)))),
            ("watches", .int(Int64(tree.dataWatches.count + tree.childWatches.count))),
            ("sessions", .int(Int64(core.sessions.sessions.count))),
            ("connections", .int(Int64(core.connectionCount))),
            ("data_size", .int(Int64(tree.approximateDataSize))),
            ("events", .array(events.suffix(15).reversed().map { .object([
                ("time", .string(ISO8601Time.string(from: $0.time))), ("kind", .string($0.kind)),
                ("details", .string($0.details.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))),
            ]) })),
            ("errors", .array(errors.map(\.value))),
        ]).compact
    }

    /// This server, and in an ensemble every other configured member as this one sees it: the
    /// leader knows each learner's acknowledged zxid and when it last heard from it; a learner
    /// knows which member leads.
    static func members(_ core: ServerCore, _ context: ServerContext) -> [JSONValue] {
        let zxid = core.tree.lastProcessedZxid
        func hex(_ value: Int64) -> JSONValue { .string("0x" + String(UInt64(bitPattern: value), radix: 16)) }
        let me: [(String, JSONValue)] = [
            ("state", .string(context.mode.rawValue)), ("zxid", hex(zxid)), ("lag", .int(0)), ("heard_ms", .null),
            ("connections", .int(Int64(core.connectionCount))), ("outstanding", .int(Int64(core.outstandingRequests))),
            ("uptime_ms", .int(context.now.monotonicMillis - context.startedAt)),
        ]
        guard context.ensemble != nil else {
            let address = "\(context.configuration.clientPortAddress ?? "0.0.0.0"):\(context.configuration.clientPort)"
            return [.object([("server", .string(address))] + me)]
        }
        let servers = context.configuration.servers
        return PeerHealth.peers(core, context).map { peer in
            let server = servers[peer.id]
            let name: JSONValue = .string("server.\(peer.id) \(server?.host ?? "")" + (server?.clientPort.map { ":\($0)" } ?? ""))
            if peer.state == "self" { return .object([("server", name)] + me) }
            let state = peer.state == "synced" ? (peer.role == "observer" ? "observer" : "follower") : peer.state
            return .object([("server", name), ("state", .string(state)), ("zxid", peer.zxid.map(hex) ?? .null),
                            ("lag", peer.lag.map(JSONValue.int) ?? .null), ("heard_ms", peer.heardMillisAgo.map(JSONValue.int) ?? .null),
                            ("connections", .null), ("outstanding", .null), ("uptime_ms", .null)])
        }
    }
}
