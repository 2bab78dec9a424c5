import Jute
import NIOCore
import Storage
import ZooKeeperProtocol

/// What a learner's connection to its leader carries.
enum LeaderInbound {
    case packet(QuorumPacket)
    /// The raw tree that follows a SNAP packet.
    case snapshot(ByteBuffer)
}

/// Splits the quorum port's stream, which has no framing of its own: `QuorumPacket` records
/// back to back, and after SNAP the snapshot stream (``SnapStream``), walked to find its end.
struct QuorumPacketDecoder: ByteToMessageDecoder {
    typealias InboundOut = LeaderInbound

    /// The largest data one packet may carry (ZooKeeper refuses a buffer over about 2 MiB).
    static let maximumData = 2 << 20
    private var expectingSnapshot = false

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if expectingSnapshot {
            guard let length = try SnapStream.length(of: buffer), let stream = buffer.readSlice(length: length) else { return .needMoreData }
            expectingSnapshot = false
            context.fireChannelRead(wrapInboundOut(.snapshot(stream)))
            return .continue
        }
        var reader = JuteReader(buffer, maximumLength: Self.maximumData)
        let packet: QuorumPacket
        do {
            packet = try QuorumPacket(from: &reader)
        } catch JuteError.truncated {
            return .needMoreData
        }
        buffer.moveReaderIndex(forwardBy: buffer.readableBytes - reader.remaining)
        if packet.kind == .snap { expectingSnapshot = true }
        context.fireChannelRead(wrapInboundOut(.packet(packet)))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        .needMoreData
    }
}
