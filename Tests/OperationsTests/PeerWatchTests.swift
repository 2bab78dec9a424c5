import Operations
import Testing

/// The leader's events about its members: lost, returned, lagging, caught up, and the quorum
/// at risk or safe again, each once per change.
struct PeerWatchTests {
    static func peer(_ id: Int64, _ state: String, lag: Int64? = 0, role: String = "participant") -> PeerHealth {
        PeerHealth(id: id, role: role, state: state, zxid: nil, lag: lag, heardMillisAgo: nil, roundTripMillis: nil)
    }

    static func kinds(_ events: [(kind: String, details: [String: String])]) -> [String] { events.map(\.kind) }

    @Test func aMemberLostAndBackRaisesOneEventEachAndTheQuorumFollows() {
        var watch = PeerWatch()
        let all = [Self.peer(1, "self"), Self.peer(2, "synced"), Self.peer(3, "synced")]
        #expect(watch.update(all).isEmpty)
        let without3 = [Self.peer(1, "self"), Self.peer(2, "synced"), Self.peer(3, "not connected", lag: nil)]
        let lost = watch.update(without3)
        #expect(Self.kinds(lost) == ["member_lost", "quorum_at_risk"])
        #expect(lost.first?.details["member"] == "3" && lost.last?.details == ["voters": "3", "up": "2", "needed": "2"])
        #expect(watch.update(without3).isEmpty, "said once")
        #expect(Self.kinds(watch.update(all)) == ["member_returned", "quorum_safe"])
    }

    @Test func aMemberNeverSeenUpIsNotLostAndObserversDoNotCountForTheQuorum() {
        var watch = PeerWatch()
        let starting = [Self.peer(1, "self"), Self.peer(2, "synced"), Self.peer(3, "synced"), Self.peer(4, "not connected", role: "observer")]
        #expect(watch.update(starting).isEmpty, "server.4 never was up")
        let observerGone = [Self.peer(1, "self"), Self.peer(2, "synced"), Self.peer(3, "synced"), Self.peer(4, "synced", role: "observer")]
        #expect(watch.update(observerGone).isEmpty)
        #expect(Self.kinds(watch.update(starting)) == ["member_lost"], "an observer's loss puts no quorum at risk")
    }

    @Test func lagPastTheThresholdAndBackBelowHalfOfIt() {
        var watch = PeerWatch(lagThreshold: 100)
        _ = watch.update([Self.peer(1, "self"), Self.peer(2, "synced", lag: 10)])
        #expect(Self.kinds(watch.update([Self.peer(1, "self"), Self.peer(2, "synced", lag: 101)])) == ["member_lagging"])
        #expect(watch.update([Self.peer(1, "self"), Self.peer(2, "synced", lag: 60)]).isEmpty, "not yet under half the threshold")
        #expect(Self.kinds(watch.update([Self.peer(1, "self"), Self.peer(2, "synced", lag: 50)])) == ["member_caught_up"])
    }
}
