import Consensus
import DataTree
import Foundation
import Jute
import Logging
import NIOCore
import NIOPosix
import ServerCore
import Storage
import ZooKeeperProtocol

/// A follower's or observer's connection to its leader (`Learner.connectToLeader`,
/// `Follower.followLeader`): the ``Learner`` core over the quorum port, with the server's tree,
/// log and epoch files behind it. Proposals are logged through the server's transaction log
/// and acknowledged once durable; commits go to the server core, which answers the clients
/// whose requests they were. Runs on the server's core loop.
final class LearnerLink: LeaderConnectionOwner, @unchecked Sendable {
    unowned let peer: QuorumPeer
    let leaderId: Int64
    let host: String
    let port: Int
    private var server: AviaryServer { peer.server }
    var logger: Logger { peer.logger }
    private var core: Learner
    private var channel: Channel?
    /// The tree being synchronized; the server core's once serving.
    private var tree: DataTree
    /// Logged proposals not yet committed, by zxid.
    private var logged: [Int64: Learner.Proposal] = [:]
    private var snapshotZxid: Int64 = 0
    /// The leader's SNAP stream being written as the synchronized snapshot while it is decoded;
    /// NEWLEADER waits for it.
    private var snapshotWrite: PendingSnapshotWrite?
    /// The file the SNAP stream is written to as it arrives, until its end.
    private var snapshotFile: StreamedSnapshotFile?
    /// When the SNAP packet came (its stream follows).
    private var snapArrivedAt: UInt64 = 0
    private var closed = false
    private var serving = false
    /// When the leader was last heard from (monotonic milliseconds), for the read timeout.
    private(set) var lastHeard = AviaryServer.now().monotonicMillis
    /// When the watchdog last ran: a late run means the loop stalled.
    private var lastWatchdogCheck: Int64 = 0
    private var watchdog: RepeatedTask?
    private let connectedAt = DispatchTime.now().uptimeNanoseconds
    /// How the leader synchronized this learner, for the operator: DIFF, TRUNC or SNAP.
    private(set) var syncKind = ""
    private var syncBytes = 0

    init(peer: QuorumPeer, leaderId: Int64, host: String, port: Int) {
        self.peer = peer
        self.leaderId = leaderId
        self.host = host
        self.port = port
        self.tree = peer.server.core.tree
        self.core = Learner(configuration: .init(myid: peer.myid, isObserver: peer.isObserver, configVersion: peer.membership.version),
                            disk: .init(acceptedEpoch: peer.acceptedEpoch, currentEpoch: peer.currentEpoch,
                                        lastLoggedZxid: peer.server.core.tree.lastProcessedZxid))
    }

    var isServing: Bool { serving }

    /// `QuorumPeer.ZabState` of this learner: discovery until the leader's epoch is agreed,
    /// synchronization until UPTODATE, then broadcast.
    var zabState: String {
        switch core.phase {
        case .idle, .discovery, .failed: return "discovery"
        case .awaitingSync, .loadingSnapshot, .synchronizing, .awaitingNewLeaderDurability: return "synchronization"
        case .broadcast: return serving ? "broadcast" : "synchronization"
        }
    }

    // MARK: Connection

    /// Dials the leader's quorum port, as ZooKeeper's learner does a few times, but 10 ms
    /// after a failure at first and twice as long each time after (ZooKeeper waits 100 ms,
    /// `zookeeper.leaderConnectDelayDuringRetryMs`): a follower that finished the election a
    /// moment before its leader opened the port is not held up.
    func connect(attempt: Int = 1) {
        guard !closed else { return }
        let config = server.configuration
        let timeout = TimeAmount.milliseconds(Int64(max(1000, config.tickTime * config.initLimit)))
        LeaderConnection.dial(host: host, port: port, on: server.coreLoop, timeout: timeout, tls: server.quorumTLS, authentication: server.quorumAuth, owner: self)
            .whenComplete { [self] result in
                switch result {
                case .success(let channel):
                    guard !closed else { channel.close(promise: nil); return }
                    self.channel = channel
                    lastHeard = AviaryServer.now().monotonicMillis
                    startWatchdog()
                    perform(core.receive(.connected))
                case .failure(let error):
                    guard !closed else { return }
                    if attempt >= 8 { return end("cannot connect to the leader at \(host):\(port): \(error)") }
                    logger.info("connecting to the leader at \(host):\(port) failed (\(error)); trying again")
                    let delay = Int64(10) << (attempt - 1)  // 10, 20, ... 640 ms: 1.27 s in all
                    server.coreLoop.scheduleTask(in: .milliseconds(delay)) { [self] in connect(attempt: attempt + 1) }
                }
            }
    }

