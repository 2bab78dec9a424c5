import Configuration
import Consensus
import DataTree
import Foundation
import Jute
import Logging
import Operations
import NIOCore
import NIOPosix
import ServerCore
import Storage
import ZooKeeperProtocol

/// This member leading its ensemble for one epoch (`Leader.lead` with its `LearnerHandler`s):
/// the ``LeaderRole`` core over the quorum port, with the server's core, log and epoch files
/// behind it. The server core prepares every write (its own clients' and those learners
/// forward); each becomes a proposal, and the core applies it once a quorum has it on disk.
/// Runs on the server's core loop.
final class EnsembleLeader: @unchecked Sendable {
    unowned let peer: QuorumPeer
    private var server: AviaryServer { peer.server }
    var logger: Logger { peer.logger }
    private(set) var core: LeaderRole
    private var listener: Channel?
    private var learnerChannels: [Int64: Channel] = [:]
    private var sidOfChannel: [ObjectIdentifier: Int64] = [:]
    /// Each connected learner's figures, for the AdminServer.
    private var views: [Int64: LearnerView] = [:]
    /// Each follower's oldest unacknowledged proposal, in milliseconds (its lag in time).
    private var lagChecks: [Int64: SyncLimitCheck] = [:]
    private var discoveryWatch: RepeatedTask?
    private var watchedPhase: Discovery.Phase = .proposingEpoch
    private var halfTick: RepeatedTask?
    private var closed = false
    private let startedAt = DispatchTime.now().uptimeNanoseconds
    /// When the epoch was established (monotonic milliseconds), for `leader_uptime`.
    private(set) var establishedAt: UInt64?

    init(peer: QuorumPeer) {
        self.peer = peer
        let server = peer.server
        let config = server.configuration
        let last = server.core.tree.lastProcessedZxid
        let committed = Self.committedLog(server.dataDirectory, upTo: last)
        core = LeaderRole(verifier: peer.verifier, lastSeenVerifier: QuorumPeer.verifier(peer.lastSeenMembership),
                          leader: .init(myid: peer.myid, acceptedEpoch: peer.acceptedEpoch, currentEpoch: peer.currentEpoch,
                                        lastProcessedZxid: last),
                          committedLog: committed,
                          limits: .init(initLimit: Int64(config.initLimit), syncLimit: Int64(config.syncLimit)),
                          configText: peer.lastSeenMembership.text,
                          reconfigEnabled: config.reconfigEnabled,
                          readsTxnLog: true)
    }

    /// ZooKeeper's `zookeeper.snapshotSizeFactor`: a DIFF from the log is sent while the
    /// transactions it carries are under a third of the newest snapshot's size.
    static let snapshotSizeFactor = 0.33

    /// The newest logged transactions up to `last`, from after the last gap in the log
    /// (``TxnLogContinuity``): what a DIFF may be sent from.
    static func committedLog(_ directory: DataDirectory, upTo last: Int64) -> [Learner.Proposal] {
        let recent = CommittedLog.recent(directory, count: LeaderRole.commitLogCount, upTo: last)
        let snapshots = ((try? directory.snapshots()) ?? []).map(\.zxid)
        let kept = TxnLogContinuity.continuousSuffix(recent.map(\.header.zxid), through: last, snapshots: snapshots).count
        return recent.suffix(kept).map { Learner.Proposal(header: $0.header, txn: $0.txn, digest: nil) }
    }

    /// A learner's missing transactions from this server's log (`LearnerHandler.syncFollower`'s
    /// txnlog case), nil beyond ZooKeeper's size limit or across a gap in the log (there
    /// ZooKeeper sends a DIFF that loses transactions, ZOOKEEPER-2846; this sends a SNAP).
    static func readTxnLog(_ directory: DataDirectory, after peerLastZxid: Int64, upTo: Int64) -> [Learner.Proposal]? {
        guard let snapshots = try? directory.snapshots(), let newest = snapshots.first,
              let size = (try? FileManager.default.attributesOfItem(atPath: newest.path)[.size]) as? NSNumber else { return nil }
        let limit = Int(Double(size.intValue) * snapshotSizeFactor)
        guard let records = CommittedLog.since(directory, peerLastZxid: peerLastZxid, upTo: upTo, sizeLimit: limit),
              TxnLogContinuity.isContinuous(records.map(\.header.zxid), after: peerLastZxid, through: upTo, snapshots: snapshots.map(\.zxid)) else {
            return nil
        }
        return records.map { Learner.Proposal(header: $0.header, txn: $0.txn, digest: nil) }
    }

