import Foundation

/// One server's state as `srvr` reports it: parsed by `aviary status`.
public struct ServerStatus: Sendable, Equatable, Codable {
    public var address: String
    public var reachable: Bool
    public var error: String?
    public var mode: String?
    public var zxid: Int64?
    public var latency: String?
    public var connections: Int?
    public var outstanding: Int?
    public var znodes: Int?
    public var received: Int64?
    public var sent: Int64?
    public var version: String?
    /// Transactions behind the newest zxid among the servers asked.
    public var lag: Int64?

    public init(address: String, error: String) {
        self.address = address
        reachable = false
        self.error = error
    }

    /// Parses `srvr` output (ZooKeeper's or Aviary's).
    public init(address: String, srvr text: String) {
        self.address = address
        reachable = true
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else { continue }
            switch parts[0] {
            case "Zookeeper version": version = parts[1]
            case "Latency min/avg/max": latency = parts[1]
            case "Received": received = Int64(parts[1])
            case "Sent": sent = Int64(parts[1])
            case "Connections": connections = Int(parts[1])
            case "Outstanding": outstanding = Int(parts[1])
            case "Zxid": zxid = parts[1].hasPrefix("0x") ? Int64(parts[1].dropFirst(2), radix: 16) : Int64(parts[1])
            case "Mode": mode = parts[1]
            case "Node count": znodes = Int(parts[1])
            default: break
            }
        }
        if mode == nil {
            reachable = false
            error = text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? "no answer to srvr" : text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    /// Fills in each server's lag behind the newest zxid.
    public static func withLag(_ statuses: [ServerStatus]) -> [ServerStatus] {
        let newest = statuses.compactMap(\.zxid).max() ?? 0
        return statuses.map { status in
            var status = status
            status.lag = status.zxid.map { newest - $0 }
            return status
        }
    }

    /// A table, one row per server.
    public static func table(_ statuses: [ServerStatus]) -> String {
        let header = ["SERVER", "STATE", "ZXID", "LAG", "LATENCY min/avg/max", "CONNECTIONS", "OUTSTANDING", "ZNODES"]
        let rows = statuses.map { s -> [String] in
            guard s.reachable else { return [s.address, "unreachable: " + (s.error ?? ""), "", "", "", "", "", ""] }
            return [s.address, s.mode ?? "?", s.zxid.map { "0x" + String(UInt64(bitPattern: $0), radix: 16) } ?? "?",
                    s.lag.map(String.init) ?? "?", s.latency ?? "?", s.connections.map(String.init) ?? "?",
                    s.outstanding.map(String.init) ?? "?", s.znodes.map(String.init) ?? "?"]
        }
        return render([header] + rows)
    }

    /// Rows as columns padded to their widest cell, two spaces apart, one line each.
    public static func render(_ rows: [[String]]) -> String {
        let columns = rows.map(\.count).max() ?? 0
        let widths = (0..<columns).map { column in rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n") + "\n"
    }
}
