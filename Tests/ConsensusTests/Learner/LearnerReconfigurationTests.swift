import Consensus
import Jute
import NIOCore
import Testing
import ZooKeeperProtocol

/// A learner's side of a reconfiguration (`Follower.processPacket`, `Observer.processPacket`,
/// `Learner.syncWithLeader`): the last-seen configuration from a reconfig proposal, the
/// configuration in force after COMMITANDACTIVATE, INFORMANDACTIVATE or NEWLEADER.
struct LearnerReconfigurationTests {
    static let config = Array("server.1=a:1:2:participant\nserver.2=b:1:2:participant\nversion=100000003".utf8)

    static func reconfigBytes(_ zxid: Int64) -> [UInt8] {
        var writer = JuteWriter()
        writer.write(TxnHeader(clientId: 1, cxid: 1, zxid: zxid, time: 1, type: OpCode.reconfig.rawValue))
        Txn.setData(path: "/zookeeper/config", data: config, version: -1).write(to: &writer)
        return Array(writer.buffer.readableBytesView)
    }

    /// A learner that has synchronized with the leader of epoch 1 by an empty DIFF.
    static func synchronized(observer: Bool = false, newLeaderConfig: [UInt8]? = nil) -> (Learner, [Learner.Action]) {
        var learner = Learner(configuration: .init(myid: 2, isObserver: observer), disk: .init(acceptedEpoch: 0, currentEpoch: 0, lastLoggedZxid: 0))
        _ = learner.receive(.connected)
        _ = learner.receive(.packet(QuorumPacket(.leaderInfo, zxid: 1 << 32, data: [0, 1, 0, 0])))
        _ = learner.receive(.packet(QuorumPacket(.diff, zxid: 0)))
        _ = learner.receive(.packet(QuorumPacket(.newLeader, zxid: 1 << 32, data: newLeaderConfig)))
        let upToDate = learner.receive(.packet(QuorumPacket(.upToDate, zxid: -1)))
        #expect(learner.phase == .broadcast)
        return (learner, upToDate)
    }

    @Test func aFollowerActivatesTheConfigurationItsCommitAndActivateNames() {
        var (learner, _) = Self.synchronized()
        let zxid: Int64 = 1 << 32 | 3
        let proposed = learner.receive(.packet(QuorumPacket(.proposal, zxid: zxid, data: Self.reconfigBytes(zxid))))
        #expect(proposed.first == .sawConfiguration(Self.config), "a reconfig proposal is the last seen configuration")
        _ = learner.receive(.durable(upTo: zxid))
        let committed = learner.receive(.packet(QuorumPacket(.commitAndActivate, zxid: zxid, data: [0, 0, 0, 0, 0, 0, 0, 2])))
        #expect(committed == [.commit(zxid), .activate(config: Self.config, designatedLeader: 2, zxid: zxid)])
        let missing = learner.receive(.packet(QuorumPacket(.commitAndActivate, zxid: zxid + 1, data: [0, 0, 0, 1])))
        #expect(missing.last.map { if case .fail = $0 { return true } else { return false } } == true,
                "a COMMITANDACTIVATE without its designated leader ends the link")
    }

    @Test func anObserverActivatesOnInformAndActivate() {
        var (learner, _) = Self.synchronized(observer: true)
        let zxid: Int64 = 1 << 32 | 1
        let informed = learner.receive(.packet(QuorumPacket(.informAndActivate, zxid: zxid,
                                                            data: [0, 0, 0, 0, 0, 0, 0, 1] + Self.reconfigBytes(zxid))))
        #expect(informed.contains(.sawConfiguration(Self.config)))
        #expect(Array(informed.suffix(2)) == [.commit(zxid), .activate(config: Self.config, designatedLeader: 1, zxid: zxid)])
    }

    @Test func theConfigurationNewLeaderCarriesIsActivatedAtUpToDate() {
        let (_, upToDate) = Self.synchronized(newLeaderConfig: Self.config)
        #expect(upToDate.contains(.activate(config: Self.config, designatedLeader: nil, zxid: nil)))
        let activation = upToDate.firstIndex(of: .activate(config: Self.config, designatedLeader: nil, zxid: nil))
        let serving = upToDate.firstIndex(of: .serving(epoch: 1))
        #expect(activation != nil && serving != nil && activation! < serving!, "in force before clients are served")
    }

    @Test func aCommitAndActivateBetweenNewLeaderAndUpToDateActivatesWithItsCommit() {
        var learner = Learner(configuration: .init(myid: 2), disk: .init(acceptedEpoch: 0, currentEpoch: 0, lastLoggedZxid: 0))
        _ = learner.receive(.connected)
        _ = learner.receive(.packet(QuorumPacket(.leaderInfo, zxid: 1 << 32, data: [0, 1, 0, 0])))
        _ = learner.receive(.packet(QuorumPacket(.diff, zxid: 0)))
        let zxid: Int64 = 1 << 32 | 1
        _ = learner.receive(.packet(QuorumPacket(.proposal, zxid: zxid, data: Self.reconfigBytes(zxid))))
        _ = learner.receive(.packet(QuorumPacket(.newLeader, zxid: 1 << 32)))
        _ = learner.receive(.durable(upTo: zxid))
        #expect(learner.receive(.packet(QuorumPacket(.commitAndActivate, zxid: zxid, data: [0, 0, 0, 0, 0, 0, 0, 3]))).isEmpty,
                "recorded until UPTODATE")
        let upToDate = learner.receive(.packet(QuorumPacket(.upToDate, zxid: -1)))
        #expect(upToDate.contains(.commit(zxid)))
        #expect(upToDate.contains(.activate(config: Self.config, designatedLeader: 3, zxid: zxid)))
    }
}
