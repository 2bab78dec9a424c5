import DataTree
import Jute
import NIOCore
import Storage
import ZooKeeperProtocol

/// What a learner's connection to its leader carries.
enum LeaderInbound {
    case packet(QuorumPacket)
    /// The next bytes of the snapshot's body after a SNAP packet, as they came (a learner
    /// writes them as its snapshot file).
    case snapshotBody(ByteBuffer)
    /// The tree the stream after a SNAP packet built, once its signature has come.
    case snapshot(DataTree)
}

/// Splits the quorum port's stream, which has no framing of its own: `QuorumPacket` records
/// back to back, and after SNAP the snapshot stream (``SnapStream``), which has no length: it
/// is decoded into the learner's tree as it arrives, and that finds its end.
struct QuorumPacketDecoder: ByteToMessageDecoder {
    typealias InboundOut = LeaderInbound

    /// The largest data one packet may carry (ZooKeeper refuses a buffer over about 2 MiB).
    static let maximumData = 2 << 20
    /// Set after SNAP: the tree being built from the stream that follows.
    private var snapshot: SnapStream.Decoder?
    /// How many znodes a learner's tree is sized for before it grows.
    static let expectedNodes = 1 << 18

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        // What was read is sliced from this view (a buffer's read bytes cannot be sliced).
        let unread = buffer
        // Read in place: a copy of the decoder would copy the tree being built.
        if let progress = try snapshot?.read(&buffer) {
            if progress.bodyBytes > 0, let body = unread.getSlice(at: unread.readerIndex, length: progress.bodyBytes) {
                context.fireChannelRead(wrapInboundOut(.snapshotBody(body)))
            }
            guard let tree = progress.tree else { return .needMoreData }
            snapshot = nil
            context.fireChannelRead(wrapInboundOut(.snapshot(tree)))
            return .continue
        }
        guard let length = try QuorumPacket.length(of: buffer, maximumLength: Self.maximumData),
              let bytes = buffer.readSlice(length: length) else { return .needMoreData }
        var reader = JuteReader(bytes, maximumLength: Self.maximumData)
        let packet = try QuorumPacket(from: &reader)
        if packet.kind == .snap { snapshot = SnapStream.Decoder(zxid: packet.zxid, expectedNodes: Self.expectedNodes) }
        context.fireChannelRead(wrapInboundOut(.packet(packet)))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        .needMoreData
    }
}
