import Consensus
import Testing
import ZooKeeperProtocol

struct LeaderRoleTests {
    @Test func pingRepliesCarryTheLearnersSessionTouches() {
        var leader = LeaderRole(verifier: QuorumVerifier(voters: [1, 2]),
                                leader: .init(myid: 2, acceptedEpoch: 0, currentEpoch: 0, lastProcessedZxid: 0), committedLog: [])
        _ = leader.receive(.start)
        _ = leader.receive(.packet(from: 1, QuorumPacket(.followerInfo, zxid: 0, data: LearnerInfo(serverId: 1, configVersion: 0).bytes)))
        let sync = leader.receive(.packet(from: 1, QuorumPacket(.ackEpoch, zxid: 0, data: [0, 0, 0, 0])))
        #expect(sync.contains(.send(to: 1, QuorumPacket(.diff, zxid: 0))), "an empty learner of an empty leader gets an empty DIFF")
        let established = leader.receive(.packet(from: 1, QuorumPacket(.ack, zxid: 1 << 32)))
        #expect(established.contains(.serving(epoch: 1)) && established.contains(.send(to: 1, QuorumPacket(.upToDate, zxid: -1))))
        // Session 0x0100_0000_0000_0007 touched with a 30 s timeout, then 0x0100_0000_0000_0008 with 4 s.
        let touches: [UInt8] = [1, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0x75, 0x30, 1, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0x0F, 0xA0]
        let ping = leader.receive(.packet(from: 1, QuorumPacket(.ping, zxid: 1 << 32, data: touches)))
        #expect(ping == [.touchSessions([0x0100_0000_0000_0007: 30_000, 0x0100_0000_0000_0008: 4_000])])
        #expect(leader.receive(.packet(from: 1, QuorumPacket(.ping, zxid: 1 << 32, data: []))).isEmpty)
        let cut = leader.receive(.packet(from: 1, QuorumPacket(.ping, zxid: 1 << 32, data: Array(touches.prefix(20)))))
        #expect(cut == [.closeLearner(1, reason: "its PING reply has a session touch cut short")])
    }

