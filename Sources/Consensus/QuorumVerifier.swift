/// Majority quorums over a set of voters (`QuorumMaj`), with the configuration's version.
public struct QuorumVerifier: Hashable, Sendable {
    public var voters: Set<Int64>
    public var observers: Set<Int64>
    public var version: Int64

    public init(voters: Set<Int64>, observers: Set<Int64> = [], version: Int64 = 0) {
        self.voters = voters; self.observers = observers; self.version = version
    }

    /// Whether `ids` hold more than half of the voters.
    public func isQuorum(_ ids: Set<Int64>) -> Bool {
        ids.intersection(voters).count * 2 > voters.count
    }
}
