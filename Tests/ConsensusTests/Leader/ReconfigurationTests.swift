import Consensus
import Testing
import ZooKeeperProtocol

/// The leader's side of a reconfiguration (`Leader.propose`, `tryToCommit`,
/// `getDesignatedLeader`, `startZkServer`): both quorums, COMMITANDACTIVATE and
/// INFORMANDACTIVATE, the designated leader, and the version a fresh configuration takes.
struct ReconfigurationTests {
    static let epoch: Int64 = 1

    /// A leader (server 1) of `voters`, with `observers`, established with each learner synced.
    static func established(voters: Set<Int64>, observers: Set<Int64> = [], extra: Set<Int64> = [],
                            reconfigEnabled: Bool = false) -> LeaderRole {
        var role = LeaderRole(verifier: QuorumVerifier(voters: voters, observers: observers, version: 0x1_0000_0000),
                              leader: .init(myid: 1, acceptedEpoch: 0, currentEpoch: 0, lastProcessedZxid: 0), committedLog: [],
                              reconfigEnabled: reconfigEnabled)
        _ = role.receive(.start)
        for sid in (voters.union(observers).union(extra)).subtracting([1]).sorted() {
            let kind: QuorumPacket.Kind = observers.contains(sid) ? .observerInfo : .followerInfo
            _ = role.receive(.packet(from: sid, QuorumPacket(kind, zxid: 0, data: LearnerInfo(serverId: sid, configVersion: 0).bytes)))
        }
        for sid in (voters.union(observers).union(extra)).subtracting([1]).sorted() {
            _ = role.receive(.packet(from: sid, QuorumPacket(.ackEpoch, zxid: 0, data: [0, 0, 0, 0])))
            _ = role.receive(.packet(from: sid, QuorumPacket(.ack, zxid: epoch << 32)))
        }
        #expect(role.isEstablished)
        return role
    }

    static func reconfig(_ counter: Int64, _ text: String) -> (TxnHeader, Txn) {
        (TxnHeader(clientId: 9, cxid: 1, zxid: epoch << 32 | counter, time: 1, type: OpCode.reconfig.rawValue),
         .setData(path: "/zookeeper/config", data: Array(text.utf8), version: -1))
    }

    static func write(_ counter: Int64) -> (TxnHeader, Txn) {
        (TxnHeader(clientId: 9, cxid: Int32(counter), zxid: epoch << 32 | counter, time: 1, type: OpCode.delete.rawValue),
         .delete(path: "/x\(counter)"))
    }

    static func sent(_ actions: [LeaderRole.Action], _ kind: QuorumPacket.Kind) -> [Int64: QuorumPacket] {
        var packets: [Int64: QuorumPacket] = [:]
        for case .send(let sid, let packet) in actions where packet.kind == kind { packets[sid] = packet }
        return packets
    }

    /// Proposes a reconfiguration to `next` (zxid counter 1) and a write after it (2), both
    /// durable on the leader; returns their headers.
    static func reconfigureThenWrite(_ role: inout LeaderRole, to next: QuorumVerifier) -> (TxnHeader, TxnHeader) {
        let (header, txn) = reconfig(1, "version=100000001")
        _ = role.receive(.propose(header, txn, reconfiguring: next))
        let (after, afterTxn) = write(2)
        _ = role.receive(.propose(after, afterTxn))
        _ = role.receive(.durable(upTo: after.zxid))
        return (header, after)
    }

