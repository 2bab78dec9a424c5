/// Whether transactions read back from a server's log are all of its history between their
/// first and last zxid, with nothing missing and nothing foreign.
///
/// A transaction log is not always one run. A SNAP synchronization leaves the old files (and
/// the diverged tail the SNAP replaced) in place, writes a snapshot at the leader's zxid, and
/// the log goes on after it; a TRUNC synchronization applies the committed proposals after the
/// truncation point to the tree only, and they too reach disk only in the snapshot written at
/// NEWLEADER. Read across such a point, the log skips transactions and may hold ones the
/// ensemble never committed. ZooKeeper reads across it when it sends a DIFF from the log
/// (ZOOKEEPER-2846: the learner silently loses transactions); the ensemble simulation found
/// the same in Aviary. A leader must send a SNAP instead, and keep only the run after the last
/// gap as its committed log.
///
/// A gap shows in three ways: two neighbouring zxids that are not next to each other (not the
/// next counter of one epoch, nor the first of a later epoch); a snapshot strictly between
/// them (a synchronization snapshot at the end of an epoch, with the log going on at the first
/// zxid of the next one); or a snapshot after the last of them, at or before the zxid the
/// server's history reaches (a synchronization snapshot nothing was logged after yet).
/// The newest transactions may simply not be in the files yet (the log is written behind the
/// tree), so a read that ends early without a snapshot after it is no gap.
public enum TxnLogContinuity {
    /// Whether `next` comes right after `zxid` in a history: the next counter of the same epoch,
    /// or the first of a later epoch.
    public static func follows(_ next: Int64, _ zxid: Int64) -> Bool {
        let epoch = zxid >> 32, nextEpoch = next >> 32
        if nextEpoch == epoch { return next == zxid + 1 }
        return nextEpoch > epoch && next & 0xFFFF_FFFF == 1
    }

    /// Whether `zxids` (read from the log, oldest first, from `after` or the one that follows
    /// it) hold every transaction of the server's history after `after` up to the last of them,
    /// with no snapshot beyond them up to `last`.
    ///
    /// - Parameters:
    ///   - last: the zxid the read was for (the server's history reaches at least that far).
    ///   - snapshots: the zxids of the snapshot files in the data directory.
    public static func isContinuous(_ zxids: [Int64], after: Int64, through last: Int64, snapshots: [Int64]) -> Bool {
        guard let first = zxids.first else { return true }
        let chain = first == after ? zxids : [after] + zxids
        return gaps(in: chain, snapshots: snapshots).isEmpty && !endsBeforeASnapshot(chain, through: last, snapshots: snapshots)
    }

    /// The longest run at the end of `zxids` (oldest first) with no gap in it, empty when the
    /// history up to `last` goes on past them in a snapshot: what a new leader whose tree is at
    /// `last` may keep as its committed log.
    public static func continuousSuffix(_ zxids: [Int64], through last: Int64, snapshots: [Int64]) -> ArraySlice<Int64> {
        if endsBeforeASnapshot(zxids, through: last, snapshots: snapshots) { return [] }
        guard let lastGap = gaps(in: zxids, snapshots: snapshots).last else { return zxids[...] }
        return zxids[lastGap...]
    }

    /// Whether a snapshot lies after the last of `zxids`, at or before `last`.
    private static func endsBeforeASnapshot(_ zxids: [Int64], through last: Int64, snapshots: [Int64]) -> Bool {
        guard let end = zxids.last else { return false }
        return snapshots.contains { $0 > end && $0 <= last }
    }

    /// The indices `i` where `zxids[i]` does not follow `zxids[i - 1]`.
    private static func gaps(in zxids: [Int64], snapshots: [Int64]) -> [Int] {
        let sortedSnapshots = snapshots.sorted()
        var gaps: [Int] = []
        for index in zxids.indices.dropFirst() {
            let previous = zxids[index - 1], next = zxids[index]
            let snapshotBetween = sortedSnapshots.contains { $0 > previous && $0 < next }
            if !follows(next, previous) || snapshotBetween { gaps.append(index) }
        }
        return gaps
    }
}
