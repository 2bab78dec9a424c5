import Configuration
import Operations
import Testing

/// The verdicts and refusals `aviary status` and `aviary member` give, from the
/// configuration and what each member's `srvr` said.
struct EnsembleViewTests {
    static let membership = try! Membership(parsing: """
        server.1=127.0.0.2:2888:3888:participant;0.0.0.0:2181
        server.2=127.0.0.3:2888:3888:participant;127.0.0.3:2181
        server.3=127.0.0.4:2888:3888:participant;2181
        server.4=127.0.0.5:2888:3888:observer;127.0.0.5:2181
        version=100000000
        """)

    static func srvr(_ mode: String, zxid: Int64) -> String {
        "Zookeeper version: 3.8.0\nLatency min/avg/max: 0/0.1/3\nReceived: 10\nSent: 10\nConnections: 1\nOutstanding: 0\n"
            + "Zxid: 0x\(String(zxid, radix: 16))\nMode: \(mode)\nNode count: 5\n"
    }

    static func view(_ modes: [Int64: (String, Int64)?], lagLimit: Int64 = 1000) -> EnsembleView {
        var statuses: [Int64: ServerStatus] = [:]
        for (id, server) in membership.servers {
            let address = EnsembleView.clientAddress(server) ?? ""
            if let entry = modes[id] {
                statuses[id] = entry.map { ServerStatus(address: address, srvr: srvr($0.0, zxid: $0.1)) }
                    ?? ServerStatus(address: address, error: "connection refused")
            }
        }
        return EnsembleView(membership: membership, statuses: statuses, lagLimit: lagLimit)
    }

    @Test func membersAreReachedAtTheirClientAddressesWithTheWildcardReplaced() {
        #expect(Self.membership.servers.values.sorted { $0.id < $1.id }.map { EnsembleView.clientAddress($0) }
                == ["127.0.0.2:2181", "127.0.0.3:2181", "127.0.0.4:2181", "127.0.0.5:2181"])
    }

    @Test func aHealthyEnsembleHasNoProblems() {
        let view = Self.view([1: ("follower", 10), 2: ("leader", 10), 3: ("follower", 10), 4: ("observer", 10)])
        #expect(view.problems.isEmpty, "\(view.problems)")
        #expect(view.leader?.id == 2 && view.members.allSatisfy { $0.verdict == "ok" })
    }

    @Test func eachProblemIsNamed() {
        let atRisk = Self.view([1: nil, 2: ("leader", 10), 3: ("follower", 8), 4: ("observer", 10)], lagLimit: 1)
        #expect(atRisk.problems.first == "quorum at risk: only 2 of 3 voters serving, one more loss stops writes")
        #expect(atRisk.problems.contains("server.1: unreachable: connection refused"))
        #expect(atRisk.problems.contains("server.3: 2 transactions behind"))
        let noQuorum = Self.view([1: nil, 2: ("not serving", 10), 3: ("follower", 10), 4: ("observer", 10)])
        #expect(noQuorum.problems.prefix(2) == ["no quorum: 1 of 3 voters serving, 2 needed", "no leader: no member says it leads"])
        let twoLeaders = Self.view([1: ("leader", 10), 2: ("leader", 10), 3: ("follower", 10), 4: ("follower", 10)])
        #expect(twoLeaders.problems.contains("more than one leader: server.1, server.2"))
        #expect(twoLeaders.problems.contains("server.4: an observer in the configuration, but follower"))
    }

    @Test func theLeadersPeerWordAddsLagInTimeAndWhenEachWasHeard() {
        var view = Self.view([1: ("follower", 10), 2: ("leader", 10), 3: ("follower", 10), 4: ("observer", 10)])
        view.addLeaderView("id=1 role=participant state=synced zxid=0xa lag=0 lag_ms=12 heard_ms=80 round_trip_ms=1\n"
                           + "id=2 role=participant state=self zxid=0xa lag=0 lag_ms=- heard_ms=- round_trip_ms=-\n")
        #expect(view.members[0].lagMillis == 12 && view.members[0].heardMillisAgo == 80)
        #expect(view.members[1].lagMillis == nil && view.members[2].heardMillisAgo == nil)
        view.addLeaderView("peer is not executed because it is not in the whitelist.\n")
        #expect(view.members[0].lagMillis == 12, "a ZooKeeper leader's answer changes nothing")
    }

    @Test func removalsThatLoseTheQuorumOrTheLeaderAreRefused() {
        let view = Self.view([1: nil, 2: ("leader", 10), 3: ("follower", 10), 4: ("observer", 10)])
        #expect(view.refusalToRemove(2, force: false)?.contains("is the leader") == true)
        #expect(view.refusalToRemove(3, force: false) == "without server.3 the voters would be [1, 2], of which [2] serve: no quorum (2 needed); use --force to remove it anyway")
        #expect(view.refusalToRemove(3, force: true) == nil)
        #expect(view.refusalToRemove(1, force: false) == nil, "a voter that is gone can go")
        #expect(view.refusalToRemove(4, force: false) == nil, "an observer never holds the quorum")
        #expect(view.refusalToRemove(9, force: true)?.contains("not a member") == true)
    }

    @Test func anObserverIsPromotedOnlyOnceItHasCaughtUp() {
        let lagging = Self.view([1: ("follower", 100), 2: ("leader", 100), 3: ("follower", 100), 4: ("observer", 40)])
        #expect(lagging.refusalToPromote(4, maximumLag: 10) == "server.4 lags 60 transactions behind (at most 10 allowed): wait and try again")
        #expect(lagging.refusalToPromote(4, maximumLag: 60) == nil)
        #expect(lagging.refusalToPromote(3, maximumLag: 0) == "server.3 is a participant already")
        let down = Self.view([1: ("follower", 100), 2: ("leader", 100), 3: ("follower", 100), 4: nil])
        #expect(down.refusalToPromote(4, maximumLag: 1000)?.hasPrefix("server.4 is not serving") == true)
    }
}
