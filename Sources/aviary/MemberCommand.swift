import ArgumentParser
import Configuration
import Foundation
import Operations

/// `aviary member list|add|promote|remove`: membership changes with safety checks, on
/// ZooKeeper's own reconfig, so they work on ensembles of Aviary and Apache ZooKeeper servers
/// alike. The servers need `reconfigEnabled=true`, and the session a user allowed to write
/// `/zookeeper/config` (the super user by default: `--auth digest:super:PASSWORD`).
struct MemberCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "member",
        abstract: "List the members of an ensemble, and add, promote or remove one safely.",
        subcommands: [List.self, Add.self, Promote.self, Remove.self])

    struct Connection: ParsableArguments {
        @Option(help: "Servers as host:port, comma-separated; one member is enough.") var server: String
        @Option(help: "Authentication as scheme:credentials, e.g. digest:super:secret (repeatable).") var auth: [String] = []
        @Option(help: "Seconds to wait for each server.") var timeout = 5.0

        func probe() throws -> EnsembleProbe { try EnsembleProbe(servers: server, auth: auth, timeout: timeout) }

        /// The ensemble now, or a clear failure when no configuration can be read.
        func view(_ probe: EnsembleProbe, lagLimit: Int64 = EnsembleView.defaultLagLimit) throws -> EnsembleView {
            guard let membership = probe.membership() else {
                throw ValidationError("no ensemble configuration could be read from \(server) (standalone, or unreachable)")
            }
            return probe.view(membership, lagLimit: lagLimit)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Each member: id, role, address, state, zxid, lag and a verdict.")
        @OptionGroup var connection: Connection
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let view = try connection.view(try connection.probe())
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(view), as: UTF8.self))
            } else {
                print("configuration version 0x\(String(UInt64(bitPattern: view.version), radix: 16))")
                print(view.table, terminator: "")
                for problem in view.problems { print("problem: \(problem)") }
            }
        }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a server: it joins as an observer, and once it has caught up it becomes a participant (unless --observer).",
            discussion: "The server must be running already, configured with the current members and itself, so that it can follow the leader.")
        @OptionGroup var connection: Connection
        @Argument(help: "ID=host:quorumPort:electionPort;[clientHost:]clientPort") var spec: String
        @Flag(help: "Stay an observer.") var observer = false
        @Option(help: "Transactions it may still lag when it is made a participant.") var maxLag: Int64 = 0
        @Option(help: "Seconds to wait for it to catch up.") var wait = 120.0

        func run() throws {
            let (id, line) = try Self.parse(spec)
            let probe = try connection.probe()
            let before = try connection.view(probe)
            if before.members.contains(where: { $0.id == id }) {
                throw ValidationError("server.\(id) is a member already (\(before.members.first { $0.id == id }?.role ?? "?")); use promote or remove")
            }
            let session = try probe.session()
            let joined = try MemberCommand.reconfigure(session, joining: "server.\(id)=\(line.asRole("observer"))", leaving: nil)
            print("server.\(id) joined as an observer: configuration version 0x\(String(UInt64(bitPattern: joined.version), radix: 16))")
            let deadline = Date().addingTimeInterval(wait)
            while true {
                let view = probe.view(joined)
                if view.refusalToPromote(id, maximumLag: maxLag) == nil { break }
                if Date() > deadline {
                    throw ValidationError("server.\(id) has not caught up within \(Int(wait)) s: \(view.refusalToPromote(id, maximumLag: maxLag) ?? "")")
                }
                Thread.sleep(forTimeInterval: 0.2)
            }
            print("server.\(id) has caught up")
            guard !observer else { return }
            let promoted = try MemberCommand.reconfigure(session, joining: "server.\(id)=\(line.asRole("participant"))", leaving: nil)
            print("server.\(id) is a participant: configuration version 0x\(String(UInt64(bitPattern: promoted.version), radix: 16))")
        }

        /// "ID=host:q:e[:role];client" → the id and the line after the `=`.
        static func parse(_ spec: String) throws -> (Int64, ServerLine) {
            let parts = spec.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            let idText = parts.first.map { $0.hasPrefix("server.") ? String($0.dropFirst("server.".count)) : $0 } ?? ""
            guard parts.count == 2, let id = Int64(idText), id >= 0 else {
                throw ValidationError("\(spec): expected ID=host:quorumPort:electionPort;[clientHost:]clientPort")
            }
            guard let server = ZooConfigParser.parseServer(id: id, parts[1]), server.clientPort != nil,
                  !server.host.contains(where: { $0 == "=" || $0.isWhitespace }) else {
                throw ValidationError("\(spec): expected ID=host:quorumPort:electionPort;[clientHost:]clientPort (with the client port)")
            }
            return (id, ServerLine(server: server))
        }
    }

    struct Promote: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make an observer a participant, refusing while it lags.")
        @OptionGroup var connection: Connection
        @Argument(help: "The server's id.") var id: Int64
        @Option(help: "Transactions it may lag.") var maxLag: Int64 = 0

        func run() throws {
            let probe = try connection.probe()
            let view = try connection.view(probe)
            if let refusal = view.refusalToPromote(id, maximumLag: maxLag) { throw MemberCommand.Refusal(refusal) }
            guard let membership = probe.membership(), let server = membership.servers[id] else { throw MemberCommand.Refusal("server.\(id) is gone") }
            let next = try MemberCommand.reconfigure(try probe.session(), joining: "server.\(id)=\(ServerLine(server: server).asRole("participant"))",
                                                     leaving: nil, from: membership.version)
            print("server.\(id) is a participant: configuration version 0x\(String(UInt64(bitPattern: next.version), radix: 16))")
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a member, refusing when it leads or when the voters left could not form a quorum of serving servers.")
        @OptionGroup var connection: Connection
        @Argument(help: "The server's id.") var id: Int64
        @Flag(help: "Remove it even so.") var force = false

        func run() throws {
            let probe = try connection.probe()
            let view = try connection.view(probe)
            if let refusal = view.refusalToRemove(id, force: force) { throw MemberCommand.Refusal(refusal) }
            let next = try MemberCommand.reconfigure(try probe.session(), joining: nil, leaving: String(id), from: view.version)
            print("server.\(id) removed: configuration version 0x\(String(UInt64(bitPattern: next.version), radix: 16)), "
                  + "voters \(next.voters.map(\.id)), observers \(next.observers.map(\.id))")
        }
    }

    /// A refusal: one line, exit status 1.
    struct Refusal: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = "refused: " + description }
    }

    /// Sends a reconfig and returns the configuration now in force; ZooKeeper's error codes
    /// become one line each.
    static func reconfigure(_ session: ZooKeeperSession, joining: String?, leaving: String?, from version: Int64 = -1) throws -> Membership {
        let text: String
        do {
            text = try session.reconfig(joining: joining, leaving: leaving, fromVersion: version)
        } catch let refused as ZooKeeperSession.Refused {
            switch refused.error {
            case .noAuth?: throw Refusal("not allowed to change /zookeeper/config: authenticate as the super user (--auth digest:super:PASSWORD)")
            case .reconfigDisabled?: throw Refusal("reconfig is disabled on the servers (reconfigEnabled=true)")
            case .newConfigNoQuorum?: throw Refusal("the new configuration has no quorum of servers synchronized with the leader")
            case .reconfigInProgress?: throw Refusal("another reconfiguration is in progress")
            case .badVersion?: throw Refusal("the configuration changed meanwhile; run the command again")
            default: throw Refusal("the leader refused: \(refused)")
            }
        }
        return try Membership(parsing: text)
    }
}

/// A server's line after `server.N=`, with its role changed as a reconfig needs it.
struct ServerLine {
    var server: ServerSpec
    func asRole(_ role: String) -> String {
        var changed = server
        changed.role = role
        return Membership.serverText(changed)
    }
}
