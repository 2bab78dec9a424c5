import Jute
import NIOCore

/// The record leader and learners exchange on the quorum port, back to back with no length
/// prefix (`QuorumPacket` in zookeeper.jute): `int type; long zxid; buffer data; vector<Id> authinfo`.
public struct QuorumPacket: JuteRecord, Hashable {
    /// `Leader`'s packet types.
    public enum Kind: Int32, Sendable, CaseIterable {
        case request = 1, proposal = 2, ack = 3, commit = 4, ping = 5, revalidate = 6, sync = 7, inform = 8
        case commitAndActivate = 9, newLeader = 10, followerInfo = 11, upToDate = 12, diff = 13, trunc = 14
        case snap = 15, observerInfo = 16, leaderInfo = 17, ackEpoch = 18, informAndActivate = 19
        /// Aviary's own, leader to learners of an all-Aviary ensemble: the leader hands its
        /// leadership to the server whose id the data holds (a long), once that server has
        /// everything committed (`aviary leader transfer`).
        case transferLeadership = 1001
    }

    /// The raw type: unknown types are kept so that the caller decides what to do.
    public var type: Int32
    public var zxid: Int64
    public var data: [UInt8]?
    public var authInfo: [Id]?

    public init(_ kind: Kind, zxid: Int64, data: [UInt8]? = nil, authInfo: [Id]? = nil) {
        self.type = kind.rawValue; self.zxid = zxid; self.data = data; self.authInfo = authInfo
    }

    public var kind: Kind? { Kind(rawValue: type) }

    /// How many bytes the packet at the start of `buffer` takes, or nil when it has not all
    /// arrived. The quorum port has no framing, so a reader must walk a packet to know it is
    /// whole (decoding a part would take an authinfo count above the bytes so far for a lie).
    ///
    /// - Throws: ``JuteError/invalidLength(_:)`` for a length below -1 or above `maximumLength`.
    public static func length(of buffer: ByteBuffer, maximumLength: Int) throws -> Int? {
        var offset = buffer.readerIndex
        func int() -> Int32? {
            guard let value = buffer.getInteger(at: offset, as: Int32.self) else { return nil }
            offset += 4
            return value
        }
        /// Skips a length-prefixed field; false when it has not all arrived.
        func skipField() throws -> Bool {
            guard let length = int() else { return false }
            if length == -1 { return true }
            guard length >= 0, Int(length) <= maximumLength else { throw JuteError.invalidLength(length) }
            offset += Int(length)
            return offset <= buffer.writerIndex
        }
        offset += 12  // type, zxid
        guard offset <= buffer.writerIndex, try skipField(), let count = int() else { return nil }
        guard count >= -1, Int(count) <= maximumLength else { throw JuteError.invalidLength(count) }
        for _ in 0..<max(0, count) {
            guard try skipField(), try skipField() else { return nil }
        }
        return offset - buffer.readerIndex
    }

    public init(from r: inout JuteReader) throws {
        type = try r.readInt()
        zxid = try r.readLong()
        data = try r.readBuffer()
        authInfo = try r.readVector { try $0.read(Id.self) }
    }

    public func write(to w: inout JuteWriter) {
        w.writeInt(type)
        w.writeLong(zxid)
        w.writeBuffer(data)
        w.writeVector(authInfo) { $0.write($1) }
    }
}

/// What a learner tells the leader about itself (`LearnerInfo`), the data of FOLLOWERINFO
/// and OBSERVERINFO: `long serverid; int protocolVersion; long configVersion`.
public struct LearnerInfo: Hashable, Sendable {
    /// The protocol version 3.4+ learners send (with LEADERINFO and ACKEPOCH).
    public static let protocolVersion: Int32 = 0x10000

    public var serverId: Int64
    public var protocolVersion: Int32
    public var configVersion: Int64

    public init(serverId: Int64, protocolVersion: Int32 = Self.protocolVersion, configVersion: Int64) {
        self.serverId = serverId; self.protocolVersion = protocolVersion; self.configVersion = configVersion
    }

    /// Reads it by length, as `LearnerHandler.run` does: 8 bytes hold only the sid, 12 add the
    /// protocol version, 20 the config version; what is missing takes ZooKeeper's defaults.
    public init(decoding bytes: [UInt8]) throws {
        var r = JuteReader(ByteBuffer(bytes: bytes))
        serverId = try r.readLong()
        protocolVersion = bytes.count >= 12 ? try r.readInt() : 0
        configVersion = bytes.count >= 20 ? try r.readLong() : 0
    }

    public var bytes: [UInt8] {
        var w = JuteWriter()
        w.writeLong(serverId); w.writeInt(protocolVersion); w.writeLong(configVersion)
        return Array(w.buffer.readableBytesView)
    }
}
