import ArgumentParser
import Configuration
import Foundation
import Operations

/// `aviary config`: a server's configuration, without running it.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Check a zoo.cfg without starting a server; show and compare the members' configurations.",
        subcommands: [Check.self, Show.self, Diff.self])

    /// Each member's `conf`, found from the configuration in force through one address.
    static func members(_ servers: String, timeout: Double) throws -> [(id: Int64, configuration: MemberConfiguration?)] {
        let probe = try EnsembleProbe(servers: servers, auth: [], timeout: timeout)
        guard let membership = probe.membership() else {
            return probe.servers.enumerated().map { index, address in
                (Int64(index + 1), (try? FourLetterClient.ask("conf", at: address, timeout: timeout)).flatMap(MemberConfiguration.init(conf:)))
            }
        }
        return membership.servers.values.sorted { $0.id < $1.id }.map { server in
            let conf = EnsembleView.clientAddress(server).flatMap { try? FourLetterClient.ask("conf", at: $0, timeout: timeout) }
            return (server.id, conf.flatMap(MemberConfiguration.init(conf:)))
        }
    }

    /// `aviary config show HOST:PORT`: every member's effective configuration side by side.
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show each member's effective configuration (its conf), side by side.")
        @Argument(help: "Servers as host:port, comma-separated; one member is enough.") var servers: String
        @Option(help: "Seconds to wait for each server.") var timeout = 3.0

        func run() throws {
            let members = try ConfigCommand.members(servers, timeout: timeout)
            print(MemberConfiguration.table(members), terminator: "")
            for line in MemberConfiguration.differences(members) { print("differs: \(line)") }
        }
    }

    /// `aviary config diff HOST:PORT`: where the members disagree; exit 1 when they do.
    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show where the members' configurations disagree (tickTime, limits, membership); exit 1 when they do.")
        @Argument(help: "Servers as host:port, comma-separated; one member is enough.") var servers: String
        @Option(help: "Seconds to wait for each server.") var timeout = 3.0

        func run() throws {
            let differences = MemberConfiguration.differences(try ConfigCommand.members(servers, timeout: timeout))
            guard !differences.isEmpty else { return print("the members agree") }
            for line in differences { print(line) }
            throw ExitCode(1)
        }
    }

    /// `aviary config check zoo.cfg`: every problem with its file and line, the warnings the
    /// server would log, and a verdict; exits 1 when there is a problem (for scripts and CI).
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a zoo.cfg (and its dynamic file and myid) as the server reads them; exit 1 on any problem.")

        @Argument(help: "A ZooKeeper zoo.cfg file.")
        var file: String

        func run() throws {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                print("\(file): cannot read the file")
                throw ExitCode(1)
            }
            let check = ConfigurationCheck(text, file: file)
            print(check.report, terminator: "")
            if !check.problems.isEmpty { throw ExitCode(1) }
        }
    }
}
