import ArgumentParser
import Foundation
import Operations
import ZooKeeperProtocol

/// `aviary leader transfer [ID]`: hands leadership to another voter of an all-Aviary ensemble
/// without an election. The leader stops proposing, waits until the target has acknowledged
/// everything committed, and tells every learner to follow it; the target then leads a new
/// epoch at once. Writes pause for that long; nothing acknowledged is lost and sessions live on.
struct LeaderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "leader",
        abstract: "Move the leadership of an all-Aviary ensemble.",
        subcommands: [Transfer.self])

    struct Transfer: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Hand leadership to server ID (by default the follower furthest ahead), without an election.")
        @OptionGroup var connection: MemberCommand.Connection
        @Argument(help: "The server to lead next.") var id: Int64?

        func run() throws {
            let probe = try connection.probe()
            let (target, handed, leading) = try LeaderCommand.transfer(in: try connection.view(probe), to: id, probe: probe, connection: connection)
            print(String(format: "server.%lld leads (handed over in %.0f ms, leading after %.0f ms)", target, handed * 1000, leading * 1000))
        }
    }

    /// Hands leadership to `id` (or the follower furthest ahead) and waits until it leads;
    /// returns the new leader and the seconds until the handover was answered and until it led.
    static func transfer(in view: EnsembleView, to id: Int64?, probe: EnsembleProbe,
                         connection: MemberCommand.Connection) throws -> (Int64, Double, Double) {
        guard let leader = view.leader, let leaderAddress = leader.clientAddress else {
            throw MemberCommand.Refusal("the ensemble has no single leader: \(view.problems.joined(separator: "; "))")
        }
        if let other = view.members.first(where: { $0.status?.version.map { !$0.contains("aviary") } ?? true }) {
            throw MemberCommand.Refusal("leader transfer needs every member to be Aviary: server.\(other.id) is \(other.status?.version ?? "unreachable")")
        }
        let followers = view.members.filter { $0.isVoter && $0.status?.mode == "follower" }
        let chosen = id ?? followers.min { ($0.status?.lag ?? .max, $0.id) < ($1.status?.lag ?? .max, $1.id) }?.id
        guard let target = chosen else { throw MemberCommand.Refusal("no follower to hand leadership to") }
        if target == leader.id { throw MemberCommand.Refusal("server.\(target) leads already") }
        guard let next = followers.first(where: { $0.id == target }), let address = next.clientAddress else {
            throw MemberCommand.Refusal("server.\(target) is not a following voter (\(view.members.first { $0.id == target }?.verdict ?? "not a member"))")
        }
        let started = Date()
        let session = try ZooKeeperSession(address: leaderAddress, timeout: connection.timeout, auth: connection.auth)
        do {
            _ = try session.call(.transferLeadership(target: target))
        } catch let refused as ZooKeeperSession.Refused {
            switch refused.error {
            case .noAuth?: throw MemberCommand.Refusal("not allowed: authenticate as a user who may change /zookeeper/config (--auth digest:super:PASSWORD)")
            case .operationTimeout?: throw MemberCommand.Refusal("server.\(target) did not catch up in time; server.\(leader.id) leads on")
            case .unimplemented?: throw MemberCommand.Refusal("server.\(leader.id) does not lead any more, or is not Aviary")
            default: throw MemberCommand.Refusal("the leader refused (\(refused)); see its log")
            }
        }
        let handed = Date().timeIntervalSince(started)
        let deadline = Date().addingTimeInterval(30)
        while probe.status(address).mode != "leader" {
            if Date() > deadline { throw MemberCommand.Refusal("server.\(target) was handed leadership but does not lead after 30 s") }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return (target, handed, Date().timeIntervalSince(started))
    }
}
