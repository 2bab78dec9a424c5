import Jute
import NIOCore

/// A client request a learner forwards to its leader: the data of a REQUEST packet
/// (`Learner.request`), `long sessionId; int cxid; int type` followed by the request body as
/// the client sent it. The client's identities travel in the packet's authinfo.
public struct LearnerRequest: Hashable, Sendable {
    public var sessionId: Int64
    public var cxid: Int32
    /// The request's opcode raw value (createSession and closeSession included).
    public var type: Int32
    /// The request body after the client's RequestHeader (for createSession: the timeout).
    public var body: [UInt8]
    public var authInfo: [Id]

    public init(sessionId: Int64, cxid: Int32, type: Int32, body: [UInt8], authInfo: [Id]) {
        self.sessionId = sessionId; self.cxid = cxid; self.type = type; self.body = body; self.authInfo = authInfo
    }

    /// The REQUEST packet that carries it (zxid -1, as ZooKeeper sends it).
    public var packet: QuorumPacket {
        var w = JuteWriter()
        w.writeLong(sessionId); w.writeInt(cxid); w.writeInt(type)
        var data = Array(w.buffer.readableBytesView)
        data += body
        return QuorumPacket(.request, zxid: -1, data: data, authInfo: authInfo)
    }

    /// Reads the data of a REQUEST packet.
    public init(packet: QuorumPacket) throws {
        let data = packet.data ?? []
        var r = JuteReader(ByteBuffer(bytes: data))
        sessionId = try r.readLong()
        cxid = try r.readInt()
        type = try r.readInt()
        body = Array(data.dropFirst(16))
        authInfo = packet.authInfo ?? []
    }

    /// A createSession request's body: the negotiated timeout.
    public static func createSessionBody(timeout: Int32) -> [UInt8] {
        var w = JuteWriter()
        w.writeInt(timeout)
        return Array(w.buffer.readableBytesView)
    }
}

/// The data of a REVALIDATE packet: from a learner `long sessionId; int timeout`, from the
/// leader `long sessionId; boolean valid` (`Learner.validateSession`, `LearnerHandler.run`).
public enum Revalidation {
    public static func request(sessionId: Int64, timeout: Int32) -> QuorumPacket {
        var w = JuteWriter()
        w.writeLong(sessionId); w.writeInt(timeout)
        return QuorumPacket(.revalidate, zxid: -1, data: Array(w.buffer.readableBytesView))
    }

    public static func decodeRequest(_ packet: QuorumPacket) throws -> (sessionId: Int64, timeout: Int32) {
        var r = JuteReader(ByteBuffer(bytes: packet.data ?? []))
        return (try r.readLong(), try r.readInt())
    }

    public static func answer(sessionId: Int64, valid: Bool) -> QuorumPacket {
        var w = JuteWriter()
        w.writeLong(sessionId); w.writeBool(valid)
        return QuorumPacket(.revalidate, zxid: -1, data: Array(w.buffer.readableBytesView))
    }

    public static func decodeAnswer(_ packet: QuorumPacket) throws -> (sessionId: Int64, valid: Bool) {
        var r = JuteReader(ByteBuffer(bytes: packet.data ?? []))
        return (try r.readLong(), try r.readBool())
    }
}

/// The data of a learner's PING reply: the sessions it heard from since the last one, as
/// `long sessionId; int timeout` pairs (`LearnerSessionTracker.snapshot`).
public enum SessionTouches {
    public static func encode(_ touches: [(sessionId: Int64, timeout: Int32)]) -> [UInt8] {
        var w = JuteWriter()
        for touch in touches { w.writeLong(touch.sessionId); w.writeInt(touch.timeout) }
        return Array(w.buffer.readableBytesView)
    }

    /// The touches a PING reply carries, by session; throws on a pair cut short, which
    /// `LearnerHandler` meets as an `EOFException` that ends the learner's connection.
    public static func decode(_ data: [UInt8]) throws -> [Int64: Int32] {
        var r = JuteReader(ByteBuffer(bytes: data))
        var touches: [Int64: Int32] = [:]
        while r.remaining > 0 {
            let session = try r.readLong()
            touches[session] = try r.readInt()
        }
        return touches
    }
}
