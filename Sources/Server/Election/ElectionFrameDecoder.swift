import NIOCore
import ZooKeeperProtocol

/// What an election connection's bytes split into.
enum ElectionInbound {
    /// The dialer's header (only on accepted connections, first).
    case header(ElectionInitialMessage)
    /// One notification frame's payload.
    case frame(ByteBuffer)
}

/// Splits an election connection's bytes (`QuorumCnxManager.RecvWorker`): on an accepted
/// connection the dialer's header first, then `int length` + payload frames; a length of zero
/// or less, or over 512 KB, is an error that drops the connection.
struct ElectionFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ElectionInbound

    struct FrameLengthError: Error, CustomStringConvertible {
        var length: Int32
        var description: String { "election frame of \(length) bytes" }
    }

    var expectsHeader: Bool

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if expectsHeader {
            guard let header = try ElectionInitialMessage.decode(&buffer) else { return .needMoreData }
            expectsHeader = false
            context.fireChannelRead(wrapInboundOut(.header(header)))
            return .continue
        }
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: Int32.self) else { return .needMoreData }
        guard length > 0, Int(length) <= ElectionNotification.maximumFrameLength else { throw FrameLengthError(length: length) }
        guard buffer.readableBytes >= 4 + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4)
        guard let payload = buffer.readSlice(length: Int(length)) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(.frame(payload)))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        .needMoreData
    }
}