    /// The leader must be heard within initLimit ticks while synchronizing (the learner
    /// socket's read timeout in ZooKeeper), and once serving within `leaderSilenceTimeout`:
    /// the leader pings every half tick, so silence for that long means missed pings from a
    /// paused or hung leader, which ZooKeeper notices only after syncLimit ticks.
    private func startWatchdog() {
        let config = server.configuration
        let silenceLimit = config.effectiveLeaderSilenceTimeout
        let interval = TimeAmount.milliseconds(Int64(max(10, min(config.tickTime / 2, silenceLimit / 8))))
        let intervalMillis = interval.nanoseconds / 1_000_000
        lastWatchdogCheck = AviaryServer.now().monotonicMillis
        watchdog = server.coreLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [self] _ in
            let now = AviaryServer.now().monotonicMillis
            defer { lastWatchdogCheck = now }
            // A check that comes late means this server's own loop stalled (a long snapshot
            // step, a pause): what the leader sent meanwhile may be unread in the socket. Read
            // it first; the next check judges.
            guard now - lastWatchdogCheck <= 2 * intervalMillis + 50 else { return }
            let limit = Int64(serving ? silenceLimit : config.tickTime * config.initLimit)
            let silent = now - lastHeard
            if silent > limit { end("nothing from the leader for \(silent) ms (limit \(limit) ms)") }
        }
    }

    func close() {
        guard !closed else { return }
        closed = true
        watchdog?.cancel()
        server.quorumOutbound.flushAll()  // what was sent before goes out before the close
        channel?.close(promise: nil)
    }

    /// Ends the link and hands back to the election. What was logged and not committed
    /// becomes part of the tree, as ZooKeeper's `fastForwardDataBase` does when a follower
    /// stops: the next leader truncates it if it is not part of its history.
    private func end(_ reason: String) {
        guard !closed else { return }
        close()
        snapshotFile?.abandon()
        snapshotFile = nil
        if let write = snapshotWrite, let path = try? write.wait() {
            // A SNAP that never reached NEWLEADER leaves nothing on disk, as before it.
            unlink(path)
        }
        snapshotWrite = nil
        var notifications: [WatchNotification] = []
        for zxid in logged.keys.sorted() where zxid > tree.lastProcessedZxid {
            if let proposal = logged[zxid] { _ = tree.apply(proposal.header, txn: proposal.txn, notifications: &notifications) }
        }
        logged.removeAll()
        peer.learnerEnded(self, reason: reason)
    }

    func send(_ packet: QuorumPacket) {
        guard let channel, !closed else { return }
        server.sendQuorum(packet, on: channel)
    }

    // MARK: Inbound

    func received(_ inbound: LeaderInbound) {
        guard !closed else { return }
        lastHeard = AviaryServer.now().monotonicMillis
        switch inbound {
        case .packet(let packet):
            switch packet.kind {
            case .revalidate?:
                guard let answer = try? Revalidation.decodeAnswer(packet) else { return end("undecodable REVALIDATE from the leader") }
                server.process(.revalidated(session: answer.sessionId, valid: answer.valid))
            case .sync?:
                server.process(.syncAnswered)
            default:
                if core.phase == .broadcast {
                    switch packet.kind {
                    case .proposal?: peer.statistics.learnerProposalReceivedCount += 1
                    case .commit?, .inform?: peer.statistics.learnerCommitReceivedCount += 1
                    default: break
                    }
                }
                perform(core.receive(.packet(packet)))
            }
        case .snapshotBody(let bytes):
            if snapshotFile == nil {
                snapshotFile = StreamedSnapshotFile(directory: server.dataDirectory.snapshotDirectory, zxid: snapshotZxid)
            }
            snapshotFile?.append(bytes)
            syncBytes += bytes.readableBytes
        case .snapshot(let loaded):
            let decoded = DispatchTime.now().uptimeNanoseconds
            logger.info("received and decoded the leader's snapshot (\(loaded.nodeCount) znodes, \(syncBytes) bytes) in \((decoded - snapArrivedAt) / 1_000_000) ms")
            snapshotWrite = snapshotFile?.finish()
            snapshotFile = nil
            loaded.digestEnabled = server.configuration.digestEnabled
            tree = loaded
            perform(core.receive(.snapshotLoaded))
        }
    }

    func connectionClosed() {
        end("the leader closed the connection")
    }

    /// The server's log is durable up to `zxid`.
    func durable(upTo zxid: Int64) {
        guard !closed else { return }
        perform(core.receive(.durable(upTo: zxid)))
    }

    // MARK: Actions

    private func perform(_ actions: [Learner.Action]) {
        for action in actions {
            guard !closed else { return }
            switch action {
            case .send(let packet):
                send(packet)
            case .answerPing(let zxid):
                let touches = serving ? server.core.takeSessionTouches() : []
                send(QuorumPacket(.ping, zxid: zxid, data: SessionTouches.encode(touches)))
            case .writeAcceptedEpoch(let epoch):
                if !peer.writeEpoch(EpochFiles.accepted, epoch) { return end("cannot write acceptedEpoch") }
            case .writeCurrentEpoch(let epoch):
                if !peer.writeEpoch(EpochFiles.current, epoch) { return end("cannot write currentEpoch") }
            case .loadSnapshot(let zxid):
                syncKind = "SNAP"
                snapshotZxid = zxid
                snapArrivedAt = DispatchTime.now().uptimeNanoseconds
            case .truncate(let zxid):
                syncKind = "TRUNC"
                do {
                    tree = try server.truncateLog(to: zxid)
                } catch {
                    return end("cannot truncate the log to 0x\(hex(zxid)): \(error)")
                }
            case .applyUnlogged(let proposal):
                var notifications: [WatchNotification] = []
                _ = tree.apply(proposal.header, txn: proposal.txn, notifications: &notifications)
            case .log(let proposal):
                logged[proposal.header.zxid] = proposal
                server.appendToLog(proposal.header, proposal.txn)
            case .commit(let zxid):
                guard let proposal = logged.removeValue(forKey: zxid) else { return end("COMMIT of 0x\(hex(zxid)), which was not logged") }
                if serving {
                    server.process(.committed(proposal.header, proposal.txn))
                } else {
                    var notifications: [WatchNotification] = []
                    _ = tree.apply(proposal.header, txn: proposal.txn, notifications: &notifications)
                }
            case .takeSnapshot:
                do {
                    let started = DispatchTime.now().uptimeNanoseconds
                    let directory = server.dataDirectory.snapshotDirectory
                    let path: String
                    if let write = snapshotWrite, tree.lastProcessedZxid == snapshotZxid {
                        // Nothing applied since the SNAP: the leader's stream, written as it came
                        // (the file's body) while it was decoded, is the synchronized snapshot.
                        path = try write.wait()
                    } else {
                        // Transactions applied since (or a TRUNC): the tree as it is now. A stream
                        // written meanwhile is a consistent older snapshot; it may stay.
                        _ = try? snapshotWrite?.wait()
                        path = try SnapshotFileWriter.writeNow(tree, directory: directory)
                    }
                    snapshotWrite = nil
                    server.log?.roll()
                    let millis = (DispatchTime.now().uptimeNanoseconds - started) / 1_000_000
                    logger.info("snapshot of the synchronized tree written to \(path) in \(millis) ms")
                } catch {
                    return end("cannot write the synchronized snapshot: \(error)")
                }
            case .serving(let epoch):
                if syncKind.isEmpty { syncKind = "DIFF" }
                serving = true
                server.startServing(role: .learner, tree: tree)
                peer.serving(epoch: epoch)
                let millis = (DispatchTime.now().uptimeNanoseconds - connectedAt) / 1_000_000
                if peer.isObserver { peer.statistics.observerSyncTime.record(Int64(millis)) } else { peer.statistics.followerSyncTime.record(Int64(millis)) }
                logger.info("synchronized with server.\(leaderId) by \(syncKind) in \(millis) ms: serving clients in epoch \(epoch) at zxid 0x\(hex(tree.lastProcessedZxid))")
                server.events.publish("learner_synced", ["leader": String(leaderId), "kind": syncKind, "bytes": String(syncBytes),
                                                         "millis": String(millis), "epoch": String(epoch)])
            case .sawConfiguration(let config):
                peer.sawConfiguration(config)
            case .activate(let config, let designated, let zxid):
                // A reconfig that changes this server's role or leader ends this link; the new
                // role starts at once (`Follower.processPacket` throws "changes proposed in reconfig").
                if peer.activate(config, designatedLeader: designated, zxid: zxid, currentLeader: leaderId) {
                    peer.designatedLeader = designated
                    return end("changes proposed in reconfig")
                }
            case .handOver(let target):
                // The leader hands over (Aviary's leader transfer): follow, or lead, at once.
                peer.designatedLeader = target
                return end("the leader handed leadership to server.\(target)")
            case .fail(let reason):
                return end(reason)
            }
        }
    }
}
