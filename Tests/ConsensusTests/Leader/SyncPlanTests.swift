import Consensus
import Testing

/// The leader's choice of DIFF, TRUNC or SNAP, case by case as `LearnerHandler.syncFollower`.
struct SyncPlanTests {
    static let log: [Int64] = [0x1_0000_0001, 0x1_0000_0002, 0x1_0000_0003, 0x2_0000_0001, 0x2_0000_0002]

    @Test func aPeerThatIsUpToDateGetsAnEmptyDiff() {
        #expect(SyncPlan.decide(peerLastZxid: 0x2_0000_0002, committedLog: Self.log, lastProcessedZxid: 0x2_0000_0002)
                == SyncPlan(kind: .diff(0x2_0000_0002), proposals: [], lastQueued: 0x2_0000_0002))
    }

    @Test func aPeerBehindWithinTheCommittedLogGetsTheRest() {
        #expect(SyncPlan.decide(peerLastZxid: 0x1_0000_0002, committedLog: Self.log, lastProcessedZxid: 0x2_0000_0002)
                == SyncPlan(kind: .diff(0x2_0000_0002), proposals: [0x1_0000_0003, 0x2_0000_0001, 0x2_0000_0002], lastQueued: 0x2_0000_0002))
    }

    @Test func aPeerAtAnEpochStartGetsADiff() {
        // 0x2_0000_0000 is no proposal, but the peer's counter is 0: DIFF, then the epoch's txns.
        #expect(SyncPlan.decide(peerLastZxid: 0x2_0000_0000, committedLog: Self.log, lastProcessedZxid: 0x2_0000_0002)
                == SyncPlan(kind: .diff(0x2_0000_0002), proposals: [0x2_0000_0001, 0x2_0000_0002], lastQueued: 0x2_0000_0002))
    }

    @Test func aPeerAheadOfTheLeaderIsTruncated() {
        #expect(SyncPlan.decide(peerLastZxid: 0x2_0000_0007, committedLog: Self.log, lastProcessedZxid: 0x2_0000_0002)
                == SyncPlan(kind: .trunc(0x2_0000_0002), proposals: [], lastQueued: 0x2_0000_0002))
    }

    @Test func aPeerWithTxnsTheLeaderNeverCommittedIsTruncatedWithinItsEpoch() {
        // The leader has 0x2_0000_0001 then 0x2_0000_0003; the peer logged a 0x2_0000_0002 it lacks.
        let log: [Int64] = [0x2_0000_0001, 0x2_0000_0003, 0x2_0000_0004]
        #expect(SyncPlan.decide(peerLastZxid: 0x2_0000_0002, committedLog: log, lastProcessedZxid: 0x2_0000_0004)
                == SyncPlan(kind: .trunc(0x2_0000_0001), proposals: [0x2_0000_0003, 0x2_0000_0004], lastQueued: 0x2_0000_0004))
    }

    @Test func anUncommittedTailFromAnotherEpochNeedsASnapshot() {
        // The peer logged 0x1_0000_0005, which the leader never had; the leader's next txn is in epoch 2.
        let log: [Int64] = [0x1_0000_0003, 0x2_0000_0001]
        #expect(SyncPlan.decide(peerLastZxid: 0x1_0000_0005, committedLog: log, lastProcessedZxid: 0x2_0000_0001)
                == SyncPlan(kind: .snap(0x2_0000_0001), proposals: [], lastQueued: 0x2_0000_0001))
    }

    @Test func aPeerOlderThanTheCommittedLogUsesTheTxnLogOrASnapshot() {
        let older: Int64 = 0x1_0000_0001
        let committed: [Int64] = [0x1_0000_0005, 0x1_0000_0006]
        #expect(SyncPlan.decide(peerLastZxid: older, committedLog: committed, lastProcessedZxid: 0x1_0000_0006).kind == .snap(0x1_0000_0006),
                "no txn log to read")
        let disk: [Int64] = [0x1_0000_0001, 0x1_0000_0002, 0x1_0000_0003, 0x1_0000_0004, 0x1_0000_0005]
        #expect(SyncPlan.decide(peerLastZxid: older, committedLog: committed, lastProcessedZxid: 0x1_0000_0006, txnLog: disk)
                == SyncPlan(kind: .diff(0x1_0000_0006), proposals: [0x1_0000_0002, 0x1_0000_0003, 0x1_0000_0004, 0x1_0000_0005, 0x1_0000_0006],
                            lastQueued: 0x1_0000_0006))
        let gap: [Int64] = [0x1_0000_0001, 0x1_0000_0002]
        #expect(SyncPlan.decide(peerLastZxid: older, committedLog: committed, lastProcessedZxid: 0x1_0000_0006, txnLog: gap).kind
                == .snap(0x1_0000_0006), "a gap between the log read and the committed log")
    }

    @Test func aSnapshotWhenForced() {
        #expect(SyncPlan.decide(peerLastZxid: 0x2_0000_0002, committedLog: Self.log, lastProcessedZxid: 0x2_0000_0002,
                                forceSnapshot: true).kind == .snap(0x2_0000_0002))
    }
}
