import ArgumentParser
import Foundation
import Operations

/// `aviary status HOST:PORT[,HOST:PORT...]`: the state of every server in one table. The
/// members are found from the configuration in force (`/zookeeper/config`), so one address
/// is enough; each is read with the `srvr` four-letter word, so it works against Apache
/// ZooKeeper servers too. Without a configuration (standalone servers) the given servers are
/// shown.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show state, zxid, lag, latency, connections and a verdict for every member of an ensemble.")

    @Argument(help: "Servers as host:port, comma-separated (a ZooKeeper connect string); one member is enough.")
    var servers: String
    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "Exit with status 1 and the reasons when anything is wrong (for cron and scripts).") var check = false
    @Flag(help: "Redraw the table every --interval seconds until interrupted.") var watch = false
    @Option(help: "Seconds between redraws with --watch.") var interval = 2.0
    @Option(help: "Stop --watch after this many redraws (0: never).") var count = 0
    @Option(help: "Transactions a member may lag before it is reported.") var lagLimit: Int64 = EnsembleView.defaultLagLimit
    @Option(help: "Seconds to wait for each server.") var timeout = 3.0

    func run() throws {
        let probe = try EnsembleProbe(servers: servers, auth: [], timeout: timeout)
        guard watch else {
            let (text, problems) = try report(probe)
            print(text, terminator: "")
            if !problems.isEmpty { throw ExitCode(1) }
            return
        }
        var drawn = 0
        while count == 0 || drawn < count {
            let (text, _) = try report(probe)
            // Home, clear the screen, then the table and when it was read.
            print("\u{1B}[H\u{1B}[2J" + ISO8601Time.string(from: Date()) + "\n\n" + text,
                  terminator: "")
            fflush(nil)
            drawn += 1
            if count == 0 || drawn < count { Thread.sleep(forTimeInterval: interval) }
        }
    }

    /// The table (or JSON) and the problems that make `--check` fail.
    private func report(_ probe: EnsembleProbe) throws -> (String, [String]) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard let membership = probe.membership() else {
            let statuses = ServerStatus.withLag(probe.servers.map(probe.status))
            let problems = statuses.filter { !$0.reachable }.map { "\($0.address): unreachable: \($0.error ?? "no answer")" }
            let text = json ? String(decoding: try encoder.encode(statuses), as: UTF8.self) + "\n" : ServerStatus.table(statuses)
            return (text + (check && !json ? problemsText(problems) : ""), problems)
        }
        let view = probe.view(membership, lagLimit: lagLimit)
        let problems = view.problems + view.strangers.filter { !$0.reachable }.map { "\($0.address): unreachable: \($0.error ?? "no answer")" }
        // Without --check only an unreachable server fails the command, as before.
        let unreachable = view.members.contains { $0.status?.reachable == false } || view.strangers.contains { !$0.reachable }
        let failing = check ? problems : (unreachable ? ["a server is unreachable"] : [])
        if json { return (String(decoding: try encoder.encode(view), as: UTF8.self) + "\n", failing) }
        var text = "configuration version 0x\(String(UInt64(bitPattern: view.version), radix: 16)), "
            + "\(view.members.filter(\.isVoter).count) voters, \(view.members.filter { !$0.isVoter }.count) observers\n" + view.table
        text += problemsText(problems)
        return (text, failing)
    }

    private func problemsText(_ problems: [String]) -> String {
        problems.isEmpty ? (check ? "healthy\n" : "") : problems.map { "problem: \($0)\n" }.joined()
    }
}
