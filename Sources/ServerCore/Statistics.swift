import ZooKeeperProtocol

/// Request latency in milliseconds: min, max and mean (`ServerStats`, `ServerCnxn` stats).
public struct LatencyStatistics: Sendable, Hashable {
    public private(set) var count: Int64 = 0
    public private(set) var total: Int64 = 0
    public private(set) var minimum: Int64 = 0
    public private(set) var maximum: Int64 = 0

    public init() {}

    mutating func record(_ latency: Int64) {
        minimum = count == 0 ? latency : min(minimum, latency)
        maximum = max(maximum, latency)
        total += latency
        count += 1
    }

    /// The mean, as ZooKeeper reports it (a double rounded to four places).
    public var average: Double {
        count == 0 ? 0 : (Double(total) / Double(count) * 10_000).rounded() / 10_000
    }
}

/// The most recent latencies of one kind, for quantiles (a ring of the last 4,096), plus
/// the count and sum of all of them (a Prometheus summary).
public struct LatencySamples: Sendable, Hashable {
    static let capacity = 4096
    private var ring: [Int64] = []
    private var next = 0
    public private(set) var count: Int64 = 0
    public private(set) var sum: Int64 = 0

    public init() {}

    /// Samples gathered elsewhere (the log writer's fsyncs), with the totals of all of them.
    public init(recent: [Int64], count: Int64, sum: Int64) {
        ring = Array(recent.suffix(Self.capacity))
        next = ring.count % Self.capacity
        self.count = count
        self.sum = sum
    }

    public mutating func record(_ value: Int64) {
        if ring.count < Self.capacity { ring.append(value) } else { ring[next] = value }
        next = (next + 1) % Self.capacity
        count += 1
        sum += value
    }

    /// The `q` quantile (0...1) of the recent samples; 0 when there are none.
    public func quantile(_ q: Double) -> Int64 {
        guard !ring.isEmpty else { return 0 }
        let sorted = ring.sorted()
        return sorted[min(sorted.count - 1, max(0, Int((q * Double(sorted.count)).rounded(.up)) - 1))]
    }
}

/// What one client connection has done (`ServerCnxn`'s counters, shown by `cons` and `stat`).
public struct ConnectionStatistics: Sendable, Hashable {
    /// `ip:port` of the client.
    public var remote: String
    /// Wall-clock milliseconds when the connection was accepted.
    public var established: Int64
    public var packetsReceived: Int64 = 0
    public var packetsSent: Int64 = 0
    /// ZooKeeper's short name of the last operation answered (`PING`, `GETD`, ...).
    public var lastOperation = "NA"
    public var lastCxid: Int64 = -1
    public var lastZxid: Int64 = -1
    /// Monotonic milliseconds of the last response.
    public var lastResponseTime: Int64 = 0
    public var lastLatency: Int64 = 0
    public var latency = LatencyStatistics()

    mutating func reset() {
        packetsReceived = 0
        packetsSent = 0
        lastOperation = "NA"
        lastCxid = -1
        lastZxid = -1
        lastResponseTime = 0
        lastLatency = 0
        latency = LatencyStatistics()
    }
}

/// Server-wide counters (`ServerStats`), shown by `srvr`, `stat` and `mntr`.
public struct ServerStatistics: Sendable, Hashable {
    public var packetsReceived: Int64 = 0
    public var packetsSent: Int64 = 0
    public var latency = LatencyStatistics()
    /// Connections refused (too many from one address).
    public var connectionsRejected: Int64 = 0
    /// Authentication packets refused, and TLS clients whose certificate was refused.
    public var authFailures: Int64 = 0
    /// TLS handshakes that failed or did not finish in time (`unsuccessful_handshake`).
    public var unsuccessfulHandshakes: Int64 = 0
    /// Latency of reads and of updates, for `readlatency` and `updatelatency`.
    public var readLatency = LatencySamples()
    public var updateLatency = LatencySamples()

    mutating func reset() {
        packetsReceived = 0
        packetsSent = 0
        latency = LatencyStatistics()
    }
}

extension OpCode {
    /// The short name ZooKeeper's `cons` shows as `lop` (`FinalRequestProcessor`'s `lastOp`).
    public var lastOperationName: String {
        switch self {
        case .ping: return "PING"
        case .createSession: return "SESS"
        case .multi: return "MULT"
        case .multiRead: return "MLTR"
        case .create, .create2, .createTTL, .createContainer: return "CREA"
        case .delete, .deleteContainer: return "DELE"
        case .setData: return "SETD"
        case .reconfig: return "RECO"
        case .setACL: return "SETA"
        case .closeSession: return "CLOS"
        case .sync: return "SYNC"
        case .check: return "CHEC"
        case .exists: return "EXIS"
        case .getData: return "GETD"
        case .setWatches: return "SETW"
        case .setWatches2: return "STW2"
        case .addWatch: return "ADDW"
        case .getACL: return "GETA"
        case .getChildren, .getChildren2: return "GETC"
        case .getAllChildrenNumber: return "GETACN"
        case .checkWatches: return "CHKW"
        case .removeWatches: return "REMW"
        case .getEphemerals: return "GETE"
        case .whoAmI: return "HOMI"
        default: return "NA"
        }
    }
}
