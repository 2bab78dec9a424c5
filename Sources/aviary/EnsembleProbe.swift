import Configuration
import Foundation
import Operations

/// What the operator commands learn of an ensemble from the outside: the configuration in
/// force, read from `/zookeeper/config` through the first server that answers, and each
/// member's `srvr`. Works against Aviary and Apache ZooKeeper servers alike.
struct EnsembleProbe {
    var servers: [String]
    var auth: [String]
    var timeout: Double

    init(servers: String, auth: [String], timeout: Double) throws {
        self.servers = servers.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !self.servers.isEmpty else { throw BlockingSocket.Failure(description: "no servers given") }
        self.auth = auth
        self.timeout = timeout
    }

    /// A session with the first given server that accepts one.
    func session() throws -> ZooKeeperSession {
        var failures: [String] = []
        for address in servers {
            do {
                return try ZooKeeperSession(address: address, timeout: timeout, auth: auth)
            } catch {
                failures.append("\(error)")
            }
        }
        throw BlockingSocket.Failure(description: "no server answered: " + failures.joined(separator: "; "))
    }

    /// The configuration in force, or nil when no server serves one (a standalone server, or
    /// none reachable).
    func membership() -> Membership? {
        for address in servers {
            guard let session = try? ZooKeeperSession(address: address, timeout: timeout),
                  let (data, _) = try? session.getData("/zookeeper/config"),
                  let membership = try? Membership(parsing: String(decoding: data ?? [], as: UTF8.self)),
                  !membership.servers.isEmpty else { continue }
            return membership
        }
        return nil
    }

    /// `srvr` of one server.
    func status(_ address: String) -> ServerStatus {
        do {
            return ServerStatus(address: address, srvr: try FourLetterClient.ask("srvr", at: address, timeout: timeout))
        } catch {
            return ServerStatus(address: address, error: "\(error)")
        }
    }

    /// The ensemble now: each member of `membership` with its status, and the given servers
    /// it does not list.
    func view(_ membership: Membership, lagLimit: Int64 = EnsembleView.defaultLagLimit) -> EnsembleView {
        var statuses: [Int64: ServerStatus] = [:]
        var listed: Set<String> = []
        for server in membership.servers.values {
            guard let address = EnsembleView.clientAddress(server) else { continue }
            listed.insert(address)
            statuses[server.id] = status(address)
        }
        let others = servers.filter { !listed.contains($0) }.map(status)
        var view = EnsembleView(membership: membership, statuses: statuses, others: others, lagLimit: lagLimit)
        if let leader = view.leader?.clientAddress, let peer = try? FourLetterClient.ask("peer", at: leader, timeout: timeout) {
            view.addLeaderView(peer)
        }
        return view
    }
}
