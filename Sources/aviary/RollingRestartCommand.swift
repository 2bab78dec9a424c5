import ArgumentParser
import Foundation
import Operations

/// `aviary rolling-restart HOST:PORT --restart-command 'CMD {id}'`: restarts an ensemble's
/// members one at a time, observers and followers first and the leader last (after handing
/// its leadership to a follower when every member is Aviary), each time waiting until the
/// member serves again, has caught up, and the ensemble is healthy. It stops at the first
/// sign of trouble and says why; members not yet restarted are left alone.
struct RollingRestartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rolling-restart",
        abstract: "Restart every member of an ensemble, one at a time, the leader last.")

    @Argument(help: "Servers as host:port, comma-separated; one member is enough.") var servers: String
    @Option(help: "Shell command that restarts one member: {id}, {host} and {port} (its client port) are replaced.")
    var restartCommand: String
    @Option(help: "Authentication for the leader transfer, as scheme:credentials (repeatable).") var auth: [String] = []
    @Option(help: "Seconds to wait for each member to serve again and the ensemble to be healthy.") var wait = 120.0
    @Option(help: "Transactions a restarted member may still lag when the next one is restarted.") var maxLag: Int64 = 100
    @Flag(help: "Restart the leader without handing its leadership over first.") var noTransfer = false
    @Option(help: "Seconds to wait for each server's answer.") var timeout = 3.0

    func run() throws {
        let connection = try MemberCommand.Connection.parse(["--server", servers, "--timeout", String(timeout)] + auth.flatMap { ["--auth", $0] })
        let probe = try connection.probe()
        var view = try connection.view(probe, lagLimit: maxLag)
        if !view.problems.isEmpty {
            throw MemberCommand.Refusal("the ensemble is not healthy, so nothing was restarted: " + view.problems.joined(separator: "; "))
        }
        guard let firstLeader = view.leader else { throw MemberCommand.Refusal("the ensemble has no leader") }
        let order = view.members.filter { $0.id != firstLeader.id }.sorted { ($0.isVoter ? 1 : 0, $0.id) < ($1.isVoter ? 1 : 0, $1.id) }
            + [firstLeader]
        print("restarting \(order.map { "server.\($0.id)" }.joined(separator: ", ")) in this order")
        for planned in order {
            view = try connection.view(probe, lagLimit: maxLag)
            guard let member = view.members.first(where: { $0.id == planned.id }) else { continue }
            if member.status?.mode == "leader" && !noTransfer && view.members.count > 1 {
                let (next, handed, _) = try LeaderCommand.transfer(in: view, to: nil, probe: probe, connection: connection)
                print(String(format: "server.%lld led: leadership handed to server.%lld in %.0f ms", member.id, next, handed * 1000))
                try waitHealthy(probe, reason: "after the leader transfer")
            }
            let started = Date()
            try restart(member)
            try waitHealthy(probe, reason: "after restarting server.\(member.id)")
            print(String(format: "server.%lld restarted and caught up in %.1f s", member.id, Date().timeIntervalSince(started)))
        }
        print("every member restarted; the ensemble is healthy")
    }

    /// Runs the restart command for `member`; a failure stops everything.
    private func restart(_ member: EnsembleView.Member) throws {
        let address = member.clientAddress ?? ""
        let host = address.split(separator: ":").dropLast().joined(separator: ":")
        let port = address.split(separator: ":").last.map(String.init) ?? ""
        let command = restartCommand.replacingOccurrences(of: "{id}", with: String(member.id))
            .replacingOccurrences(of: "{host}", with: host).replacingOccurrences(of: "{port}", with: port)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw MemberCommand.Refusal("'\(command)' exited with status \(process.terminationStatus): stopped before restarting anything else")
        }
    }

    /// Waits until the ensemble is healthy again: every member serving and caught up, a
    /// quorum, one leader.
    private func waitHealthy(_ probe: EnsembleProbe, reason: String) throws {
        let deadline = Date().addingTimeInterval(wait)
        var problems: [String] = []
        while Date() < deadline {
            if let membership = probe.membership() {
                let view = probe.view(membership, lagLimit: maxLag)
                problems = view.problems
                if problems.isEmpty { return }
            } else {
                problems = ["no member answers with the configuration"]
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
        throw MemberCommand.Refusal("not healthy \(Int(wait)) s \(reason), so nothing more was restarted: " + problems.joined(separator: "; "))
    }
}
