import Jute
import NIOCore

/// A frame the server sends to a client.
public enum OutboundFrame: Hashable, Sendable {
    /// The answer to the handshake.
    case connect(ConnectResponse)
    /// A reply; the body is omitted when the header carries an error.
    case reply(ReplyHeader, Response)
    /// A watch notification (xid -1).
    case notification(WatcherEvent)

    /// Appends the length-prefixed frame to `buffer`.
    public func encode(into buffer: inout ByteBuffer) {
        let lengthIndex = buffer.writerIndex
        buffer.writeInteger(Int32(0))
        var writer = JuteWriter(buffer)
        switch self {
        case .connect(let response):
            writer.write(response)
        case .reply(let header, let body):
            writer.write(header)
            // A failed SASL step still carries its (null) token: ZooKeeper sends
            // SetSASLResponse(null) with AuthFailed, and the Java client reads it.
            if header.err == 0 { body.write(to: &writer) } else if case .sasl = body { body.write(to: &writer) }
        case .notification(let event):
            writer.write(ReplyHeader(xid: SpecialXid.notification, zxid: -1, err: 0))
            writer.write(event)
        }
        buffer = writer.buffer
        buffer.setInteger(Int32(buffer.writerIndex - lengthIndex - 4), at: lengthIndex)
    }
}
