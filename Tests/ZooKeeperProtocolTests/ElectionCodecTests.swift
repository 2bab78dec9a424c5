import NIOCore
import Testing
import ZooKeeperProtocol

/// Election messages read by length and version, as ZooKeeper 3.8's `WorkerReceiver` and
/// `InitialMessage.parse` read them.
struct ElectionCodecTests {
    static func bytes(_ write: (inout ByteBuffer) -> Void) -> ByteBuffer {
        var buffer = ByteBuffer()
        write(&buffer)
        return buffer
    }

    @Test func olderNotificationsAreReadByTheirLength() throws {
        let short = Self.bytes { b in b.writeInteger(Int32(1)); b.writeInteger(Int64(3)); b.writeInteger(Int64(0x5_0000_0007)); b.writeInteger(Int64(2)) }
        #expect(short.readableBytes == 28)
        let vote = try ElectionNotification.decode(short)
        #expect(vote.state == .following && vote.peerEpoch == 5 && vote.version == 0, "peerEpoch is the zxid's epoch")
        var forty = short
        forty.writeInteger(Int64(9)); forty.writeInteger(Int32(77))
        let withEpoch = try ElectionNotification.decode(forty)
        #expect(withEpoch.peerEpoch == 9 && withEpoch.version == 0 && withEpoch.config.isEmpty)
        var versionOne = forty
        versionOne.writeInteger(Int32(0))
        #expect(try ElectionNotification.decode(versionOne).version == 77, "over 40 bytes the version is read")
    }

    @Test func malformedNotificationsAreRefused() {
        #expect(throws: ElectionNotification.DecodingError.tooShort(27)) { try ElectionNotification.decode(ByteBuffer(repeating: 0, count: 27)) }
        let badState = Self.bytes { b in b.writeInteger(Int32(9)); b.writeRepeatingByte(0, count: 24) }
        #expect(throws: ElectionNotification.DecodingError.unknownState(9)) { try ElectionNotification.decode(badState) }
        let longConfig = Self.bytes { b in
            b.writeInteger(Int32(0)); b.writeRepeatingByte(0, count: 32); b.writeInteger(Int32(2)); b.writeInteger(Int32(1000))
        }
        #expect(throws: ElectionNotification.DecodingError.invalidConfigLength(1000)) { try ElectionNotification.decode(longConfig) }
    }

    @Test func initialMessages() throws {
        var legacy = Self.bytes { $0.writeInteger(Int64(4)) }
        #expect(try ElectionInitialMessage.decode(&legacy)?.sid == 4, "a pre-3.5 header is the sid alone")
        var unknown = Self.bytes { $0.writeInteger(Int64(-7)) }
        #expect(throws: ElectionInitialMessage.DecodingError.unknownProtocolVersion(-7)) { try ElectionInitialMessage.decode(&unknown) }
        var tooLong = Self.bytes { b in b.writeInteger(ElectionInitialMessage.version1); b.writeInteger(Int64(1)); b.writeInteger(Int32(4096)) }
        #expect(throws: ElectionInitialMessage.DecodingError.invalidAddressLength(4096)) { try ElectionInitialMessage.decode(&tooLong) }
        var partial = Self.bytes { b in b.writeInteger(ElectionInitialMessage.version1); b.writeInteger(Int64(1)); b.writeInteger(Int32(14)); b.writeString("127.0") }
        #expect(try ElectionInitialMessage.decode(&partial) == nil, "more bytes needed")
        let header = ElectionInitialMessage(sid: 2, addresses: ["127.0.0.3:3888", "[::1]:3888"])
        var encoded = ByteBuffer()
        header.encode(into: &encoded)
        #expect(try ElectionInitialMessage.decode(&encoded) == header)
    }

    @Test func learnerInfoIsReadByLength() throws {
        #expect(try LearnerInfo(decoding: [0, 0, 0, 0, 0, 0, 0, 7]) == LearnerInfo(serverId: 7, protocolVersion: 0, configVersion: 0))
        let full = LearnerInfo(serverId: 3, configVersion: 0x1_0000_0000)
        #expect(try LearnerInfo(decoding: full.bytes) == full)
        #expect(throws: (any Error).self) { try LearnerInfo(decoding: [0, 1]) }
    }
}
