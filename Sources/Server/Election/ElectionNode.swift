import Consensus
import Logging
import NIOCore
import NIOPosix
import ZooKeeperProtocol

/// The shell around ``FastLeaderElection``: the election port and one connection per peer, as
/// ZooKeeper 3.8's `QuorumCnxManager` keeps them, and the election's timer. Everything runs on
/// one event loop.
///
/// Connections follow ZooKeeper's rule that the larger sid's connection survives: a dial to a
/// larger sid sends the header and closes (the peer dials back); a dial from a smaller sid is
/// closed and dialed back. Each peer has a send queue of one: only the newest vote waits for a
/// connection. Notifications to this server's own id are looped back.
public final class ElectionNode: @unchecked Sendable {
    /// Where each member's election port is.
    public struct Peer: Sendable {
        public var id: Int64
        public var host: String
        public var port: Int
        public init(id: Int64, host: String, port: Int) { self.id = id; self.host = host; self.port = port }
    }

    let loop: EventLoop
    let logger: Logger
    let myid: Int64
    private(set) var peers: [Int64: Peer]
    let connectTimeout: TimeAmount
    private var core: FastLeaderElection
    private var channels: [Int64: Channel] = [:]
    private var connecting: Set<Int64> = []
    private var waiting: [Int64: ElectionNotification] = [:]
    /// The last notification written to each peer, resent if its connection drops mid-election.
    private var lastSent: [Int64: ElectionNotification] = [:]
    private var timer: Scheduled<Void>?
    private var serverChannel: Channel?
    private var electedHandler: (@Sendable (Vote, PeerState) -> Void)?
    /// TLS on election connections (`sslQuorum`, `portUnification`), when configured.
    var tls: QuorumTLS?
    /// Quorum SASL on election connections (`quorum.auth.enableSasl`), when configured.
    var quorumAuth: QuorumAuthentication?
    /// Called on the loop when, while looking, a peer's notification carries a newer
    /// configuration (``FastLeaderElection/Action/newerConfiguration(_:)``).
    public var newerConfiguration: ((String) -> Void)?

