import Consensus
import Testing
import ZooKeeperProtocol

struct LeaderRoleTests {
    @Test func pingRepliesCarryTheLearnersSessionTouches() {
        var leader = LeaderRole(verifier: QuorumVerifier(voters: [1, 2]),
                                leader: .init(myid: 2, acceptedEpoch: 0, currentEpoch: 0, lastProcessedZxid: 0), committedLog: [])
        _ = leader.receive(.start)
        _ = leader.receive(.packet(from: 1, QuorumPacket(.followerInfo, zxid: 0, data: LearnerInfo(serverId: 1, configVersion: 0).bytes)))
        let sync = leader.receive(.packet(from: 1, QuorumPacket(.ackEpoch, zxid: 0, data: [0, 0, 0, 0])))
        #expect(sync.contains(.send(to: 1, QuorumPacket(.diff, zxid: 0))), "an empty learner of an empty leader gets an empty DIFF")
        let established = leader.receive(.packet(from: 1, QuorumPacket(.ack, zxid: 1 << 32)))
        #expect(established.contains(.serving(epoch: 1)) && established.contains(.send(to: 1, QuorumPacket(.upToDate, zxid: -1))))
        // Session 0x0100_0000_0000_0007 touched with a 30 s timeout, then 0x0100_0000_0000_0008 with 4 s.
        let touches: [UInt8] = [1, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0x75, 0x30, 1, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0x0F, 0xA0]
        let ping = leader.receive(.packet(from: 1, QuorumPacket(.ping, zxid: 1 << 32, data: touches)))
        #expect(ping == [.touchSessions([0x0100_0000_0000_0007: 30_000, 0x0100_0000_0000_0008: 4_000])])
        #expect(leader.receive(.packet(from: 1, QuorumPacket(.ping, zxid: 1 << 32, data: []))).isEmpty)
    }
}
