import ServerCore

/// An ensemble member's counters and timings under the names ZooKeeper's `ServerMetrics`
/// gives them, for `/metrics`: elections, syncs the leader served, proposals and commits, what
/// a learner received, and how long the member could not serve.
public struct QuorumStatistics: Sendable, Hashable {
    /// `looking_count`: elections this member started.
    public var lookingCount: Int64 = 0
    /// `election_time`: milliseconds from LOOKING to knowing the leader.
    public var electionTime = LatencySamples()
    /// `diff_count`, `snap_count`: learners the leader synchronized by DIFF and by SNAP.
    public var diffCount: Int64 = 0
    public var snapCount: Int64 = 0
    /// `proposal_count`, `commit_count`: the leader's proposals and commits.
    public var proposalCount: Int64 = 0
    public var commitCount: Int64 = 0
    /// `revalidate_count`: sessions learners asked the leader to revalidate.
    public var revalidateCount: Int64 = 0
    /// `learner_proposal_received_count`, `learner_commit_received_count` (INFORM counts as a
    /// commit, as on ZooKeeper's observer).
    public var learnerProposalReceivedCount: Int64 = 0
    public var learnerCommitReceivedCount: Int64 = 0
    /// `follower_sync_time`, `observer_sync_time`: milliseconds from connecting to the leader to
    /// UPTODATE.
    public var followerSyncTime = LatencySamples()
    public var observerSyncTime = LatencySamples()
    /// `unavailable_time`, `leader_unavailable_time`: milliseconds from LOOKING to serving
    /// again (the second when it serves as leader).
    public var unavailableTime = LatencySamples()
    public var leaderUnavailableTime = LatencySamples()
    /// `aviary_quorum_auth_failures`: election or quorum connections refused for their TLS
    /// handshake or quorum SASL (Aviary's own; ZooKeeper only logs them).
    public var quorumAuthFailures: Int64 = 0

    public init() {}

    /// The Prometheus text of these figures.
    public func render(into out: inout String) {
        func counter(_ name: String, _ value: Int64, _ help: String) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) counter\n\(name) \(value)\n"
        }
        counter("looking_count", lookingCount, "Number of times this server entered the LOOKING state")
        counter("diff_count", diffCount, "Number of learners synchronized by DIFF")
        counter("snap_count", snapCount, "Number of learners synchronized by SNAP")
        counter("proposal_count", proposalCount, "Number of proposals the leader made")
        counter("commit_count", commitCount, "Number of commits the leader made")
        counter("revalidate_count", revalidateCount, "Number of session revalidations the leader answered")
        counter("learner_proposal_received_count", learnerProposalReceivedCount, "Number of proposals this learner received")
        counter("learner_commit_received_count", learnerCommitReceivedCount, "Number of commits this learner received")
        counter("aviary_quorum_auth_failures", quorumAuthFailures, "Election or quorum connections refused for their TLS handshake or quorum SASL")
        PrometheusExposition.summary("election_time", electionTime, help: "Time spent in leader election in milliseconds", into: &out)
        PrometheusExposition.summary("follower_sync_time", followerSyncTime, help: "Time a follower took to synchronize with its leader in milliseconds", into: &out)
        PrometheusExposition.summary("observer_sync_time", observerSyncTime, help: "Time an observer took to synchronize with its leader in milliseconds", into: &out)
        PrometheusExposition.summary("unavailable_time", unavailableTime, help: "Time this server could not serve, from LOOKING to broadcast, in milliseconds", into: &out)
        PrometheusExposition.summary("leader_unavailable_time", leaderUnavailableTime, help: "Time a new leader could not serve, from LOOKING to broadcast, in milliseconds", into: &out)
    }
}
