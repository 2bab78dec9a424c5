import Consensus
import Testing

/// ``TxnLogContinuity``: the gaps a SNAP or TRUNC synchronization leaves in a log, seen from
/// the zxids read back and the snapshot files beside them.
struct TxnLogContinuityTests {
    static func zxid(_ epoch: Int64, _ counter: Int64) -> Int64 { epoch << 32 | counter }

    @Test func theNextCounterOrTheFirstOfALaterEpochFollows() {
        #expect(TxnLogContinuity.follows(Self.zxid(3, 8), Self.zxid(3, 7)))
        #expect(TxnLogContinuity.follows(Self.zxid(5, 1), Self.zxid(3, 7)))
        #expect(!TxnLogContinuity.follows(Self.zxid(3, 9), Self.zxid(3, 7)))
        #expect(!TxnLogContinuity.follows(Self.zxid(4, 2), Self.zxid(3, 7)))
        #expect(!TxnLogContinuity.follows(Self.zxid(2, 1), Self.zxid(3, 7)))
        #expect(TxnLogContinuity.follows(Self.zxid(1, 1), 0), "an empty server's first transaction")
    }

    /// A log across epochs with periodic snapshots on logged zxids is one run.
    @Test func aLogWithPeriodicSnapshotsIsContinuous() {
        let log = (1...5).map { Self.zxid(1, $0) } + (1...4).map { Self.zxid(2, $0) }
        let last = Self.zxid(2, 4)
        #expect(TxnLogContinuity.isContinuous(log, after: Self.zxid(1, 1), through: last, snapshots: [0, Self.zxid(1, 3), Self.zxid(2, 2), last]))
        #expect(TxnLogContinuity.isContinuous(Array(log.dropFirst()), after: Self.zxid(1, 1), through: last, snapshots: []),
                "the read may start at the zxid after the learner's last")
        #expect(TxnLogContinuity.continuousSuffix(log, through: last, snapshots: [Self.zxid(1, 3)]) == log[...])
        #expect(TxnLogContinuity.continuousSuffix(Array(log.dropLast()), through: last, snapshots: [Self.zxid(1, 3)]) == log.dropLast()[...],
                "the newest transaction not written to the file yet is no gap")
    }

    /// What the simulation's seed 47 (five voters) found: server.5 had 1:0x6c logged but never
    /// committed, took a SNAP at 2:0x2a and logged on from 2:0x2b; leading later, it read
    /// 1:0x6c and then 2:0x2b for a learner at 1:0x6b, skipping 2:1 to 2:0x2a.
    @Test func aSnapLeavesAStaleTailAndAGap() {
        let log = [Self.zxid(1, 0x6a), Self.zxid(1, 0x6b), Self.zxid(1, 0x6c), Self.zxid(2, 0x2b), Self.zxid(2, 0x2c)]
        let snapshots = [Self.zxid(2, 0x2a)]
        let last = Self.zxid(2, 0x2c)
        #expect(!TxnLogContinuity.isContinuous(Array(log.dropFirst()), after: Self.zxid(1, 0x6b), through: last, snapshots: snapshots))
        #expect(TxnLogContinuity.continuousSuffix(log, through: last, snapshots: snapshots) == [Self.zxid(2, 0x2b), Self.zxid(2, 0x2c)])
        #expect(TxnLogContinuity.isContinuous([Self.zxid(2, 0x2b)], after: Self.zxid(2, 0x2a), through: last, snapshots: snapshots),
                "a learner at the snapshot's zxid is served from after it")
    }

    /// A SNAP to the last zxid of an epoch, with the log going on at the next epoch's first:
    /// the zxids alone look continuous; the snapshot between them shows the gap.
    @Test func aSnapAtTheEndOfAnEpochShowsByItsSnapshot() {
        let log = [Self.zxid(3, 99), Self.zxid(3, 100), Self.zxid(5, 1), Self.zxid(5, 2)]
        let snapshots = [Self.zxid(4, 57)]
        #expect(!TxnLogContinuity.isContinuous(log, after: Self.zxid(3, 99), through: Self.zxid(5, 2), snapshots: snapshots))
        #expect(TxnLogContinuity.isContinuous(log, after: Self.zxid(3, 99), through: Self.zxid(5, 2), snapshots: []))
        #expect(TxnLogContinuity.continuousSuffix(log, through: Self.zxid(5, 2), snapshots: snapshots) == [Self.zxid(5, 1), Self.zxid(5, 2)])
    }

    /// A TRUNC to 2:5 whose committed 2:6 to 2:9 reached disk only in the NEWLEADER snapshot:
    /// a learner at 2:7 must not get a DIFF that starts at 2:10.
    @Test func aTruncLeavesTheAppliedProposalsOnlyInTheSnapshot() {
        let read = [Self.zxid(2, 10), Self.zxid(2, 11)]
        #expect(!TxnLogContinuity.isContinuous(read, after: Self.zxid(2, 7), through: Self.zxid(2, 11), snapshots: [Self.zxid(2, 9)]))
        #expect(!TxnLogContinuity.isContinuous(read, after: Self.zxid(2, 7), through: Self.zxid(2, 11), snapshots: []), "and the zxids skip too")
    }

    /// What seed 56 (five voters) found: server.3 took a SNAP to 4:0x2e over a stale 3:1 to
    /// 3:0xc and led before it logged anything after it. Its committed log must be empty, not
    /// the stale tail.
    @Test func aSnapNothingWasLoggedAfterEndsTheRun() {
        let log = (1...12).map { Self.zxid(3, $0) }
        let snapshots = [Self.zxid(4, 0x2e)]
        #expect(TxnLogContinuity.continuousSuffix(log, through: Self.zxid(4, 0x2e), snapshots: snapshots).isEmpty)
        #expect(!TxnLogContinuity.isContinuous(Array(log.suffix(4)), after: Self.zxid(3, 9), through: Self.zxid(4, 0x2e), snapshots: snapshots))
    }
}