    @Test func aLearnerThatForwardsARequestBeforeItIsSynchronizedIsClosed() {
        var leader = LeaderRole(verifier: QuorumVerifier(voters: [1, 2, 3]),
                                leader: .init(myid: 2, acceptedEpoch: 0, currentEpoch: 0, lastProcessedZxid: 0), committedLog: [])
        _ = leader.receive(.start)
        _ = leader.receive(.packet(from: 1, QuorumPacket(.followerInfo, zxid: 0, data: LearnerInfo(serverId: 1, configVersion: 0).bytes)))
        let create = LearnerRequest(sessionId: 5, cxid: 4, type: OpCode.create.rawValue, body: [1, 2], authInfo: [])
        let early = leader.receive(.packet(from: 1, create.packet))
        #expect(early == [.closeLearner(1, reason: "it forwarded a request before it was synchronized")],
                "the request is not dropped silently: the learner's connection ends, so its client does not wait for ever")
    }

    /// A learner behind the committed log gets a DIFF from the leader's transaction log when
    /// the reader has the gap, and a SNAP when it does not.
    @Test func aLearnerBehindTheCommittedLogGetsADiffFromTheTransactionLog() {
        func proposal(_ counter: Int64) -> Learner.Proposal {
            Learner.Proposal(header: TxnHeader(clientId: 5, cxid: Int32(counter), zxid: 1 << 32 | counter, time: 1,
                                               type: OpCode.delete.rawValue), txn: .delete(path: "/x\(counter)"), digest: nil)
        }
        func leader() -> LeaderRole {
            LeaderRole(verifier: QuorumVerifier(voters: [1, 2, 3]),
                       leader: .init(myid: 2, acceptedEpoch: 1, currentEpoch: 1, lastProcessedZxid: 1 << 32 | 20),
                       committedLog: (11...20).map(proposal), readsTxnLog: true)
        }
        func sync(_ role: inout LeaderRole, log: [Learner.Proposal]?) -> [LeaderRole.Action] {
            _ = role.receive(.start)
            _ = role.receive(.packet(from: 1, QuorumPacket(.followerInfo, zxid: 1 << 32, data: LearnerInfo(serverId: 1, configVersion: 0).bytes)))
            let asked = role.receive(.packet(from: 1, QuorumPacket(.ackEpoch, zxid: 1 << 32 | 3, data: [0, 0, 0, 1])))
            #expect(asked.contains(.readTxnLog(for: 1, after: 1 << 32 | 3, upTo: 1 << 32 | 20)))
            return role.receive(.txnLogRead(for: 1, after: 1 << 32 | 3, log))
        }
        var withLog = leader()
        let diff = sync(&withLog, log: (3...15).map(proposal))
        #expect(diff.contains(.send(to: 1, QuorumPacket(.diff, zxid: 1 << 32 | 20))))
        let proposed = diff.compactMap { if case .send(to: 1, let packet) = $0, packet.kind == .proposal { return packet.zxid } else { return nil } }
        #expect(proposed == (4...20).map { 1 << 32 | $0 }, "the log's 4-15, then the committed log's 16-20, each once")

        var withoutLog = leader()
        #expect(sync(&withoutLog, log: nil).contains(.sendSnapshot(to: 1, zxid: 1 << 32 | 20)))
    }

    /// A read for a learner's earlier connection (it left and came back with another last
    /// zxid while the log was read) is not taken for the new one.
    @Test func aTxnLogReadForAnEarlierConnectionIsIgnored() {
        func proposal(_ counter: Int64) -> Learner.Proposal {
            Learner.Proposal(header: TxnHeader(clientId: 5, cxid: Int32(counter), zxid: 1 << 32 | counter, time: 1,
                                               type: OpCode.delete.rawValue), txn: .delete(path: "/x\(counter)"), digest: nil)
        }
        var role = LeaderRole(verifier: QuorumVerifier(voters: [1, 2, 3]),
                              leader: .init(myid: 2, acceptedEpoch: 1, currentEpoch: 1, lastProcessedZxid: 1 << 32 | 20),
                              committedLog: (11...20).map(proposal), readsTxnLog: true)
        let info = QuorumPacket(.followerInfo, zxid: 1 << 32, data: LearnerInfo(serverId: 1, configVersion: 0).bytes)
        _ = role.receive(.start)
        _ = role.receive(.packet(from: 1, info))
        let first = role.receive(.packet(from: 1, QuorumPacket(.ackEpoch, zxid: 1 << 32 | 3, data: [0, 0, 0, 1])))
        #expect(first.contains(.readTxnLog(for: 1, after: 1 << 32 | 3, upTo: 1 << 32 | 20)))
        _ = role.receive(.learnerLost(1))
        _ = role.receive(.packet(from: 1, info))
        let second = role.receive(.packet(from: 1, QuorumPacket(.ackEpoch, zxid: 1 << 32 | 5, data: [0, 0, 0, 1])))
        #expect(second.contains(.readTxnLog(for: 1, after: 1 << 32 | 5, upTo: 1 << 32 | 20)))
        #expect(role.receive(.txnLogRead(for: 1, after: 1 << 32 | 3, (3...15).map(proposal))).isEmpty)
        let diff = role.receive(.txnLogRead(for: 1, after: 1 << 32 | 5, (5...15).map(proposal)))
        let proposed = diff.compactMap { if case .send(to: 1, let packet) = $0, packet.kind == .proposal { return packet.zxid } else { return nil } }
        #expect(proposed == (6...20).map { 1 << 32 | $0 })
    }

    @Test func aLearnerAheadOfTheLeaderIsClosed() {
        var leader = LeaderRole(verifier: QuorumVerifier(voters: [1, 2, 3]),
                                leader: .init(myid: 2, acceptedEpoch: 1, currentEpoch: 1, lastProcessedZxid: 1 << 32 | 4), committedLog: [])
        _ = leader.receive(.start)
        _ = leader.receive(.packet(from: 1, QuorumPacket(.followerInfo, zxid: 1 << 32, data: LearnerInfo(serverId: 1, configVersion: 0).bytes)))
        let ahead = leader.receive(.packet(from: 1, QuorumPacket(.ackEpoch, zxid: 1 << 32 | 9, data: [0, 0, 0, 1])))
        #expect(ahead.contains { if case .closeLearner(1, _) = $0 { return true } else { return false } })
        #expect(leader.learnerCount == 0)
    }
}

/// Broadcast to followers and observers, and the requests learners send the leader.
struct LeaderRoleLearnerTests {
    var leader = LeaderRole(verifier: QuorumVerifier(voters: [1, 2], observers: [3]),
                            leader: .init(myid: 2, acceptedEpoch: 0, currentEpoch: 0, lastProcessedZxid: 0), committedLog: [],
                            configText: "server.1=a:1:2:participant\nversion=0")

