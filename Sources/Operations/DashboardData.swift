import ServerCore

/// What the dashboard polls each second: one JSON object per call.
public enum DashboardData {
    public static func json(_ core: ServerCore, _ context: ServerContext, fsync: LatencySamples,
                            events: [OperatorEvent], errors: [OperatorEvent]) -> String {
        let stats = core.statistics
        let tree = core.tree
        let member: JSONValue = .object([
            ("server", .string("\(context.configuration.clientPortAddress ?? "0.0.0.0"):\(context.configuration.clientPort)")),
            ("state", .string(context.mode.rawValue)),
            ("zxid", .string("0x" + String(UInt64(bitPattern: tree.lastProcessedZxid), radix: 16))),
            ("connections", .int(Int64(core.connectionCount))),
            ("outstanding", .int(Int64(core.outstandingRequests))),
            ("uptime_ms", .int(context.now.monotonicMillis - context.startedAt)),
        ])
        return JSONValue.object([
            ("version", .string(context.version)),
            ("members", .array([member])),
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
}
