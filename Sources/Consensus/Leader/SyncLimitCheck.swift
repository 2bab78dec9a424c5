/// Whether a synchronized follower acknowledges proposals within syncLimit
/// (`LearnerHandler.SyncLimitCheck`): the leader remembers when it sent the oldest proposal
/// the follower has not acknowledged (and the newest one after it), and drops the follower
/// when that proposal is older than syncLimit ticks, even though its PINGs still come: a
/// follower whose disk is stuck keeps answering pings but holds up every commit it is needed for.
/// Time is counted in the leader's half ticks.
public struct SyncLimitCheck: Sendable {
    private var current: (zxid: Int64, sentAt: Int)?
    private var next: (zxid: Int64, sentAt: Int)?

    public init() {}

    /// A PROPOSAL of `zxid` went to the follower at half tick `now`.
    public mutating func proposed(_ zxid: Int64, at now: Int) {
        if current == nil { current = (zxid, now) } else { next = (zxid, now) }
    }

    /// The follower acknowledged `zxid`.
    public mutating func acknowledged(_ zxid: Int64) {
        if current?.zxid == zxid {
            current = next
            next = nil
        } else if next?.zxid == zxid {
            next = nil
        }
    }

    /// When the oldest proposal the follower has not acknowledged was sent, if any.
    public var oldestUnacknowledgedSentAt: Int? { current?.sentAt }

    /// Whether the oldest unacknowledged proposal is at most `limit` half ticks old. It was
    /// sent some time within its half tick, so a follower is dropped between `limit` and
    /// `limit + 1` half ticks after the send: never sooner than ZooKeeper's millisecond check.
    public func isWithinLimit(at now: Int, limit: Int) -> Bool {
        guard let current else { return true }
        return now - current.sentAt <= limit
    }
}
