import NIOCore
import ServerCore

/// Reports every read of a connection that has not finished its handshake to the core, so
/// that a slow but live client is not closed as idle (ZooKeeper touches a connection on each
/// read). ``ClientConnectionHandler`` removes it once the handshake frame is in.
final class HandshakeActivityHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// The name it is added under, for its removal.
    static let name = "handshake-activity"

    private let server: AviaryServer
    private let id: ConnectionID

    init(server: AviaryServer, id: ConnectionID) {
        self.server = server
        self.id = id
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        server.submit(.connectionActivity(id))
        context.fireChannelRead(data)
    }
}