    public init(core: FastLeaderElection, peers: [Peer], loop: EventLoop, connectTimeoutMillis: Int64 = 5000, logger: Logger) {
        self.core = core
        self.myid = core.configuration.myid
        self.peers = Dictionary(peers.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        self.loop = loop
        self.connectTimeout = .milliseconds(connectTimeoutMillis)
        self.logger = logger
    }

    /// Listens on `host:port` for the other members' election connections.
    public func listen(host: String, port: Int) async throws {
        let channel = try await ServerBootstrap(group: loop)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try tls?.addAcceptingHandlers(to: channel.pipeline.syncOperations, port: "election port")
                    try quorumAuth?.addAcceptingHandler(to: channel.pipeline.syncOperations, afterElectionHeader: true, port: "election port")
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(ElectionFrameDecoder(expectsHeader: true)))
                    try channel.pipeline.syncOperations.addHandler(ElectionConnectionHandler(node: self, peer: nil))
                }
            }
            .bind(host: host, port: port)
            .get()
        try await loop.submit { self.serverChannel = channel }.get()
    }

    /// Starts an election; `elected` is called on the loop when it ends.
    public func start(lastLoggedZxid: Int64, currentEpoch: Int64, elected: @escaping @Sendable (Vote, PeerState) -> Void) {
        loop.execute { [self] in
            electedHandler = elected
            perform(core.receive(.start(lastLoggedZxid: lastLoggedZxid, currentEpoch: currentEpoch)))
        }
    }

    /// Records the epoch this server now follows or leads in the vote it answers LOOKING
    /// servers with (`QuorumPeer.updateElectionVote`).
    public func updatePeerEpoch(_ epoch: Int64) {
        loop.execute { [self] in core.updatePeerEpoch(epoch) }
    }

    /// A new configuration is in force: later elections count its voters and dial its members;
    /// `vote`, when given, is the designated leader this server now stands by. Call on the loop.
    public func reconfigure(_ configuration: FastLeaderElection.Configuration, peers: [Peer], vote: Vote? = nil) {
        loop.preconditionInEventLoop()
        core.reconfigure(configuration, vote: vote)
        self.peers = Dictionary(peers.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Takes up `state` with `vote` outside an election (`QuorumPeer.updateServerState`): the
    /// leader a reconfiguration or a transfer named, which LOOKING servers are answered with.
    public func standBy(_ vote: Vote, state: PeerState) {
        loop.execute { [self] in
            timer?.cancel()
            core.standBy(vote, state: state)
        }
    }

    /// The election's configuration now.
    public var configuration: FastLeaderElection.Configuration { core.configuration }

    /// Closes the election port and every connection.
    public func close() async {
        let open: [Channel] = (try? await loop.submit { [self] in
            timer?.cancel()
            return Array(channels.values) + [serverChannel].compactMap { $0 }
        }.get()) ?? []
        for channel in open { try? await channel.close() }
    }

    // MARK: Core

    private func perform(_ actions: [FastLeaderElection.Action]) {
        for action in actions {
            switch action {
            case .send(let sid, let notification):
                if sid == myid {
                    loop.execute { [self] in perform(core.receive(.notification(from: myid, notification))) }
                } else if let channel = channels[sid] {
                    lastSent[sid] = notification
                    write(notification, to: channel)
                } else {
                    waiting[sid] = notification
                    connect(sid)
                }
            case .setTimer(let millis):
                timer?.cancel()
                timer = loop.scheduleTask(in: .milliseconds(millis)) { [self] in perform(core.receive(.timerFired)) }
            case .newerConfiguration(let text):
                newerConfiguration?(text)
            case .elected(let vote, let state):
                timer?.cancel()
                logger.info("election over: \(state) with leader \(vote.leader) (round \(vote.electionEpoch), peerEpoch \(vote.peerEpoch))")
                electedHandler?(vote, state)
            }
        }
    }

    private func write(_ notification: ElectionNotification, to channel: Channel) {
        var buffer = channel.allocator.buffer(capacity: 64 + notification.config.utf8.count)
        buffer.writeInteger(Int32(0))
        notification.encode(into: &buffer)
        buffer.setInteger(Int32(buffer.readableBytes - 4), at: buffer.readerIndex)
        channel.writeAndFlush(buffer, promise: nil)
    }

    // MARK: Connections

    private func connect(_ sid: Int64) {
        guard let peer = peers[sid], !connecting.contains(sid), channels[sid] == nil else { return }
        connecting.insert(sid)
        let header = ElectionInitialMessage(sid: myid, addresses: [myAddress])
        ClientBootstrap(group: loop)
            .connectTimeout(connectTimeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try tls?.addDiallingHandlers(to: channel.pipeline.syncOperations, port: "election port")
                    try quorumAuth?.addDiallingHandler(to: channel.pipeline.syncOperations, afterElectionHeader: true, port: "election port")
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(ElectionFrameDecoder(expectsHeader: false)))
                    try channel.pipeline.syncOperations.addHandler(ElectionConnectionHandler(node: self, peer: sid))
                }
            }
            .connect(host: peer.host, port: peer.port)
            .whenComplete { [self] result in
                connecting.remove(sid)
                let channel: Channel
                switch result {
                case .success(let connected): channel = connected
                case .failure(let error):
                    // As QuorumCnxManager's "Cannot open channel to N at election address".
                    logger.warning("Cannot open channel to \(sid) at election address \(peer.host):\(peer.port): \(error)")
                    perform(core.receive(.peerUnreachable(sid)))
                    return
                }
                var buffer = channel.allocator.buffer(capacity: 64)
                header.encode(into: &buffer)
                if sid > myid {
                    // The larger sid's connection survives: say who we are and let it dial back.
                    // With quorum SASL the empty write after the header is held until this
                    // member has authenticated, as ZooKeeper authenticates before it hangs up.
                    channel.write(buffer, promise: nil)
                    channel.writeAndFlush(channel.allocator.buffer(capacity: 0)).whenComplete { _ in channel.close(promise: nil) }
                } else {
                    channel.writeAndFlush(buffer, promise: nil)
                    register(channel, for: sid)
                }
            }
    }

    private var myAddress: String {
        guard let me = peers[myid] else { return "0.0.0.0:0" }
        return me.host.contains(":") ? "[\(me.host)]:\(me.port)" : "\(me.host):\(me.port)"
    }

    private func register(_ channel: Channel, for sid: Int64) {
        if let old = channels[sid], old !== channel { old.close(promise: nil) }
        channels[sid] = channel
        if let notification = waiting.removeValue(forKey: sid) { write(notification, to: channel) }
    }

    func accepted(_ header: ElectionInitialMessage, on channel: Channel) {
        if header.sid < myid {
            // A smaller sid dialed: its connection loses; dial it back.
            channel.close(promise: nil)
            connect(header.sid)
        } else {
            register(channel, for: header.sid)
        }
    }

    func received(_ payload: ByteBuffer, from sid: Int64, on channel: Channel) {
        do {
            let notification = try ElectionNotification.decode(payload)
            perform(core.receive(.notification(from: sid, notification)))
        } catch {
            logger.warning("dropping an election message from server \(sid): \(error)")
        }
    }

    /// A peer's connection ended. During an election it is dialled again at once with the
    /// last notification it was sent (ZooKeeper's SendWorker resends `lastMessageSent`): a
    /// peer that died refuses, and the election stops waiting for its vote.
    func closed(_ channel: Channel, sid: Int64?) {
        guard let sid, channels[sid] === channel else { return }
        channels[sid] = nil
        guard core.running, let last = lastSent[sid] else { return }
        if waiting[sid] == nil { waiting[sid] = last }
        connect(sid)
    }
}

/// One election connection: hands its header and frames to the node.
final class ElectionConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ElectionInbound

    private let node: ElectionNode
    private var peer: Int64?

    init(node: ElectionNode, peer: Int64?) {
        self.node = node
        self.peer = peer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .header(let header):
            peer = header.sid
            node.accepted(header, on: context.channel)
        case .frame(let payload):
            guard let peer else { return context.close(promise: nil) }
            node.received(payload, from: peer, on: context.channel)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        node.closed(context.channel, sid: peer)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        node.logger.debug("election connection to \(peer.map(String.init) ?? "?") closed: \(error)")
        context.close(promise: nil)
    }
}
