import Consensus
import Foundation
import Jute
import NIOCore
import Testing
import ZooKeeperProtocol

struct LearnerTests {
    /// The packets an Apache ZooKeeper 3.8 leader sent a joining follower, and what that
    /// follower answered (Tests/interop/golden/capture_quorum.py), in order; repeated
    /// identical lines were written once.
    static let capture: [(fromLeader: Bool, packet: QuorumPacket, bytes: [UInt8])] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("ZooKeeperProtocolTests/Fixtures/zookeeper-3.8-quorum.txt")
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ")
            guard parts.count == 3, parts[0] == "QP" || parts[0] == "QPOUT" else { return nil }
            let hex = parts[2]
            var bytes: [UInt8] = []
            var index = hex.startIndex
            while index < hex.endIndex {
                let next = hex.index(index, offsetBy: 2)
                bytes.append(UInt8(hex[index..<next], radix: 16) ?? 0)
                index = next
            }
            var reader = JuteReader(ByteBuffer(bytes: bytes))
            guard let packet = try? QuorumPacket(from: &reader) else { return nil }
            return (parts[0] == "QP", packet, bytes)
        }
    }()

    static func bytes(_ packet: QuorumPacket) -> [UInt8] {
        var writer = JuteWriter()
        writer.write(packet)
        return Array(writer.buffer.readableBytesView)
    }

    /// Drives the learner with what the ZooKeeper leader sent, the disk answering at once,
    /// and checks it answers with the same bytes the capture's follower sent.
    @Test func itAnswersARealZooKeeperLeaderByteForByte() throws {
        #expect(Self.capture.contains { $0.fromLeader } && Self.capture.contains { !$0.fromLeader })
        var learner = Learner(configuration: .init(myid: 3), disk: .init(acceptedEpoch: 0, currentEpoch: 0, lastLoggedZxid: 0))
        var sent: [[UInt8]] = []
        var other: [Learner.Action] = []
        func run(_ actions: [Learner.Action]) {
            var queue = actions
            while !queue.isEmpty {
                let action = queue.removeFirst()
                switch action {
                case .send(let packet): sent.append(Self.bytes(packet))
                case .answerPing(let zxid): sent.append(Self.bytes(QuorumPacket(.ping, zxid: zxid, data: [])))
                case .log(let proposal): queue += learner.receive(.durable(upTo: proposal.header.zxid))
                case .loadSnapshot: queue += learner.receive(.snapshotLoaded)
                default: other.append(action)
                }
            }
        }
        run(learner.receive(.connected))
        for entry in Self.capture where entry.fromLeader {
            run(learner.receive(.packet(entry.packet)))
        }
        var distinct: [[UInt8]] = []
        for packet in sent where !distinct.contains(packet) { distinct.append(packet) }
        #expect(distinct == Self.capture.filter { !$0.fromLeader }.map(\.bytes))
        #expect(learner.phase == .broadcast && learner.newEpoch == 1)
        #expect(other.contains(.writeAcceptedEpoch(1)) && other.contains(.writeCurrentEpoch(1)) && other.contains(.serving(epoch: 1)))
        #expect(other.filter { if case .commit = $0 { return true } else { return false } }.count == 2)
        #expect(!other.contains { if case .fail = $0 { return true } else { return false } }, "\(other)")
    }

    static func proposal(_ zxid: Int64) -> QuorumPacket {
        var writer = JuteWriter()
        writer.write(TxnHeader(clientId: 1, cxid: 1, zxid: zxid, time: 1, type: OpCode.delete.rawValue))
        Txn.delete(path: "/x").write(to: &writer)
        return QuorumPacket(.proposal, zxid: zxid, data: Array(writer.buffer.readableBytesView))
    }

    static func sends(_ actions: [Learner.Action]) -> [QuorumPacket] {
        actions.compactMap { if case .send(let p) = $0 { return p } else { return nil } }
    }

    @Test func newLeaderIsAcknowledgedOnlyOnceTheDiffIsDurable() {
        var learner = Learner(configuration: .init(myid: 2), disk: .init(acceptedEpoch: 1, currentEpoch: 1, lastLoggedZxid: 0x1_0000_0003))
        _ = learner.receive(.connected)
        let epoch = learner.receive(.packet(QuorumPacket(.leaderInfo, zxid: 0x2_0000_0000, data: [0, 1, 0, 0])))
        #expect(epoch.first == .writeAcceptedEpoch(2), "acceptedEpoch is written before ACKEPOCH")
        #expect(Self.sends(epoch) == [QuorumPacket(.ackEpoch, zxid: 0x1_0000_0003, data: [0, 0, 0, 1])])
        _ = learner.receive(.packet(QuorumPacket(.diff, zxid: 0x1_0000_0005)))
        for zxid: Int64 in [0x1_0000_0004, 0x1_0000_0005] {
            #expect(learner.receive(.packet(Self.proposal(zxid))).isEmpty)
            #expect(learner.receive(.packet(QuorumPacket(.commit, zxid: zxid))).isEmpty, "a DIFF's commits wait for NEWLEADER")
        }
        let newLeader = learner.receive(.packet(QuorumPacket(.newLeader, zxid: 0x2_0000_0000, data: Array("version=0".utf8))))
        #expect(newLeader.filter { if case .log = $0 { return true } else { return false } }.count == 2)
        #expect(Self.sends(newLeader).isEmpty && !newLeader.contains(.writeCurrentEpoch(2)), "nothing acknowledged before it is durable")
        let partly = learner.receive(.durable(upTo: 0x1_0000_0004))
        #expect(Self.sends(partly).isEmpty)
        let done = learner.receive(.durable(upTo: 0x1_0000_0005))
        #expect(done.first == .writeCurrentEpoch(2))
        #expect(Self.sends(done).map(\.zxid) == [0x2_0000_0000, 0x1_0000_0004, 0x1_0000_0005], "NEWLEADER's ACK first (3.8.5 order)")
        let upToDate = learner.receive(.packet(QuorumPacket(.upToDate, zxid: -1)))
        #expect(Self.sends(upToDate).map(\.zxid) == [0x2_0000_0000])
        #expect(upToDate.contains(.serving(epoch: 2)) && upToDate.contains(.commit(0x1_0000_0004)) && upToDate.contains(.commit(0x1_0000_0005)))
    }

    @Test func aLeaderFromAnOlderEpochOrACommitOutOfOrderIsRefused() {
        var stale = Learner(configuration: .init(myid: 2), disk: .init(acceptedEpoch: 5, currentEpoch: 5, lastLoggedZxid: 0))
        _ = stale.receive(.connected)
        let refused = stale.receive(.packet(QuorumPacket(.leaderInfo, zxid: 0x4_0000_0000, data: [0, 1, 0, 0])))
        #expect(refused.contains { if case .fail = $0 { return true } else { return false } } && stale.phase == .failed)

        var same = Learner(configuration: .init(myid: 2), disk: .init(acceptedEpoch: 5, currentEpoch: 4, lastLoggedZxid: 7))
        _ = same.receive(.connected)
        let ack = same.receive(.packet(QuorumPacket(.leaderInfo, zxid: 0x5_0000_0000, data: [0, 1, 0, 0])))
        #expect(Self.sends(ack) == [QuorumPacket(.ackEpoch, zxid: 7, data: [0xFF, 0xFF, 0xFF, 0xFF])], "an epoch already accepted: -1")

        var learner = Learner(configuration: .init(myid: 2), disk: .init(acceptedEpoch: 0, currentEpoch: 0, lastLoggedZxid: 0))
        _ = learner.receive(.connected)
        _ = learner.receive(.packet(QuorumPacket(.leaderInfo, zxid: 0x1_0000_0000, data: [0, 1, 0, 0])))
        _ = learner.receive(.packet(QuorumPacket(.diff, zxid: 0)))
        _ = learner.receive(.packet(QuorumPacket(.newLeader, zxid: 0x1_0000_0000)))
        _ = learner.receive(.packet(QuorumPacket(.upToDate, zxid: -1)))
        _ = learner.receive(.packet(Self.proposal(0x1_0000_0001)))
        _ = learner.receive(.packet(Self.proposal(0x1_0000_0002)))
        let wrong = learner.receive(.packet(QuorumPacket(.commit, zxid: 0x1_0000_0002)))
        #expect(wrong.contains { if case .fail = $0 { return true } else { return false } }, "a COMMIT must match the oldest pending proposal")
    }

    /// Found by the ZAB simulation (a follower rejoining while writes were in flight): a leader
    /// forwards a COMMIT between NEWLEADER and UPTODATE for a proposal it sent before NEWLEADER.
    /// It is recorded and applied after UPTODATE, in order; it used to fail the sync.
    @Test func aCommitBetweenNewLeaderAndUpToDateIsAppliedAfterUpToDate() {
        var learner = Learner(configuration: .init(myid: 1), disk: .init(acceptedEpoch: 0, currentEpoch: 0, lastLoggedZxid: 0))
        _ = learner.receive(.connected)
        _ = learner.receive(.packet(QuorumPacket(.leaderInfo, zxid: 0x1_0000_0000, data: [0, 1, 0, 0])))
        _ = learner.receive(.packet(QuorumPacket(.diff, zxid: 0)))
        _ = learner.receive(.packet(Self.proposal(0x1_0000_0001)))
        let newLeader = learner.receive(.packet(QuorumPacket(.newLeader, zxid: 0x1_0000_0000)))
        #expect(newLeader.contains { if case .log = $0 { return true } else { return false } })
        _ = learner.receive(.durable(upTo: 0x1_0000_0001))
        let early = learner.receive(.packet(QuorumPacket(.commit, zxid: 0x1_0000_0001)))
        #expect(early.isEmpty, "recorded, not refused: \(early)")
        let upToDate = learner.receive(.packet(QuorumPacket(.upToDate, zxid: -1)))
        #expect(upToDate.contains(.commit(0x1_0000_0001)) && learner.phase == .broadcast)
    }
}
