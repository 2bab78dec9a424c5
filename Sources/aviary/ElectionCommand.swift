import ArgumentParser
import Configuration
import Consensus
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOPosix
import Server
import Storage
import ZooKeeperProtocol

/// `aviary election zoo.cfg`: takes part in one leader election as the configuration's `myid`,
/// against the running members (Aviary or Apache ZooKeeper), and prints who it would lead or
/// follow. It reads the data directory and changes nothing.
struct ElectionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "election",
        abstract: "Run one leader election as this member, print the outcome, and exit.",
        discussion: "Uses the election port of server.<myid>, so the member's own server must not be running."
    )

    @Argument(help: "The member's zoo.cfg (an ensemble: server.N lines and dataDir/myid).") var configFile: String
    @Option(help: "Seconds to wait for the election to end.") var timeout = 60.0
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        guard let text = try? String(contentsOfFile: configFile, encoding: .utf8) else { throw StartupError("cannot read \(configFile)") }
        let config: ServerConfiguration
        do { (config, _) = try ZooConfigParser.parse(text, file: configFile) } catch { throw StartupError("\(error)") }
        guard config.isDistributed, let myid = config.myid, let me = config.servers[myid] else {
            throw StartupError("\(configFile) describes no ensemble with this server in it")
        }
        let (vote, state) = try await ElectionRun.elect(config, myid: myid, me: me, timeout: timeout)
        let name: String
        switch state {
        case .leading: name = "leading"
        case .following: name = "following"
        case .observing: name = "observing"
        case .looking: name = "looking"
        }
        if json {
            print("{\"myid\":\(myid),\"state\":\"\(name)\",\"leader\":\(vote.leader),\"zxid\":\(vote.zxid),\"electionEpoch\":\(vote.electionEpoch),\"peerEpoch\":\(vote.peerEpoch)}")
        } else {
            print("server.\(myid) \(name) leader server.\(vote.leader) (zxid 0x\(String(UInt64(bitPattern: vote.zxid), radix: 16)), round \(vote.electionEpoch), peerEpoch \(vote.peerEpoch))")
        }
    }
}

/// One leader election as a member, shared by `aviary election` and `aviary observe`.
enum ElectionRun {
    static func elect(_ config: ServerConfiguration, myid: Int64, me: ServerSpec, timeout: Double) async throws -> (Vote, PeerState) {
        let directory = DataDirectory(dataDir: config.dataDir, dataLogDir: config.dataLogDir)
        var lastZxid: Int64 = 0
        if (try? directory.snapshots().isEmpty == false) == true {
            do { lastZxid = try Recovery.recover(directory, repair: false).0.lastProcessedZxid } catch { throw StartupError("\(error)") }
        }
        let epoch = (try? EpochFiles(directory: directory.snapshotDirectory).read(EpochFiles.current)) ?? nil
        let verifier = QuorumVerifier(voters: Set(config.voters.map(\.id)), observers: Set(config.observers.map(\.id)),
                                      version: config.configVersion)
        let core = FastLeaderElection(configuration: .init(myid: myid, verifier: verifier, configText: config.membership.text))
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let node = ElectionNode(core: core, peers: config.servers.values.map { .init(id: $0.id, host: $0.host, port: $0.electionPort) },
                                loop: group.next(), connectTimeoutMillis: Int64(config.connectTimeoutMs), logger: Logger(label: "aviary.election"))
        try await node.listen(host: config.quorumListenOnAllIPs ? "0.0.0.0" : me.host, port: me.electionPort)
        let outcome = NIOLockedValueBox<(Vote, PeerState)?>(nil)
        node.start(lastLoggedZxid: lastZxid, currentEpoch: epoch ?? (lastZxid >> 32)) { vote, state in
            outcome.withLockedValue { $0 = (vote, state) }
        }
        let deadline = Date().addingTimeInterval(timeout)
        while outcome.withLockedValue({ $0 }) == nil && Date() < deadline { try await Task.sleep(nanoseconds: 50_000_000) }
        await node.close()
        try await group.shutdownGracefully()
        guard let result = outcome.withLockedValue({ $0 }) else {
            throw StartupError("no leader elected within \(timeout) s (is a quorum of members running?)")
        }
        return result
    }
}