    init() {
        _ = leader.receive(.start)
        for (sid, kind) in [(Int64(1), QuorumPacket.Kind.followerInfo), (3, .observerInfo)] {
            _ = leader.receive(.packet(from: sid, QuorumPacket(kind, zxid: 0, data: LearnerInfo(serverId: sid, configVersion: 0).bytes)))
        }
        let sync = leader.receive(.packet(from: 1, QuorumPacket(.ackEpoch, zxid: 0, data: [0, 0, 0, 0])))
        #expect(sync.contains(.send(to: 1, QuorumPacket(.newLeader, zxid: 1 << 32, data: Array("server.1=a:1:2:participant\nversion=0".utf8)))),
                "NEWLEADER carries the configuration text")
        _ = leader.receive(.packet(from: 3, QuorumPacket(.ackEpoch, zxid: 0, data: [0, 0, 0, 0])))
        _ = leader.receive(.packet(from: 1, QuorumPacket(.ack, zxid: 1 << 32)))
        _ = leader.receive(.packet(from: 3, QuorumPacket(.ack, zxid: 1 << 32)))
    }

    func proposal(_ zxid: Int64) -> (TxnHeader, Txn) {
        (TxnHeader(clientId: 5, cxid: 1, zxid: zxid, time: 1, type: OpCode.delete.rawValue), .delete(path: "/x"))
    }

    @Test mutating func observersGetInformOnCommitAndNeverProposals() {
        #expect(leader.isEstablished && leader.nextZxid == (1 << 32) + 1)
        let (header, txn) = proposal(leader.nextZxid)
        let proposed = leader.receive(.propose(header, txn))
        let bytes = Learner.Proposal(header: header, txn: txn, digest: nil).bytes
        #expect(proposed.contains(.send(to: 1, QuorumPacket(.proposal, zxid: header.zxid, data: bytes))))
        #expect(!proposed.contains { if case .send(to: 3, _) = $0 { return true } else { return false } })
        _ = leader.receive(.durable(upTo: header.zxid))
        let committed = leader.receive(.packet(from: 1, QuorumPacket(.ack, zxid: header.zxid)))
        #expect(committed.contains(.commit(header.zxid)))
        #expect(committed.contains(.send(to: 1, QuorumPacket(.commit, zxid: header.zxid))))
        #expect(committed.contains(.send(to: 3, QuorumPacket(.inform, zxid: header.zxid, data: bytes))))
    }

    static func closesFollower(_ actions: [LeaderRole.Action], _ sid: Int64) -> Bool {
        actions.contains { if case .closeLearner(sid, _) = $0 { return true } else { return false } }
    }

    /// A follower that answers every PING but never acknowledges a proposal is dropped once
    /// the proposal is syncLimit ticks old (`SyncLimitCheck`); one that acknowledges is kept.
    @Test mutating func aFollowerThatDoesNotAcknowledgeWithinSyncLimitIsClosed() {
        let (header, txn) = proposal(leader.nextZxid)
        _ = leader.receive(.propose(header, txn))
        for halfTick in 1...10 {
            let actions = leader.receive(.halfTick)
            #expect(!Self.closesFollower(actions, 1), "half tick \(halfTick) is within syncLimit (5 ticks)")
            _ = leader.receive(.packet(from: 1, QuorumPacket(.ping, zxid: header.zxid, data: [])))
            _ = leader.receive(.packet(from: 3, QuorumPacket(.ping, zxid: header.zxid, data: [])))
        }
        let late = leader.receive(.halfTick)
        #expect(Self.closesFollower(late, 1) && !Self.closesFollower(late, 3), "the observer acknowledges nothing and is kept")
        #expect(leader.learnerCount == 1)
    }

    @Test mutating func aFollowerThatAcknowledgesIsKept() {
        for _ in 0..<3 {
            let (header, txn) = proposal(leader.nextZxid)
            _ = leader.receive(.propose(header, txn))
            _ = leader.receive(.durable(upTo: header.zxid))
            for _ in 0..<8 {
                #expect(!Self.closesFollower(leader.receive(.halfTick), 1))
                _ = leader.receive(.packet(from: 1, QuorumPacket(.ping, zxid: header.zxid, data: [])))
                _ = leader.receive(.packet(from: 3, QuorumPacket(.ping, zxid: header.zxid, data: [])))
            }
            _ = leader.receive(.packet(from: 1, QuorumPacket(.ack, zxid: header.zxid)))
        }
        for _ in 0..<30 {
            #expect(!Self.closesFollower(leader.receive(.halfTick), 1))
            _ = leader.receive(.packet(from: 1, QuorumPacket(.ping, zxid: 0, data: [])))
            _ = leader.receive(.packet(from: 3, QuorumPacket(.ping, zxid: 0, data: [])))
        }
    }

    @Test mutating func aProposalOutOfOrderStepsDown() {
        let (header, txn) = proposal(leader.nextZxid + 1)
        #expect(leader.receive(.propose(header, txn)).contains { if case .fail = $0 { return true } else { return false } })
    }

    @Test mutating func syncIsAnsweredOnceWhatWasProposedBeforeItCommitted() {
        let sync = LearnerRequest(sessionId: 5, cxid: 2, type: OpCode.sync.rawValue, body: [], authInfo: []).packet
        #expect(leader.receive(.packet(from: 1, sync)) == [.send(to: 1, QuorumPacket(.sync, zxid: 0))], "nothing outstanding: at once")
        let (header, txn) = proposal(leader.nextZxid)
        _ = leader.receive(.propose(header, txn))
        #expect(leader.receive(.packet(from: 3, sync)).isEmpty, "waits for 0x100000001")
        _ = leader.receive(.durable(upTo: header.zxid))
        let committed = leader.receive(.packet(from: 1, QuorumPacket(.ack, zxid: header.zxid)))
        #expect(committed.last == .send(to: 3, QuorumPacket(.sync, zxid: 0)))
    }

    @Test mutating func requestsAndRevalidationsGoToTheServer() {
        let create = LearnerRequest(sessionId: 5, cxid: 4, type: OpCode.create.rawValue, body: [1, 2], authInfo: [])
        #expect(leader.receive(.packet(from: 1, create.packet)) == [.request(from: 1, create)])
        #expect(leader.receive(.packet(from: 3, Revalidation.request(sessionId: 5, timeout: 4_000)))
                == [.revalidate(from: 3, session: 5, timeout: 4_000)])
    }
}
