import Consensus
import DataTree
import Jute
import Logging
import NIOCore
import NIOPosix
import Storage
import ZooKeeperProtocol

/// An observer's connection to its leader: the ``Learner`` core over the quorum port, with the
/// tree it syncs kept in memory (nothing is written to disk: it is for `aviary observe`, which
/// shows what a member would get from the leader). Runs on one event loop.
public final class ObserverNode: LeaderConnectionOwner, @unchecked Sendable {
    /// What the observer holds once it is serving, and as proposals commit.
    public struct State: Sendable {
        public var serving: Bool
        public var epoch: Int64
        public var lastZxid: Int64
        public var znodes: Int
        public var digest: Int64
        public var paths: [String]
        public var failure: String?
    }

    let loop: EventLoop
    let logger: Logger
    private var learner: Learner
    private var tree = DataTree()
    private var logged: [Int64: Learner.Proposal] = [:]
    private var channel: Channel?
    private var state = State(serving: false, epoch: 0, lastZxid: 0, znodes: 0, digest: 0, paths: [], failure: nil)

    public init(myid: Int64, configVersion: Int64, loop: EventLoop, logger: Logger) {
        self.loop = loop
        self.logger = logger
        self.learner = Learner(configuration: .init(myid: myid, isObserver: true, configVersion: configVersion),
                               disk: .init(acceptedEpoch: 0, currentEpoch: 0, lastLoggedZxid: 0))
    }

    /// Connects to the leader's quorum port and syncs.
    public func connect(host: String, port: Int) async throws {
        let channel = try await LeaderConnection.dial(host: host, port: port, on: loop, tls: nil, owner: self).get()
        try await loop.submit { [self] in
            self.channel = channel
            perform(learner.receive(.connected))
        }.get()
    }

    /// What the observer holds now.
    public func current() async -> State {
        (try? await loop.submit { self.state }.get()) ?? state
    }

    public func close() async {
        let channel = try? await loop.submit { self.channel }.get()
        try? await channel?.close()
    }

    func received(_ inbound: LeaderInbound) {
        switch inbound {
        case .packet(let packet):
            perform(learner.receive(.packet(packet)))
        case .snapshotBody:
            break
        case .snapshot(let loaded):
            tree = loaded
            perform(learner.receive(.snapshotLoaded))
        }
    }

    func connectionClosed() {
        if !state.serving && state.failure == nil { state.failure = "the leader closed the connection" }
    }

    private func fail(_ reason: String) {
        state.failure = reason
        logger.warning("observer: \(reason)")
        channel?.close(promise: nil)
    }

    private func send(_ packet: QuorumPacket) {
        guard let channel else { return }
        var writer = JuteWriter(channel.allocator.buffer(capacity: 64))
        writer.write(packet)
        channel.writeAndFlush(writer.buffer, promise: nil)
    }

    private func apply(_ proposal: Learner.Proposal) {
        var notifications: [WatchNotification] = []
        _ = tree.apply(proposal.header, txn: proposal.txn, notifications: &notifications)
    }

    private func perform(_ actions: [Learner.Action]) {
        var queue = actions
        while !queue.isEmpty {
            switch queue.removeFirst() {
            case .send(let packet): send(packet)
            case .answerPing(let zxid): send(QuorumPacket(.ping, zxid: zxid, data: []))
            case .loadSnapshot: break  // the tree comes decoded (LeaderInbound.snapshot)
            case .truncate: fail("the leader asked an empty observer to truncate")
            case .applyUnlogged(let proposal): apply(proposal)
            case .log(let proposal):
                // Kept in memory only: reported durable at once (an observer sends no ACKs).
                logged[proposal.header.zxid] = proposal
                queue += learner.receive(.durable(upTo: proposal.header.zxid))
            case .commit(let zxid):
                if let proposal = logged.removeValue(forKey: zxid) { apply(proposal) }
            case .serving(let epoch):
                state.serving = true
                state.epoch = epoch
            case .fail(let reason): fail(reason)
            case .writeAcceptedEpoch, .writeCurrentEpoch, .takeSnapshot: break
            // A one-off observer keeps the membership it started with; the committed reconfig
            // still reaches its /zookeeper/config as a transaction.
            case .sawConfiguration, .activate: break
            case .handOver: fail("the leader handed leadership over")
            }
        }
        state.lastZxid = tree.lastProcessedZxid
        state.znodes = tree.nodeCount
        state.digest = tree.digest
        if state.serving { state.paths = tree.paths() }
    }
}
