import DataTree
import Jute
import NIOCore
import NIOEmbedded
@testable import Server
import Storage
import Testing
import ZooKeeperProtocol

struct QuorumPacketDecoderTests {
    static func bytes(_ packet: QuorumPacket) -> ByteBuffer {
        var writer = JuteWriter()
        writer.write(packet)
        return writer.buffer
    }

    @Test func packetsAndTheSnapshotAfterSnapAreSplitWhereverTheBytesBreak() throws {
        var stream = Self.bytes(QuorumPacket(.leaderInfo, zxid: 1 << 32, data: [0, 1, 0, 0]))
        stream.writeImmutableBuffer(Self.bytes(QuorumPacket(.snap, zxid: 1 << 32)))
        stream.writeImmutableBuffer(SnapStream.encode(DataTree()))
        stream.writeImmutableBuffer(Self.bytes(QuorumPacket(.newLeader, zxid: 1 << 32, data: Array("version=0".utf8))))
        let all = Array(stream.readableBytesView)
        for step in [1, 7, 64, all.count] {
            let channel = EmbeddedChannel()
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(QuorumPacketDecoder()))
            var offset = 0
            while offset < all.count {
                try channel.writeInbound(ByteBuffer(bytes: all[offset..<min(all.count, offset + step)]))
                offset += step
            }
            var kinds: [String] = []
            var body: [UInt8] = []
            while let inbound = try channel.readInbound(as: LeaderInbound.self) {
                switch inbound {
                case .packet(let packet): kinds.append("\(packet.kind.map(String.init(describing:)) ?? "?")")
                case .snapshotBody(let bytes): body += Array(bytes.readableBytesView)
                case .snapshot(let tree): kinds.append("tree \(tree.nodeCount) at \(tree.lastProcessedZxid)")
                }
            }
            #expect(kinds == ["leaderInfo", "snap", "tree 4 at \(1 << 32)", "newLeader"], "in pieces of \(step)")
            #expect(body == Array(SnapStream.encode(DataTree()).readableBytesView.dropLast(14)), "in pieces of \(step)")
        }
    }

    @Test func aPacketWithAuthInfoArrivingByteByByteIsNotTakenForALie() throws {
        let packet = QuorumPacket(.request, zxid: -1, data: [1, 2, 3], authInfo: [Id(scheme: "ip", id: "127.0.0.1"), Id(scheme: "digest", id: "u:x")])
        let bytes = Array(Self.bytes(packet).readableBytesView)
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(QuorumPacketDecoder()))
        for byte in bytes { try channel.writeInbound(ByteBuffer(bytes: [byte])) }
        guard case .packet(let decoded)? = try channel.readInbound(as: LeaderInbound.self) else {
            Issue.record("no packet"); return
        }
        #expect(decoded == packet)
        #expect(throws: (any Error).self) { try channel.writeInbound(ByteBuffer(bytes: [0, 0, 0, 1] + Array(repeating: 0, count: 8) + [0x7F, 0, 0, 0])) }
    }
}
