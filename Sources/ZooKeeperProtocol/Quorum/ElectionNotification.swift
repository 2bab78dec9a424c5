import Jute
import NIOCore

/// A server's state in leader election (`QuorumPeer.ServerState`).
public enum PeerState: Int32, Sendable, CaseIterable {
    case looking = 0
    case following = 1
    case leading = 2
    case observing = 3
}

/// A vote, as fast leader election sends it (`FastLeaderElection.buildMsg`), without the
/// 4-byte frame length:
/// `int state; long leader; long zxid; long electionEpoch; long peerEpoch; int version; int configLength; config`.
public struct ElectionNotification: Hashable, Sendable {
    /// The notification version ZooKeeper 3.8 sends (with the configuration).
    public static let currentVersion: Int32 = 2
    /// The longest election frame accepted (`QuorumCnxManager.PACKETMAXSIZE`).
    public static let maximumFrameLength = 512 * 1024

    public var state: PeerState
    /// The proposed leader's sid.
    public var leader: Int64
    /// The proposed leader's last zxid.
    public var zxid: Int64
    /// The sender's election round (`logicalclock`).
    public var electionEpoch: Int64
    /// The proposed leader's epoch.
    public var peerEpoch: Int64
    public var version: Int32
    /// The sender's configuration as `server.N=...` lines and `version=<hex>` (version 2 only).
    public var config: String

    public init(state: PeerState, leader: Int64, zxid: Int64, electionEpoch: Int64, peerEpoch: Int64,
                version: Int32 = Self.currentVersion, config: String = "") {
        self.state = state; self.leader = leader; self.zxid = zxid; self.electionEpoch = electionEpoch
        self.peerEpoch = peerEpoch; self.version = version; self.config = config
    }

    /// Why a frame is not a notification ZooKeeper would use (it drops such frames).
    public enum DecodingError: Error, Equatable, Sendable {
        case tooShort(Int)
        case unknownState(Int32)
        case invalidConfigLength(Int32)
    }

    /// Reads a frame's payload by its length, as `WorkerReceiver.run` does: 28 bytes carry no
    /// peerEpoch (it is the zxid's epoch) and are version 0; 40 bytes carry a peerEpoch and
    /// four ignored bytes; longer ones carry the version, and from version 2 the config.
    public static func decode(_ payload: ByteBuffer) throws -> ElectionNotification {
        let size = payload.readableBytes
        guard size >= 28 else { throw DecodingError.tooShort(size) }
        var r = JuteReader(payload)
        let rawState = try r.readInt()
        guard let state = PeerState(rawValue: rawState) else { throw DecodingError.unknownState(rawState) }
        let leader = try r.readLong()
        let zxid = try r.readLong()
        let electionEpoch = try r.readLong()
        if size == 28 {
            return ElectionNotification(state: state, leader: leader, zxid: zxid, electionEpoch: electionEpoch,
                                        peerEpoch: zxid >> 32, version: 0)
        }
        let peerEpoch = try r.readLong()
        if size == 40 {
            return ElectionNotification(state: state, leader: leader, zxid: zxid, electionEpoch: electionEpoch,
                                        peerEpoch: peerEpoch, version: 0)
        }
        let version = try r.readInt()
        var config = ""
        if version > 1 {
            let length = try r.readInt()
            guard length >= 0, Int(length) <= r.remaining else { throw DecodingError.invalidConfigLength(length) }
            config = r.buffer.readString(length: Int(length)) ?? ""
        }
        return ElectionNotification(state: state, leader: leader, zxid: zxid, electionEpoch: electionEpoch,
                                    peerEpoch: peerEpoch, version: version, config: config)
    }

    /// Writes the payload as ZooKeeper 3.8 does (version 2, with the config).
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(state.rawValue)
        buffer.writeInteger(leader)
        buffer.writeInteger(zxid)
        buffer.writeInteger(electionEpoch)
        buffer.writeInteger(peerEpoch)
        buffer.writeInteger(version)
        if version > 1 {
            buffer.writeInteger(Int32(config.utf8.count))
            buffer.writeString(config)
        }
    }
}
