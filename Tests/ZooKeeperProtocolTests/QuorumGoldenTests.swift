import Foundation
import Jute
import NIOCore
import Testing
import ZooKeeperProtocol

/// What Apache ZooKeeper 3.8 servers sent a peer (Tests/interop/golden/capture_quorum.py):
/// election headers and votes, and a learner's handshake, sync and broadcast, decoded with our
/// records and encoded back to the same bytes.
struct QuorumGoldenTests {
    struct Message: CustomStringConvertible, Sendable {
        var kind: String
        var type: Int32?
        var bytes: [UInt8]
        var description: String { "\(kind) \(type.map(String.init) ?? "")" }
    }

    static let messages: [Message] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/zookeeper-3.8-quorum.txt")
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line -> Message? in
            // The SNAP stream is the Storage module's (SnapStreamTests).
            if line.hasPrefix("#") || line.hasPrefix("SNAPSTREAM") { return nil }
            let parts = line.split(separator: " ")
            return Message(kind: String(parts[0]), type: parts.count == 3 ? Int32(parts[1]) : nil,
                           bytes: GoldenFrameTests.bytes(fromHex: String(parts[parts.count - 1])))
        }
    }()

    static func packets(_ kind: QuorumPacket.Kind, from zookeeper: Bool = true) -> [QuorumPacket] {
        messages.filter { $0.kind == (zookeeper ? "QP" : "QPOUT") && $0.type == kind.rawValue }.compactMap {
            var reader = JuteReader(ByteBuffer(bytes: $0.bytes))
            return try? QuorumPacket(from: &reader)
        }
    }

    @Test func theCaptureCoversTheHandshakeSyncAndBroadcast() {
        #expect(Self.messages.filter { $0.kind == "INITIAL" }.count == 2)
        #expect(!Self.messages.filter { $0.kind == "NOTIFICATION" }.isEmpty)
        for kind: QuorumPacket.Kind in [.leaderInfo, .newLeader, .upToDate, .ping, .proposal, .commit] {
            #expect(!Self.packets(kind).isEmpty, "no captured \(kind)")
        }
        #expect(!Self.packets(.snap).isEmpty || !Self.packets(.diff).isEmpty, "no sync packet")
    }

    @Test(arguments: messages)
    func decodesAndReencodesByteForByte(message: Message) throws {
        var buffer = ByteBuffer()
        switch message.kind {
        case "INITIAL":
            var input = ByteBuffer(bytes: message.bytes)
            let header = try #require(try ElectionInitialMessage.decode(&input))
            #expect(input.readableBytes == 0)
            #expect(header.protocolVersion == ElectionInitialMessage.version1 && (1...2).contains(header.sid))
            #expect(header.addresses.count == 1 && header.addresses[0].hasPrefix("127.0.0.\(header.sid + 1):"))
            header.encode(into: &buffer)
        case "NOTIFICATION":
            let vote = try ElectionNotification.decode(ByteBuffer(bytes: message.bytes))
            #expect(vote.version == 2 && vote.config.contains("server.1=") && vote.config.contains("version="))
            vote.encode(into: &buffer)
        case "QP", "QPOUT":
            var reader = JuteReader(ByteBuffer(bytes: message.bytes))
            let packet = try QuorumPacket(from: &reader)
            #expect(reader.remaining == 0)
            #expect(packet.kind != nil && packet.type == message.type)
            var writer = JuteWriter()
            writer.write(packet)
            buffer = writer.buffer
        default:
            Issue.record("unknown message kind \(message.kind)")
        }
        #expect(Array(buffer.readableBytesView) == message.bytes, "\(message) did not re-encode byte for byte")
    }

    @Test func theLeadersPacketsMeanWhatQuorumMdSays() throws {
        let leaderInfo = try #require(Self.packets(.leaderInfo).first)
        #expect(leaderInfo.zxid & 0xFFFF_FFFF == 0 && leaderInfo.zxid >> 32 >= 1, "zxid = newEpoch << 32")
        #expect(leaderInfo.data == [0, 1, 0, 0], "protocol version 0x10000")
        let newLeader = try #require(Self.packets(.newLeader).first)
        #expect(newLeader.zxid == leaderInfo.zxid)
        #expect(String(decoding: newLeader.data ?? [], as: UTF8.self).contains("server.3="))
        #expect(Self.packets(.upToDate).first?.zxid == -1)
        let followerInfo = try #require(Self.packets(.followerInfo, from: false).first)
        let info = try LearnerInfo(decoding: followerInfo.data ?? [])
        #expect(info == LearnerInfo(serverId: 3, configVersion: 0))
        // Proposals carry a TxnHeader, the txn and ZooKeeper's TxnDigest{int version = 2; long digest}.
        let proposals = Self.packets(.proposal)
        let types = try proposals.map { packet -> OpCode? in
            let record = try TxnRecord(decoding: ByteBuffer(bytes: packet.data ?? []))
            #expect(record.header.zxid == packet.zxid)
            #expect(record.digest?.version == TxnDigest.currentVersion, "a TxnDigest follows")
            #expect(record.bytes == packet.data ?? [], "and the record re-encodes byte for byte")
            return OpCode(rawValue: record.header.type)
        }
        #expect(types.contains(.createSession) && types.contains(.create))
        #expect(Self.packets(.commit).map(\.zxid) == proposals.map(\.zxid), "each proposal committed, in order")
    }
}
