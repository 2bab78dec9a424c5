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
    /// Set after SNAP: the snapshot stream that follows, walked as it arrives.
    private var snapshot: SnapStream.Scanner?

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if var scanner = snapshot {
            let length = try scanner.scan(buffer)
            snapshot = scanner
            guard let length, let stream = buffer.readSlice(length: length) else { return .needMoreData }
            snapshot = nil
            context.fireChannelRead(wrapInboundOut(.snapshot(stream)))
            return .continue
        }
        guard let length = try QuorumPacket.length(of: buffer, maximumLength: Self.maximumData),
              let bytes = buffer.readSlice(length: length) else { return .needMoreData }
        var reader = JuteReader(bytes, maximumLength: Self.maximumData)
        let packet = try QuorumPacket(from: &reader)
        if packet.kind == .snap { snapshot = SnapStream.Scanner() }
        context.fireChannelRead(wrapInboundOut(.packet(packet)))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        .needMoreData
    }
}
