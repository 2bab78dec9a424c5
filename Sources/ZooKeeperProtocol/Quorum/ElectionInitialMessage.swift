import Jute
import NIOCore

/// The header a server sends when it dials another's election port
/// (`QuorumCnxManager.InitialMessage`): who it is and where it listens.
///
/// `long protocolVersion; long sid; int length; byte[length] addresses` (ASCII `ip:port`,
/// several joined by `|` in version 2). A first long that is not negative is a pre-3.5
/// header holding only the sid.
public struct ElectionInitialMessage: Hashable, Sendable {
    /// ZooKeeper 3.5+'s protocol version, and 3.8's with `multiAddress.enabled`.
    public static let version1: Int64 = -65536
    public static let version2: Int64 = -65535
    /// The longest address list an acceptor reads.
    public static let maximumAddressLength = 2048

    public var protocolVersion: Int64
    public var sid: Int64
    /// The sender's election addresses as `host:port` (an IPv6 host in brackets).
    public var addresses: [String]

    public init(protocolVersion: Int64 = Self.version1, sid: Int64, addresses: [String]) {
        self.protocolVersion = protocolVersion; self.sid = sid; self.addresses = addresses
    }

    /// What a malformed header is.
    public enum DecodingError: Error, Equatable, Sendable {
        case unknownProtocolVersion(Int64)
        case invalidAddressLength(Int32)
    }

    /// Reads the header as an acceptor does (`InitialMessage.parse`); nil when more bytes are needed.
    public static func decode(_ buffer: inout ByteBuffer) throws -> ElectionInitialMessage? {
        guard let first = buffer.getInteger(at: buffer.readerIndex, as: Int64.self) else { return nil }
        if first >= 0 {
            buffer.moveReaderIndex(forwardBy: 8)
            return ElectionInitialMessage(protocolVersion: first, sid: first, addresses: [])
        }
        guard first == version1 || first == version2 else { throw DecodingError.unknownProtocolVersion(first) }
        guard let sid = buffer.getInteger(at: buffer.readerIndex + 8, as: Int64.self),
              let length = buffer.getInteger(at: buffer.readerIndex + 16, as: Int32.self) else { return nil }
        guard length >= 1, Int(length) <= maximumAddressLength else { throw DecodingError.invalidAddressLength(length) }
        guard let text = buffer.getString(at: buffer.readerIndex + 20, length: Int(length)) else { return nil }
        buffer.moveReaderIndex(forwardBy: 20 + Int(length))
        return ElectionInitialMessage(protocolVersion: first, sid: sid, addresses: text.split(separator: "|").map(String.init))
    }

    /// Writes the header; send it in one write (Java reads the addresses with one `read()`).
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(protocolVersion)
        buffer.writeInteger(sid)
        let text = addresses.joined(separator: "|")
        buffer.writeInteger(Int32(text.utf8.count))
        buffer.writeString(text)
    }
}
