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

    @Test func aPeerAnswerReadsBack() {
        let text = "id=1 role=participant state=synced zxid=0x100000005 lag=2 lag_ms=14 heard_ms=80 round_trip_ms=1 seen_by=self\n"
            + "id=3 role=observer state=not_connected zxid=- lag=- lag_ms=- heard_ms=- round_trip_ms=- seen_by=self\n"
        let peers = PeerHealth.parse(text)
        #expect(peers[1] == PeerHealth(id: 1, role: "participant", state: "synced", zxid: 0x1_0000_0005, lag: 2, lagMillis: 14,
                                       heardMillisAgo: 80, roundTripMillis: 1))
        #expect(peers[3]?.state == "not connected" && peers[3]?.lag == nil && peers[3]?.isUp == false)
        #expect(PeerHealth.parse("peer is not executed because it is not in the whitelist.\n").isEmpty)
    }
}
