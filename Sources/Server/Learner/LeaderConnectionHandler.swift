import Logging
import NIOCore

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