    static let leaderOne: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 1]

    @Test func aReconfigurationCommitsWithAQuorumOfBothAndActivatesOnEveryLearner() {
        // Voters 1, 2, 3 and observer 5; server 4 connected as a (non-voting) follower joins.
        var role = Self.established(voters: [1, 2, 3], observers: [5], extra: [4])
        let next = QuorumVerifier(voters: [1, 2, 3, 4], observers: [5], version: Self.epoch << 32 | 1)
        #expect(role.isQuorumSynced(next))
        #expect(!role.isQuorumSynced(QuorumVerifier(voters: [1, 6, 7], version: 9)), "6 and 7 are not connected")
        let (header, txn) = Self.reconfig(1, "server.1=a:1:2:participant\nversion=100000001")
        let proposed = role.receive(.propose(header, txn, reconfiguring: next))
        #expect(Set(Self.sent(proposed, .proposal).keys) == [2, 3, 4], "observers get no PROPOSAL")
        #expect(role.isReconfiguring)
        _ = role.receive(.durable(upTo: header.zxid))
        #expect(role.receive(.packet(from: 2, QuorumPacket(.ack, zxid: header.zxid))).isEmpty,
                "1 and 2 are a quorum of the old voters, not of the new (1, 2, 3, 4)")
        let committed = role.receive(.packet(from: 4, QuorumPacket(.ack, zxid: header.zxid)))
        #expect(committed.contains(.commit(header.zxid)))
        #expect(committed.contains(.activate(config: Array("server.1=a:1:2:participant\nversion=100000001".utf8), designatedLeader: 1,
                                             zxid: header.zxid)))
        let activations = Self.sent(committed, .commitAndActivate)
        #expect(Set(activations.keys) == [2, 3, 4])
        #expect(activations[2]?.data == Self.leaderOne, "the designated leader, as a long")
        let informed = Self.sent(committed, .informAndActivate)
        #expect(informed[5]?.data.map { Array($0.prefix(8)) } == Self.leaderOne)
        #expect(informed[5]?.data.map { Array($0.dropFirst(8)) } == Learner.Proposal(header: header, txn: txn).bytes)
        #expect(Self.sent(committed, .commit).isEmpty && Self.sent(committed, .inform).isEmpty)
        #expect(role.verifier == next && !role.isReconfiguring && role.allowedToCommit)
    }

    @Test func proposalsAfterAReconfigurationWaitForItAndNeedBothQuorums() {
        var role = Self.established(voters: [1, 2, 3], extra: [4, 5])
        let (header, after) = Self.reconfigureThenWrite(&role, to: QuorumVerifier(voters: [1, 4, 5], version: Self.epoch << 32 | 1))
        // The write has a quorum of both (1, 2, 4 | 1, 4) before the reconfiguration has one of the new.
        _ = role.receive(.packet(from: 2, QuorumPacket(.ack, zxid: after.zxid)))
        #expect(role.receive(.packet(from: 4, QuorumPacket(.ack, zxid: after.zxid))).isEmpty, "commits stay in zxid order")
        _ = role.receive(.packet(from: 2, QuorumPacket(.ack, zxid: header.zxid)))
        let both = role.receive(.packet(from: 4, QuorumPacket(.ack, zxid: header.zxid)))
        let commits = both.compactMap { if case .commit(let zxid) = $0 { return zxid } else { return nil } }
        #expect(commits == [header.zxid, after.zxid], "the reconfiguration commits, then what waited behind it")
        // A write proposed now needs only the new voters.
        let (later, laterTxn) = Self.write(3)
        _ = role.receive(.propose(later, laterTxn))
        _ = role.receive(.durable(upTo: later.zxid))
        #expect(role.receive(.packet(from: 5, QuorumPacket(.ack, zxid: later.zxid))).contains(.commit(later.zxid)))
    }

    @Test func aLeaderThatIsNoLongerAVoterNamesTheMostUpToDateNewVoterAndStopsCommitting() {
        var role = Self.established(voters: [1, 2, 3, 4])
        let (header, after) = Self.reconfigureThenWrite(&role, to: QuorumVerifier(voters: [2, 3, 4], version: Self.epoch << 32 | 1))
        // 3 and 4 acknowledge the write after the reconfiguration as well, 2 does not.
        _ = role.receive(.packet(from: 3, QuorumPacket(.ack, zxid: after.zxid)))
        _ = role.receive(.packet(from: 2, QuorumPacket(.ack, zxid: header.zxid)))
        let committed = role.receive(.packet(from: 3, QuorumPacket(.ack, zxid: header.zxid)))
        #expect(committed.contains(.activate(config: Array("version=100000001".utf8), designatedLeader: 3, zxid: header.zxid)),
                "3 acknowledged the reconfiguration and the write after it; the smallest such id")
        #expect(Self.sent(committed, .commitAndActivate)[2]?.data == [0, 0, 0, 0, 0, 0, 0, 3])
        #expect(!committed.contains(.commit(after.zxid)), "this leader commits nothing after handing over")
        #expect(!role.allowedToCommit)
        #expect(role.receive(.packet(from: 4, QuorumPacket(.ack, zxid: after.zxid))).isEmpty)
    }

    @Test func withReconfigEnabledAFreshConfigurationTakesTheEpochsFirstZxidAsVersion() {
        var role = LeaderRole(verifier: QuorumVerifier(voters: [1, 2, 3]),
                              leader: .init(myid: 1, acceptedEpoch: 0, currentEpoch: 0, lastProcessedZxid: 0), committedLog: [],
                              configText: "server.1=a:1:2:participant\nversion=0", reconfigEnabled: true)
        _ = role.receive(.start)
        _ = role.receive(.packet(from: 2, QuorumPacket(.followerInfo, zxid: 0, data: LearnerInfo(serverId: 2, configVersion: 0).bytes)))
        let sync = role.receive(.packet(from: 2, QuorumPacket(.ackEpoch, zxid: 0, data: [0, 0, 0, 0])))
        #expect(Self.sent(sync, .newLeader)[2]?.data == Array("server.1=a:1:2:participant\nversion=100000000".utf8))
        let established = role.receive(.packet(from: 2, QuorumPacket(.ack, zxid: 1 << 32)))
        #expect(established.contains(.activate(config: Array("server.1=a:1:2:participant\nversion=100000000".utf8),
                                               designatedLeader: 1, zxid: 1 << 32)))
        #expect(role.verifier.version == 1 << 32)
        // Without reconfigEnabled the version stays 0 and nothing is activated.
        var plain = LeaderRole(verifier: QuorumVerifier(voters: [1, 2, 3]),
                               leader: .init(myid: 1, acceptedEpoch: 0, currentEpoch: 0, lastProcessedZxid: 0), committedLog: [],
                               configText: "server.1=a:1:2:participant\nversion=0")
        _ = plain.receive(.start)
        _ = plain.receive(.packet(from: 2, QuorumPacket(.followerInfo, zxid: 0, data: LearnerInfo(serverId: 2, configVersion: 0).bytes)))
        let plainSync = plain.receive(.packet(from: 2, QuorumPacket(.ackEpoch, zxid: 0, data: [0, 0, 0, 0])))
        #expect(Self.sent(plainSync, .newLeader)[2]?.data == Array("server.1=a:1:2:participant\nversion=0".utf8))
        let plainEstablished = plain.receive(.packet(from: 2, QuorumPacket(.ack, zxid: 1 << 32)))
        #expect(!plainEstablished.contains { if case .activate = $0 { return true } else { return false } })
    }

    @Test func aPendingConfigurationFromBeforeNeedsItsOwnQuorumToEstablishTheEpoch() {
        // The last leader proposed voters 1, 4, 5 and stopped before it committed.
        var role = LeaderRole(verifier: QuorumVerifier(voters: [1, 2, 3], version: 1), lastSeenVerifier: QuorumVerifier(voters: [1, 4, 5], version: 2),
                              leader: .init(myid: 1, acceptedEpoch: 0, currentEpoch: 0, lastProcessedZxid: 0), committedLog: [],
                              configText: "version=2", reconfigEnabled: true)
        _ = role.receive(.start)
        for sid: Int64 in [2, 4] {
            _ = role.receive(.packet(from: sid, QuorumPacket(.followerInfo, zxid: 0, data: LearnerInfo(serverId: sid, configVersion: 1).bytes)))
            _ = role.receive(.packet(from: sid, QuorumPacket(.ackEpoch, zxid: 0, data: [0, 0, 0, 0])))
        }
        #expect(role.receive(.packet(from: 2, QuorumPacket(.ack, zxid: 1 << 32))).isEmpty, "a quorum of 1, 2, 3 only")
        let established = role.receive(.packet(from: 4, QuorumPacket(.ack, zxid: 1 << 32)))
        #expect(established.contains(.activate(config: Array("version=2".utf8), designatedLeader: 1, zxid: 1 << 32)))
        #expect(role.verifier.voters == [1, 4, 5])
    }
}
