import ServerCore

/// `/metrics` in Prometheus' text format, under the names ZooKeeper's Prometheus provider
/// uses (the `mntr` keys without `zk_`; summaries as `name{quantile=...}`, `name_count`,
/// `name_sum`), plus a numeric server state and the process' own figures.
public enum PrometheusExposition {
    /// Figures of the process, read by the shell from /proc.
    public struct Process: Sendable {
        public var residentBytes: Int64
        public var virtualBytes: Int64
        public var cpuSeconds: Double
        public var startTimeSeconds: Double
        public init(residentBytes: Int64, virtualBytes: Int64, cpuSeconds: Double, startTimeSeconds: Double) {
            self.residentBytes = residentBytes; self.virtualBytes = virtualBytes
            self.cpuSeconds = cpuSeconds; self.startTimeSeconds = startTimeSeconds
        }
    }

    static let quantiles: [Double] = [0.5, 0.9, 0.99]
    /// `mntr` keys that are summaries in Prometheus, or not numbers at all.
    static let notGauges: Set<String> = ["version", "server_state", "cnt_fsynctime", "sum_fsynctime", "avg_fsynctime"]

    public static func render(_ core: ServerCore, _ context: ServerContext, process: Process, fsyncSamples: LatencySamples) -> String {
        var out = ""
        func gauge(_ name: String, _ value: String, help: String? = nil, type: String = "gauge", labels: String = "") {
            if let help { out += "# HELP \(name) \(help)\n" }
            out += "# TYPE \(name) \(type)\n\(name)\(labels) \(value)\n"
        }
        for (key, value) in Monitor.values(core, context) where !notGauges.contains(key) && Double(value) != nil {
            gauge(key, value)
        }
        summary("readlatency", core.statistics.readLatency, help: "Read request latency in milliseconds", into: &out)
        summary("updatelatency", core.statistics.updateLatency, help: "Update request latency in milliseconds", into: &out)
        summary("fsynctime", fsyncSamples, help: "Transaction log fsync time in milliseconds", into: &out)
        context.ensemble?.statistics.render(into: &out)
        out += "# HELP aviary_server_state The server's state: 1 for the state it is in\n# TYPE aviary_server_state gauge\n"
        for state in ServerMode.allCases {
            out += "aviary_server_state{state=\"\(state.rawValue)\"} \(state == context.mode ? 1 : 0)\n"
        }
        gauge("aviary_is_leader", context.mode == .leader ? "1" : "0", help: "1 while this server leads its ensemble")
        gauge("aviary_log_write_failures", "\(context.logWriteFailures)",
              help: "Log lines that could not be written (full disk, I/O error, closed pipe)", type: "counter")
        gauge("aviary_serving", core.serving ? "1" : "0", help: "1 while the server answers client requests")
        peerSeries(PeerHealth.peers(core, context), into: &out)
        gauge("aviary_last_zxid", "\(core.tree.lastProcessedZxid)",
              help: "The zxid of the last transaction applied (epoch << 32 | counter): members of one ensemble should agree")
        gauge("process_resident_memory_bytes", "\(process.residentBytes)", help: "Resident memory size in bytes")
        gauge("process_virtual_memory_bytes", "\(process.virtualBytes)", help: "Virtual memory size in bytes")
        gauge("process_open_fds", "\(context.openFileDescriptors)", help: "Open file descriptors")
        gauge("process_max_fds", "\(context.maxFileDescriptors)", help: "Maximum open file descriptors")
        gauge("process_cpu_seconds_total", "\(process.cpuSeconds)", help: "User and system CPU time", type: "counter")
        gauge("process_start_time_seconds", "\(process.startTimeSeconds)", help: "Start time since the epoch in seconds")
        return out
    }

    static func summary(_ name: String, _ samples: LatencySamples, help: String, into out: inout String) {
        out += "# HELP \(name) \(help)\n# TYPE \(name) summary\n"
        for q in quantiles { out += "\(name){quantile=\"\(q)\"} \(samples.quantile(q))\n" }
        out += "\(name)_count \(samples.count)\n\(name)_sum \(samples.sum)\n"
    }

    /// `aviary_peer_*{peer="N"}`: each other member as this server sees it.
    static func peerSeries(_ peers: [PeerHealth], into out: inout String) {
        let others = peers.filter { $0.state != "self" }
        guard !others.isEmpty else { return }
        func series(_ name: String, _ help: String, _ value: (PeerHealth) -> Int64?) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n"
            for peer in others { if let v = value(peer) { out += "\(name){peer=\"\(peer.id)\",role=\"\(peer.role)\"} \(v)\n" } }
        }
        series("aviary_peer_up", "1 while the member takes part in the quorum, as far as this server knows") {
            $0.state == "unknown" ? nil : ($0.isUp ? 1 : 0)
        }
        series("aviary_peer_lag", "Transactions the member is behind this server") { $0.lag }
        series("aviary_peer_lag_ms", "Milliseconds since the oldest proposal the follower has not acknowledged was sent") { $0.lagMillis }
        series("aviary_peer_last_heard_ms", "Milliseconds since a packet from the member arrived") { $0.heardMillisAgo }
        series("aviary_peer_round_trip_ms", "The last PING round trip to the member in milliseconds") { $0.roundTripMillis }
    }
}
