import Consensus
import Testing

struct DiscoveryTests {
    static let three = QuorumVerifier(voters: [1, 2, 3], observers: [4])

    @Test func aQuorumAgreesOnAnEpochAboveEveryAcceptedOne() {
        var discovery = Discovery(verifier: Self.three, leader: .init(myid: 3, acceptedEpoch: 1, currentEpoch: 1, lastProcessedZxid: 0x1_0000_0007))
        #expect(discovery.start().isEmpty, "the leader alone is no quorum of three")
        #expect(discovery.receive(.learnerInfo(sid: 4, acceptedEpoch: 6)).isEmpty, "an observer raises the epoch but is no vote")
        let decided = discovery.receive(.learnerInfo(sid: 1, acceptedEpoch: 2))
        #expect(discovery.epoch == 7)
        #expect(decided == [.writeAcceptedEpoch(7), .sendLeaderInfo(to: 4, zxid: 7 << 32), .sendLeaderInfo(to: 1, zxid: 7 << 32)])
        #expect(discovery.receive(.learnerInfo(sid: 2, acceptedEpoch: 9)) == [.sendLeaderInfo(to: 2, zxid: 7 << 32)],
                "a late learner is told the decided epoch")
    }

    @Test func epochAcksThenNewLeaderAcksEstablishTheEpoch() {
        var discovery = Discovery(verifier: Self.three, leader: .init(myid: 3, acceptedEpoch: 1, currentEpoch: 1, lastProcessedZxid: 0x1_0000_0007))
        _ = discovery.start()
        _ = discovery.receive(.learnerInfo(sid: 1, acceptedEpoch: 1))
        let acked = discovery.receive(.ackEpoch(sid: 1, lastLoggedZxid: 0x1_0000_0005, currentEpoch: 1))
        #expect(acked == [.writeCurrentEpoch(2), .synchronize(sid: 1, peerLastZxid: 0x1_0000_0005)])
        #expect(discovery.receive(.newLeaderAck(sid: 1, zxid: 0x1_0000_0006)).isEmpty, "a proposal's ACK is not NEWLEADER's")
        #expect(discovery.receive(.newLeaderAck(sid: 1, zxid: 2 << 32)) == [.established(epoch: 2)])
        #expect(discovery.phase == .established)
    }

    @Test func aLearnerAheadOfTheLeaderIsDropped() {
        var discovery = Discovery(verifier: Self.three, leader: .init(myid: 3, acceptedEpoch: 1, currentEpoch: 1, lastProcessedZxid: 0x1_0000_0003))
        _ = discovery.start()
        _ = discovery.receive(.learnerInfo(sid: 1, acceptedEpoch: 1))
        let dropped = discovery.receive(.ackEpoch(sid: 1, lastLoggedZxid: 0x1_0000_0009, currentEpoch: 1))
        #expect(dropped.count == 1 && discovery.phase == .awaitingEpochAcks)
        if case .dropLearner(1, _)? = dropped.first {} else { Issue.record("expected the learner dropped: \(dropped)") }
    }

    @Test func noQuorumWithinInitLimitMeansLookingAgain() {
        var discovery = Discovery(verifier: QuorumVerifier(voters: [1, 2, 3, 4, 5]),
                                  leader: .init(myid: 5, acceptedEpoch: 0, currentEpoch: 0, lastProcessedZxid: 0))
        _ = discovery.start()
        _ = discovery.receive(.learnerInfo(sid: 1, acceptedEpoch: 0))
        let failed = discovery.receive(.deadlinePassed)
        #expect(discovery.phase == .failed && failed.count == 1)
    }

    @Test func anEnsembleOfOneEstablishesAtOnce() {
        var discovery = Discovery(verifier: QuorumVerifier(voters: [1]), leader: .init(myid: 1, acceptedEpoch: 3, currentEpoch: 3, lastProcessedZxid: 0x3_0000_0002))
        #expect(discovery.start() == [.writeAcceptedEpoch(4), .writeCurrentEpoch(4), .established(epoch: 4)])
    }
}
