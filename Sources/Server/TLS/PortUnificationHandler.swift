import NIOCore
import NIOSSL

/// On a client port that takes TLS and plaintext alike (`client.portUnification`), decides
/// from the first byte a client sends: 22 opens a TLS record (a handshake), which no plaintext
/// client starts with (a ZooKeeper frame starts with a length far below 22 << 24, a four-letter
/// word with a letter). TLS connections get the TLS handlers put in front of the rest; then
/// this handler steps aside, passing on what it read.
final class PortUnificationHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// The first byte of a TLS record that carries a handshake.
    static let handshakeRecord: UInt8 = 22

    private let makeTLSHandlers: () -> [ChannelHandler]

    /// `makeTLSHandlers` gives the handlers a TLS connection needs, outermost first.
    init(makeTLSHandlers: @escaping () -> [ChannelHandler]) {
        self.makeTLSHandlers = makeTLSHandlers
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        guard let first = bytes.getInteger(at: bytes.readerIndex, as: UInt8.self) else { return }
        if first == Self.handshakeRecord {
            do {
                var position = ChannelPipeline.SynchronousOperations.Position.after(self)
                for handler in makeTLSHandlers() {
                    try context.pipeline.syncOperations.addHandler(handler, position: position)
                    position = .after(handler)
                }
            } catch {
                context.close(promise: nil)
                return
            }
        }
        context.fireChannelRead(data)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
