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
        guard let ensemble = context.ensemble else {
            let address = "\(context.configuration.clientPortAddress ?? "0.0.0.0"):\(context.configuration.clientPort)"
            return [.object([("server", .string(address))] + me)]
        }
        let views = Dictionary(ensemble.learnerViews.map { ($0.sid, $0) }, uniquingKeysWith: { first, _ in first })
        return context.configuration.servers.values.sorted { $0.id < $1.id }.map { server in
            let name: JSONValue = .string("server.\(server.id) \(server.host)" + (server.clientPort.map { ":\($0)" } ?? ""))
            if server.id == ensemble.myid { return .object([("server", name)] + me) }
            let unknown: [(String, JSONValue)] = [("connections", .null), ("outstanding", .null), ("uptime_ms", .null)]
            if let view = views[server.id] {
                let acked = view.isObserver ? view.lastZxid : view.lastAckedZxid
                return .object([("server", name),
                                ("state", .string(!view.synced ? "synchronizing" : view.isObserver ? "observer" : "follower")),
                                ("zxid", acked < 0 ? .null : hex(acked)), ("lag", acked < 0 ? .null : .int(max(0, zxid - acked))),
                                ("heard_ms", .int(context.now.monotonicMillis - view.lastHeardMillis))] + unknown)
            }
            let state = server.id == ensemble.leaderId ? "leader" : ensemble.learnerViews.isEmpty && context.mode != .leader ? "unknown" : "not connected"
            return .object([("server", name), ("state", .string(state)), ("zxid", .null), ("lag", .null), ("heard_ms", .null)] + unknown)
        }
    }
}
