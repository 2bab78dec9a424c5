/// How a leader brings one learner up to date (`LearnerHandler.syncFollower` and
/// `queueCommittedProposals`): the first packet, the committed proposals that follow it (each
/// sent as PROPOSAL then COMMIT), and the zxid forwarding starts after.
public struct SyncPlan: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        /// DIFF(zxid): the learner keeps its log and applies what follows.
        case diff(Int64)
        /// TRUNC(zxid): the learner cuts its log back to zxid first.
        case trunc(Int64)
        /// SNAP: the learner takes the whole tree, at the leader's last processed zxid.
        case snap(Int64)
    }

    public var kind: Kind
    /// Zxids of the committed proposals to send after the first packet, oldest first.
    public var proposals: [Int64]
    /// The last zxid queued (`startForwarding`'s starting point).
    public var lastQueued: Int64

    public init(kind: Kind, proposals: [Int64], lastQueued: Int64) {
        self.kind = kind; self.proposals = proposals; self.lastQueued = lastQueued
    }

    /// Decides the sync for a learner whose last logged zxid is `peerLastZxid`.
    ///
    /// - Parameters:
    ///   - committedLog: zxids of the proposals the leader keeps in memory, oldest first.
    ///   - lastProcessedZxid: the leader's tree's last zxid.
    ///   - txnLog: zxids read from the on-disk log starting at or before `peerLastZxid`, when
    ///     a log sync is allowed and within its size limit (nil otherwise).
    public static func decide(peerLastZxid peer: Int64, committedLog: [Int64], lastProcessedZxid: Int64,
                              txnLog: [Int64]? = nil, forceSnapshot: Bool = false) -> SyncPlan {
        let snap = SyncPlan(kind: .snap(lastProcessedZxid), proposals: [], lastQueued: lastProcessedZxid)
        let newEpochZxid = peer & 0xFFFF_FFFF == 0
        let minimum = committedLog.first ?? lastProcessedZxid
        let maximum = committedLog.last ?? lastProcessedZxid
        if forceSnapshot { return snap }
        if peer == lastProcessedZxid { return SyncPlan(kind: .diff(peer), proposals: [], lastQueued: peer) }
        if peer > maximum && !newEpochZxid { return SyncPlan(kind: .trunc(maximum), proposals: [], lastQueued: maximum) }
        if minimum <= peer && peer <= maximum {
            var walk = Walk(peer: peer)
            walk.queue(committedLog, upTo: nil, lastCommitted: maximum)
            return walk.plan ?? snap
        }
        if peer < minimum, let txnLog, !txnLog.isEmpty {
            var walk = Walk(peer: peer)
            walk.queue(txnLog, upTo: minimum, lastCommitted: maximum)
            // A gap between the end of the log read and the start of the committed log.
            guard walk.queued >= minimum else { return snap }
            walk.queue(committedLog, upTo: nil, lastCommitted: maximum, from: walk.queued)
            return walk.plan ?? snap
        }
        return snap
    }

    /// `queueCommittedProposals`' walk over a run of proposals.
    private struct Walk {
        let peer: Int64
        var first: Kind?
        var needsOpPacket = true
        var proposals: [Int64] = []
        var queued: Int64
        var failed = false

        init(peer: Int64) {
            self.peer = peer
            self.queued = peer
        }

        var plan: SyncPlan? {
            guard !failed, !needsOpPacket, let first else { return nil }
            return SyncPlan(kind: first, proposals: proposals, lastQueued: queued)
        }

        mutating func queue(_ zxids: [Int64], upTo maximum: Int64?, lastCommitted: Int64, from start: Int64? = nil) {
            guard !failed else { return }
            let newEpochZxid = peer & 0xFFFF_FFFF == 0
            let floor = start ?? peer
            var previous: Int64 = -1
            for zxid in zxids {
                if let maximum, zxid > maximum { break }
                if zxid < floor {
                    previous = zxid
                    continue
                }
                if needsOpPacket {
                    if zxid == peer {
                        first = .diff(lastCommitted)
                        needsOpPacket = false
                        continue
                    }
                    if newEpochZxid {
                        first = .diff(lastCommitted)
                        needsOpPacket = false
                    } else if zxid > peer {
                        // The peer holds transactions the leader lacks: cut them off, unless
                        // they are of another epoch (then only a snapshot will do).
                        if zxid >> 32 != peer >> 32 {
                            failed = true
                            return
                        }
                        first = .trunc(previous)
                        needsOpPacket = false
                    }
                }
                if zxid <= queued { continue }
                proposals.append(zxid)
                queued = zxid
            }
            if needsOpPacket && newEpochZxid {
                first = .diff(lastCommitted)
                needsOpPacket = false
            }
        }
    }
}
