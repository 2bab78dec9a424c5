import ArgumentParser
import Configuration
import Foundation
import Logging
import NIOPosix
import Server

/// `aviary observe zoo.cfg`: joins the ensemble as the observer the configuration names
/// (its `myid`, listed as `:observer`), finds the leader by election, syncs its tree from it
/// (SNAP or DIFF), follows its commits for a while, and prints what it holds. Nothing is
/// written to disk, and an observer votes on nothing.
struct ObserveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "observe",
        abstract: "Sync from the ensemble's leader as an observer, print the tree it got, and exit."
    )

    @Argument(help: "The observer's zoo.cfg (server.<myid> listed as an observer).") var configFile: String
    @Option(help: "Seconds to follow the leader's commits once synchronized.") var seconds = 1.0
    @Option(help: "Seconds to wait for the election and the sync.") var timeout = 60.0
    @Flag(help: "Print JSON, with every path.") var json = false

    func run() async throws {
        guard let text = try? String(contentsOfFile: configFile, encoding: .utf8) else { throw StartupError("cannot read \(configFile)") }
        let config: ServerConfiguration
        do { (config, _) = try ZooConfigParser.parse(text, file: configFile) } catch { throw StartupError("\(error)") }
        guard config.isDistributed, let myid = config.myid, let me = config.servers[myid], me.role == "observer" else {
            throw StartupError("\(configFile): server.<myid> must be listed as an observer of an ensemble")
        }
        let (vote, _) = try await ElectionRun.elect(config, myid: myid, me: me, timeout: timeout)
        guard let leader = config.servers[vote.leader] else { throw StartupError("the elected leader \(vote.leader) is not in the configuration") }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let node = ObserverNode(myid: myid, configVersion: config.configVersion, loop: group.next(), logger: Logger(label: "aviary.observer"))
        do {
            try await node.connect(host: leader.host, port: leader.quorumPort)
        } catch {
            try? await group.shutdownGracefully()
            throw StartupError("cannot reach the leader's quorum port \(leader.host):\(leader.quorumPort): \(error)")
        }
        let deadline = Date().addingTimeInterval(timeout)
        var state = await node.current()
        while !state.serving && state.failure == nil && Date() < deadline {
            try await Task.sleep(nanoseconds: 50_000_000)
            state = await node.current()
        }
        if state.serving { try await Task.sleep(nanoseconds: UInt64(seconds * 1e9)) }
        state = await node.current()
        await node.close()
        try await group.shutdownGracefully()
        if let failure = state.failure { throw StartupError("sync with server.\(vote.leader) failed: \(failure)") }
        guard state.serving else { throw StartupError("not synchronized with server.\(vote.leader) within \(timeout) s") }
        let zxid = "0x" + String(UInt64(bitPattern: state.lastZxid), radix: 16)
        if json {
            let paths = state.paths.sorted().map { "\"\($0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\""))\"" }
            print("{\"leader\":\(vote.leader),\"epoch\":\(state.epoch),\"zxid\":\"\(zxid)\",\"znodes\":\(state.znodes),\"digest\":\(state.digest),\"paths\":[\(paths.joined(separator: ","))]}")
        } else {
            print("synchronized with server.\(vote.leader) in epoch \(state.epoch): \(state.znodes) znodes at zxid \(zxid), tree digest \(state.digest)")
        }
    }
}
