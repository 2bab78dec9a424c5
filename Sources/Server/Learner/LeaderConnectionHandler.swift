import Logging
import NIOCore
import NIOPosix

/// What a connection to a leader's quorum port reports to: a follower's or observer's link,
/// or the `aviary observe` tool.
protocol LeaderConnectionOwner: AnyObject {
    var logger: Logger { get }
    /// A whole packet, or the snapshot stream after SNAP, arrived.
    func received(_ inbound: LeaderInbound)
    /// The connection is gone.
    func connectionClosed()
}

/// The inbound side of a connection to a leader: decoded packets go to their owner; an error
/// closes the connection, which the owner hears as `connectionClosed`.
final class LeaderConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = LeaderInbound
    private let owner: LeaderConnectionOwner
    init(_ owner: LeaderConnectionOwner) { self.owner = owner }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        owner.received(unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        owner.connectionClosed()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        owner.logger.warning("leader connection: \(error)")
        context.close(promise: nil)
    }
}

/// Dialling a leader's quorum port (`Learner.connectToLeader`'s socket).
enum LeaderConnection {
    /// Connects to `host:port` on `loop` with the packet decoder and a handler reporting to
    /// `owner`; `timeout` bounds the TCP connect.
    static func dial(host: String, port: Int, on loop: EventLoop, timeout: TimeAmount? = nil, tls: QuorumTLS?,
                     authentication: QuorumAuthentication? = nil, owner: LeaderConnectionOwner & Sendable) -> EventLoopFuture<Channel> {
        var bootstrap = ClientBootstrap(group: loop).channelOption(.tcpOption(.tcp_nodelay), value: 1)
        if let timeout { bootstrap = bootstrap.connectTimeout(timeout) }
        return bootstrap
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try tls?.addDiallingHandlers(to: channel.pipeline.syncOperations, port: "quorum port")
                    try authentication?.addDiallingHandler(to: channel.pipeline.syncOperations, afterElectionHeader: false, port: "quorum port")
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(QuorumPacketDecoder()))
                    try channel.pipeline.syncOperations.addHandler(LeaderConnectionHandler(owner))
                }
            }
            .connect(host: host, port: port)
    }
}
