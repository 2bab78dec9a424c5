import Consensus
import Testing
import ZooKeeperProtocol

/// Aviary's leader transfer in the leader's core: refused where it cannot work, completed only
/// once the target has acknowledged everything committed, then the learners are told.
struct LeaderTransferTests {
    typealias Fixture = ReconfigurationTests

    @Test func refusalsNameTheirReason() {
        var role = Fixture.established(voters: [1, 2, 3], observers: [4])
        #expect(role.receive(.transfer(to: 1)) == [.transferRefused("server.1 leads already")])
        #expect(role.receive(.transfer(to: 4)) == [.transferRefused("server.4 is not a voter of the configuration")])
        #expect(role.receive(.transfer(to: 7)) == [.transferRefused("server.7 is not a voter of the configuration")])
        _ = role.receive(.learnerLost(3))
        #expect(role.receive(.transfer(to: 3)) == [.transferRefused("server.3 is not a follower synchronized with this leader")])
    }

    @Test func theTargetMustHaveAcknowledgedEverythingCommittedFirst() {
        var role = Fixture.established(voters: [1, 2, 3], observers: [4])
        let (header, txn) = Fixture.write(1)
        _ = role.receive(.propose(header, txn))
        _ = role.receive(.durable(upTo: header.zxid))
        #expect(role.receive(.packet(from: 2, QuorumPacket(.ack, zxid: header.zxid))).contains(.commit(header.zxid)))
        // Committed without server 3: a transfer to it waits for its ACK.
        #expect(role.receive(.transfer(to: 3)).isEmpty)
        #expect(role.transferTarget == 3)
        let done = role.receive(.packet(from: 3, QuorumPacket(.ack, zxid: header.zxid)))
        let told = done.compactMap { action -> Int64? in
            if case .send(let sid, let packet) = action, packet.kind == .transferLeadership, packet.zxid == header.zxid,
               packet.data == [0, 0, 0, 0, 0, 0, 0, 3] { return sid }
            return nil
        }
        #expect(told == [2, 3, 4], "every learner, observers too, hears whom to follow")
        #expect(done.last == .transferred(to: 3))
        #expect(!role.allowedToCommit && role.transferTarget == nil)
    }

    @Test func aCaughtUpTargetIsHandedLeadershipAtOnceAndACancelledTransferLeadsOn() {
        var role = Fixture.established(voters: [1, 2, 3])
        let now = role.receive(.transfer(to: 2))
        #expect(now.last == .transferred(to: 2), "synchronized by an empty DIFF, it holds everything already")
        var other = Fixture.established(voters: [1, 2, 3])
        let (header, txn) = Fixture.write(1)
        _ = other.receive(.propose(header, txn))
        #expect(other.receive(.transfer(to: 3)).isEmpty, "a proposal is outstanding")
        _ = other.receive(.cancelTransfer)
        _ = other.receive(.durable(upTo: header.zxid))
        let acked = other.receive(.packet(from: 3, QuorumPacket(.ack, zxid: header.zxid)))
        #expect(acked.contains(.commit(header.zxid)) && !acked.contains(.transferred(to: 3)) && other.allowedToCommit)
    }
}