    /// Whether the epoch is established and clients are served.
    var isServing: Bool { core.isEstablished }

    /// Binds the quorum port and starts discovery; a bind failure ends leadership.
    func start() {
        let config = server.configuration
        let host = config.quorumListenOnAllIPs ? "0.0.0.0" : peer.me.host
        ServerBootstrap(group: server.coreLoop)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try server.quorumTLS?.addAcceptingHandlers(to: channel.pipeline.syncOperations, port: "quorum port")
                    try server.quorumAuth?.addAcceptingHandler(to: channel.pipeline.syncOperations, afterElectionHeader: false, port: "quorum port")
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(QuorumPacketDecoder()))
                    try channel.pipeline.syncOperations.addHandler(LearnerHandler(leader: self))
                }
            }
            .bind(host: host, port: peer.me.quorumPort)
            .whenComplete { [self] result in
                switch result {
                case .success(let channel):
                    guard !closed else { channel.close(promise: nil); return }
                    listener = channel
                    logger.info("LEADING: listening for learners on \(host):\(peer.me.quorumPort)")
                    // Each discovery wait is bounded by initLimit ticks (`Leader.lead`): a phase
                    // still unchanged one limit later has timed out.
                    let limit = TimeAmount.milliseconds(Int64(config.tickTime * config.initLimit))
                    watchedPhase = core.discovery.phase
                    discoveryWatch = server.coreLoop.scheduleRepeatedTask(initialDelay: limit, delay: limit) { [self] task in
                        guard !core.isEstablished else { return task.cancel() }
                        if core.discovery.phase == watchedPhase { receive(.deadlinePassed) }
                        watchedPhase = core.discovery.phase
                    }
                    let half = TimeAmount.milliseconds(Int64(max(1, config.tickTime / 2)))
                    halfTick = server.coreLoop.scheduleRepeatedTask(initialDelay: half, delay: half) { [self] _ in
                        receive(.halfTick)
                        watchPeers()
                    }
                    receive(.start)
                case .failure(let error):
                    end("cannot listen on the quorum port \(host):\(peer.me.quorumPort): \(error)")
                }
            }
    }

    func close() {
        guard !closed else { return }
        closed = true
        discoveryWatch?.cancel()
        halfTick?.cancel()
        listener?.close(promise: nil)
        server.quorumOutbound.flushAll()  // what was sent before goes out before the close
        for channel in learnerChannels.values { channel.close(promise: nil) }
        for channel in pendingChannels.values { channel.close(promise: nil) }
        learnerChannels.removeAll()
        views.removeAll()
    }

    private func end(_ reason: String) {
        guard !closed else { return }
        close()
        peer.leaderEnded(self, reason: reason)
    }

    // MARK: Server side

    /// A transaction the server core prepared: propose it. A reconfig's configuration becomes
    /// the last seen, and needs a quorum of its own from here on. While leadership is being
    /// handed over nothing is proposed: what comes meanwhile waits, and is proposed only if
    /// the transfer is given up (otherwise its clients' connections close with this leadership).
    func propose(_ header: TxnHeader, _ txn: Txn) {
        if transfer != nil { return heldProposals.append((header, txn)) }
        guard header.type == OpCode.reconfig.rawValue, case .setData(_, let data, _) = txn, let data else {
            return receive(.propose(header, txn))
        }
        guard let next = try? Membership(parsing: String(decoding: data, as: UTF8.self)) else {
            return end("the reconfig at 0x\(hex(header.zxid)) carries a configuration that cannot be read")
        }
        peer.sawConfiguration(data)
        logger.info("proposing configuration version 0x\(hex(next.version)): voters \(next.voters.map(\.id)), observers \(next.observers.map(\.id))")
        receive(.propose(header, txn, reconfiguring: QuorumPeer.verifier(next)))
    }

    // MARK: Failure detection

    /// Members lost, returned, lagging or caught up, and the quorum at risk or safe again.
    private var peerWatch = PeerWatch()

    /// Publishes what changed among the members since the last half tick (as events, and in
    /// the log).
    private func watchPeers() {
        guard !closed, core.isEstablished else { return }
        for event in peerWatch.update(PeerHealth.peers(server.core, server.operatorContext())) {
            let details = event.details.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            if event.kind == "member_lost" || event.kind == "quorum_at_risk" || event.kind == "member_lagging" {
                logger.warning("\(event.kind): \(details)")
            } else {
                logger.info("\(event.kind): \(details)")
            }
            server.events.publish(event.kind, event.details)
        }
    }

    // MARK: Leader transfer

    /// A transfer under way: the client to answer, when it started, and when it is given up.
    private var transfer: (connection: ConnectionID, xid: Int32, target: Int64, startedAt: UInt64, deadline: Scheduled<Void>)?
    private var heldProposals: [(TxnHeader, Txn)] = []

    /// A client asked for leadership to go to server `target` (`aviary leader transfer`): it
    /// is handed over once `target` has acknowledged everything committed, and given up after
    /// max(2 ticks, 2 s).
    func transfer(to target: Int64, answering connection: ConnectionID, xid: Int32) {
        guard transfer == nil else { return server.answer(connection, xid: xid, error: .badArguments) }
        let limit = Int64(max(2 * server.configuration.tickTime, 2000))
        let deadline = server.coreLoop.scheduleTask(in: .milliseconds(limit)) { [self] in
            guard let pending = transfer else { return }
            logger.warning("leader transfer to server.\(pending.target) given up: it did not catch up within \(limit) ms")
            endTransfer(error: .operationTimeout)
            receive(.cancelTransfer)
        }
        transfer = (connection, xid, target, DispatchTime.now().uptimeNanoseconds, deadline)
        logger.info("leader transfer to server.\(target) requested: proposing nothing until it has caught up")
        receive(.transfer(to: target))
    }

    /// Answers the transfer's client and proposes what was held, unless leadership went.
    private func endTransfer(error: KeeperError) {
        guard let pending = transfer else { return }
        transfer = nil
        pending.deadline.cancel()
        server.answer(pending.connection, xid: pending.xid, error: error)
        guard error != .ok else { return heldProposals.removeAll() }
        let held = heldProposals
        heldProposals.removeAll()
        for (header, txn) in held { propose(header, txn) }
    }

    /// What the server core checks a reconfig request against, while this server leads.
    private func reconfigContext() -> ReconfigContext {
        let bound = NIOLoopBound(self, eventLoop: server.coreLoop)
        return ReconfigContext(lastSeen: peer.lastSeenMembership, committedVersion: peer.membership.version,
                               standaloneEnabled: server.configuration.standaloneEnabled,
                               isQuorumSynced: { bound.value.core.isQuorumSynced(QuorumPeer.verifier($0)) })
    }

    /// The server's log is durable up to `zxid`: the leader's own ACK.
    func durable(upTo zxid: Int64) {
        receive(.durable(upTo: zxid))
    }

    // MARK: Learner connections

    /// Connections that have not yet said which server they are.
    private var pendingChannels: [ObjectIdentifier: Channel] = [:]

    func opened(_ channel: Channel) {
        guard !closed else { channel.close(promise: nil); return }
        let key = ObjectIdentifier(channel)
        pendingChannels[key] = channel
        // A learner names itself within initLimit ticks, as `LearnerHandler.run` bounds its
        // first read by the socket timeout; a silent connection is closed then.
        let config = server.configuration
        let limit = TimeAmount.milliseconds(Int64(config.tickTime * config.initLimit))
        server.coreLoop.scheduleTask(in: limit) { [weak self, weak channel] in
            guard let self, let channel, self.pendingChannels[key] === channel else { return }
            self.logger.warning("learner connection from \(channel.remoteAddress.map { "\($0)" } ?? "?") sent nothing within initLimit; closing")
            self.pendingChannels[key] = nil
            channel.close(promise: nil)
        }
    }

    func received(_ packet: QuorumPacket, on channel: Channel) {
        guard !closed else { return }
        let key = ObjectIdentifier(channel)
        if let sid = sidOfChannel[key] {
            views[sid]?.packetsReceived += 1
            views[sid]?.lastHeardMillis = AviaryServer.now().monotonicMillis
            if packet.kind == .request { views[sid]?.requests += 1 }
            if packet.kind == .ping, let sent = views[sid]?.pingSentMillis {
                views[sid]?.roundTripMillis = AviaryServer.now().monotonicMillis - sent
                views[sid]?.pingSentMillis = nil
            }
            if packet.kind == .ack, let acked = views[sid]?.lastAckedZxid {
                views[sid]?.lastAckedZxid = max(acked, packet.zxid)
                lagChecks[sid]?.acknowledged(packet.zxid)
                views[sid]?.oldestUnacknowledgedMillis = lagChecks[sid]?.oldestUnacknowledgedSentAt.map(Int64.init)
            }
            return receive(.packet(from: sid, packet))
        }
        // The first packet names the learner (`LearnerHandler.run`).
        guard packet.kind == .followerInfo || packet.kind == .observerInfo,
              let info = try? LearnerInfo(decoding: packet.data ?? []) else {
            logger.warning("learner connection from \(channel.remoteAddress.map { "\($0)" } ?? "?"): first packet is not FOLLOWERINFO or OBSERVERINFO; closing")
            channel.close(promise: nil)
            return
        }
        pendingChannels[key] = nil
        if let old = learnerChannels[info.serverId] {
            // A learner that reconnects replaces its old connection.
            sidOfChannel[ObjectIdentifier(old)] = nil
            old.close(promise: nil)
            receive(.learnerLost(info.serverId))
        }
        learnerChannels[info.serverId] = channel
        lagChecks[info.serverId] = nil
        sidOfChannel[key] = info.serverId
        var view = LearnerView(sid: info.serverId, isObserver: packet.kind == .observerInfo,
                               remoteAddress: channel.remoteAddress.map(Self.javaSocketAddress) ?? "<null>",
                               establishedMillis: Int64(Date().timeIntervalSince1970 * 1000))
        view.packetsReceived = 1
        view.lastHeardMillis = AviaryServer.now().monotonicMillis
        views[info.serverId] = view
        logger.info("learner server.\(info.serverId) connected (\(packet.kind == .observerInfo ? "observer" : "follower"), accepted epoch \(packet.zxid >> 32))")
        receive(.packet(from: info.serverId, packet))
    }

    func channelClosed(_ channel: Channel) {
        let key = ObjectIdentifier(channel)
        pendingChannels[key] = nil
        guard let sid = sidOfChannel.removeValue(forKey: key) else { return }
        guard learnerChannels[sid] === channel else { return }
        learnerChannels[sid] = nil
        views[sid] = nil
        lagChecks[sid] = nil
        guard !closed else { return }
        logger.warning("learner server.\(sid) disconnected")
        server.events.publish("learner_lost", ["learner": String(sid)])
        receive(.learnerLost(sid))
    }

    /// The learners connected now, by sid.
    var learnerViews: [LearnerView] {
        views.values.sorted { $0.sid < $1.sid }.map { view in
            var view = view
            view.synced = core.isSynced(view.sid)
            return view
        }
    }

    /// "/127.0.0.2:41234", as `Socket.getRemoteSocketAddress().toString()` prints it.
    static func javaSocketAddress(_ address: SocketAddress) -> String {
        "/\(address.ipAddress ?? "?"):\(address.port ?? 0)"
    }

    private func send(_ packet: QuorumPacket, to sid: Int64) {
        if let snapshot = snapshotsInProgress[sid] {
            // Behind the SNAP being streamed: sent once it is.
            snapshot.held.append(packet)
            return
        }
        guard let channel = learnerChannels[sid] else { return }
        views[sid]?.packetsSent += 1
        if packet.kind == .ping && views[sid]?.pingSentMillis == nil { views[sid]?.pingSentMillis = AviaryServer.now().monotonicMillis }
        if packet.kind == .proposal {
            lagChecks[sid, default: SyncLimitCheck()].proposed(packet.zxid, at: Int(AviaryServer.now().monotonicMillis))
            views[sid]?.oldestUnacknowledgedMillis = lagChecks[sid]?.oldestUnacknowledgedSentAt.map(Int64.init)
        }
        if packet.kind != .ping { views[sid]?.lastZxid = packet.zxid }
        server.sendQuorum(packet, on: channel)
    }

    // MARK: SNAP

    /// Learners whose SNAP is being streamed.
    private var snapshotsInProgress: [Int64: SnapshotInProgress] = [:]

    /// A SNAP stream on its way to one learner (touched on the core's loop only).
    private final class SnapshotInProgress {
        let encoder: SnapStream.Encoder
        let planned: Int64
        let started = DispatchTime.now().uptimeNanoseconds
        /// What the leader sent that learner meanwhile, to follow the stream.
        var held: [QuorumPacket] = []
        /// Bytes handed to the channel and not yet written to the socket.
        var unwritten = 0
        /// Whether the encoding waits for ``unwritten`` to fall.
        var waiting = false
        var bytes = 0

        init(encoder: SnapStream.Encoder, planned: Int64) {
            self.encoder = encoder
            self.planned = planned
        }
    }

    /// The most stream bytes queued on a learner's connection before the encoding waits for
    /// the learner to read them, so that a slow learner does not pile the tree up in memory.
    static let snapshotBacklogLimit = 8 << 20

    /// Streams the tree to learner `sid`: SNAP, the sessions and ACL cache, then a few
    /// thousand znodes per turn of the core's loop, each chunk sent as it is encoded (clients
    /// are served and learners pinged in between, and the learner decodes while the leader
    /// encodes), then the signature and what the leader sent that learner meanwhile, in order.
    private func startSnapshot(to sid: Int64, planned: Int64) {
        guard let channel = learnerChannels[sid] else { return }
        let snapshot = SnapshotInProgress(encoder: SnapStream.Encoder(tree: server.core.tree), planned: planned)
        snapshotsInProgress[sid] = snapshot
        var writer = JuteWriter(channel.allocator.buffer(capacity: 64))
        writer.write(QuorumPacket(.snap, zxid: snapshot.encoder.zxid))
        views[sid]?.packetsSent += 1
        views[sid]?.lastZxid = snapshot.encoder.zxid
        channel.write(writer.buffer, promise: nil)
        stream(snapshot.encoder.prefix(), of: snapshot, on: channel)
        continueSnapshot(snapshot, to: sid, on: channel)
    }

    /// Writes part of a stream, counting it as unwritten until the socket has taken it.
    private func stream(_ part: ByteBuffer, of snapshot: SnapshotInProgress, on channel: Channel) {
        let size = part.readableBytes
        snapshot.unwritten += size
        snapshot.bytes += size
        let bound = NIOLoopBound(snapshot, eventLoop: server.coreLoop)
        channel.write(part).hop(to: server.coreLoop).whenComplete { [self] _ in
            let snapshot = bound.value
            snapshot.unwritten -= size
            guard snapshot.waiting, snapshot.unwritten <= Self.snapshotBacklogLimit / 2 else { return }
            snapshot.waiting = false
            if let sid = snapshotsInProgress.first(where: { $0.value === snapshot })?.key {
                continueSnapshot(snapshot, to: sid, on: channel)
            } else {
                snapshot.encoder.abandon()
            }
        }
    }

    private func continueSnapshot(_ snapshot: SnapshotInProgress, to sid: Int64, on channel: Channel) {
        guard !closed, learnerChannels[sid] === channel, snapshotsInProgress[sid] === snapshot else {
            if snapshotsInProgress[sid] === snapshot { snapshotsInProgress[sid] = nil }
            snapshot.encoder.abandon()
            return
        }
        if snapshot.unwritten >= Self.snapshotBacklogLimit {
            // Resumed as the learner reads (``stream(_:of:on:)``).
            snapshot.waiting = true
            channel.flush()
            return
        }
        stream(snapshot.encoder.nextChunk(maximumNodes: 4096), of: snapshot, on: channel)
        channel.flush()
        guard snapshot.encoder.isFinished else {
            let bound = NIOLoopBound(snapshot, eventLoop: server.coreLoop)
            server.coreLoop.execute { self.continueSnapshot(bound.value, to: sid, on: channel) }
            return
        }
        stream(snapshot.encoder.end(), of: snapshot, on: channel)
        snapshotsInProgress[sid] = nil
        for packet in snapshot.held { send(packet, to: sid) }
        channel.flush()
        let zxid = snapshot.encoder.zxid
        let millis = (DispatchTime.now().uptimeNanoseconds - snapshot.started) / 1_000_000
        logger.info("sent server.\(sid) a SNAP at 0x\(hex(zxid)) (\(snapshot.encoder.nodeCount) znodes, \(snapshot.bytes) bytes, encoded and sent in \(millis) ms; planned at 0x\(hex(snapshot.planned)))")
        server.events.publish("learner_sync", ["learner": String(sid), "kind": "SNAP", "bytes": String(snapshot.bytes)])
    }

    // MARK: Core

    private func receive(_ event: LeaderRole.Event) {
        guard !closed else { return }
        perform(core.receive(event))
    }

    private func perform(_ actions: [LeaderRole.Action]) {
        for action in actions {
            guard !closed else { return }
            switch action {
            case .send(let sid, let packet):
                if packet.kind == .diff { peer.statistics.diffCount += 1 }
                send(packet, to: sid)
            case .sendSnapshot(let sid, let zxid):
                guard learnerChannels[sid] != nil else { continue }
                peer.statistics.snapCount += 1
                startSnapshot(to: sid, planned: zxid)
            case .writeAcceptedEpoch(let epoch):
                if !peer.writeEpoch(EpochFiles.accepted, epoch) { return end("cannot write acceptedEpoch") }
            case .writeCurrentEpoch(let epoch):
                if !peer.writeEpoch(EpochFiles.current, epoch) { return end("cannot write currentEpoch") }
            case .log(let proposal):
                peer.statistics.proposalCount += 1
                server.appendToLog(proposal.header, proposal.txn)
            case .commit(let zxid):
                peer.statistics.commitCount += 1
                server.process(.logged(upTo: zxid))
            case .serving(let epoch):
                discoveryWatch?.cancel()
                server.startServing(role: .standalone, tree: server.core.tree)
                server.core.startLeading(epoch: epoch)
                server.core.reconfigContext = reconfigContext()
                establishedAt = DispatchTime.now().uptimeNanoseconds / 1_000_000
                peer.serving(epoch: epoch)
                let millis = (DispatchTime.now().uptimeNanoseconds - startedAt) / 1_000_000
                logger.info("LEADING epoch \(epoch): a quorum is synchronized after \(millis) ms; serving clients at zxid 0x\(hex(server.core.tree.lastProcessedZxid))")
                server.events.publish("leader_established", ["epoch": String(epoch), "millis": String(millis)])
            case .touchSessions(let touches):
                server.core.touchSessions(touches, now: AviaryServer.now())
            case .request(let sid, let request):
                server.process(.learnerRequest(request, from: sid))
            case .revalidate(let sid, let session, let timeout):
                peer.statistics.revalidateCount += 1
                server.perform(server.core.revalidateSession(session, timeout: timeout, from: sid, now: AviaryServer.now()))
                send(Revalidation.answer(sessionId: session, valid: server.core.isLiveSession(session)), to: sid)
            case .readTxnLog(let sid, let peerLastZxid, let upTo):
                // Off the loop: a read of many log files would stall every client and learner.
                // Commits go on meanwhile; the core joins the read to its committed log.
                let directory = server.dataDirectory, loop = server.coreLoop
                DispatchQueue.global(qos: .utility).async { [self] in
                    let proposals = Self.readTxnLog(directory, after: peerLastZxid, upTo: upTo)
                    loop.execute { [self] in
                        guard !closed else { return }
                        receive(.txnLogRead(for: sid, after: peerLastZxid, proposals))
                    }
                }
            case .closeLearner(let sid, let reason):
                guard let channel = learnerChannels[sid] else { continue }
                logger.warning("closing the connection of learner server.\(sid): \(reason)")
                channel.close(promise: nil)
            case .activate(let config, let designated, let zxid):
                peer.activate(config, designatedLeader: designated, zxid: zxid, currentLeader: peer.myid)
                if designated != peer.myid {
                    // `allowedToCommit` is false: the designated leader takes over; this server
                    // joins it as soon as the learners have the COMMITANDACTIVATE.
                    peer.designatedLeader = designated
                    return end("the configuration at 0x\(hex(zxid)) names server.\(designated) leader")
                }
                if core.isEstablished { server.core.reconfigContext = reconfigContext() }
            case .transferred(let target):
                let millis = transfer.map { (DispatchTime.now().uptimeNanoseconds - $0.startedAt) / 1_000_000 } ?? 0
                logger.info("leadership handed to server.\(target) after \(millis) ms without proposals")
                server.events.publish("leader_transferred", ["to": String(target), "millis": String(millis)])
                endTransfer(error: .ok)
                peer.designatedLeader = target
                return end("handed leadership to server.\(target)")
            case .transferRefused(let reason):
                logger.warning("leader transfer refused: \(reason)")
                endTransfer(error: .badArguments)
            case .fail(let reason):
                return end(reason)
            }
        }
    }
}

/// A learner's connection to the leader's quorum port: packets go to the ``EnsembleLeader``.
final class LearnerHandler: ChannelInboundHandler {
    typealias InboundIn = LeaderInbound
    private let leader: EnsembleLeader
    init(leader: EnsembleLeader) { self.leader = leader }

    func channelActive(context: ChannelHandlerContext) {
        leader.opened(context.channel)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .packet(let packet): leader.received(packet, on: context.channel)
        case .snapshot, .snapshotBody: context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        leader.channelClosed(context.channel)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        leader.logger.warning("learner connection: \(error)")
        context.close(promise: nil)
    }
}
