import Consensus
import Testing

struct BroadcastTests {
    static let five = QuorumVerifier(voters: [1, 2, 3, 4, 5])

    @Test func proposalsCommitInOrderOnceAQuorumAcked() throws {
        var broadcast = Broadcast(verifier: Self.five, lastCommitted: 0x1_0000_0000)
        for counter in 1...3 { try broadcast.propose(0x1_0000_0000 | Int64(counter)) }
        // The second proposal reaches a quorum first: it waits for the first.
        for sid: Int64 in [1, 2, 3] { #expect(broadcast.acknowledge(0x1_0000_0002, from: sid).isEmpty) }
        #expect(broadcast.acknowledge(0x1_0000_0001, from: 1).isEmpty)
        #expect(broadcast.acknowledge(0x1_0000_0001, from: 4).isEmpty)
        #expect(broadcast.acknowledge(0x1_0000_0001, from: 5) == [0x1_0000_0001, 0x1_0000_0002])
        #expect(broadcast.acknowledge(0x1_0000_0001, from: 2).isEmpty, "a late ACK changes nothing")
        #expect(broadcast.oldestOutstanding == 0x1_0000_0003 && broadcast.lastCommitted == 0x1_0000_0002)
    }

    @Test func observersAndDuplicatesDoNotMakeAQuorum() throws {
        var broadcast = Broadcast(verifier: QuorumVerifier(voters: [1, 2, 3], observers: [4, 5]), lastCommitted: 0)
        try broadcast.propose(1)
        #expect(broadcast.acknowledge(1, from: 1).isEmpty)
        #expect(broadcast.acknowledge(1, from: 1).isEmpty)
        #expect(broadcast.acknowledge(1, from: 4).isEmpty && broadcast.acknowledge(1, from: 5).isEmpty)
        #expect(broadcast.acknowledge(1, from: 3) == [1])
    }

    @Test func aPendingReconfigurationNeedsAQuorumOfBoth() throws {
        var broadcast = Broadcast(verifier: QuorumVerifier(voters: [1, 2, 3]), nextVerifier: QuorumVerifier(voters: [3, 4, 5], version: 1),
                                  lastCommitted: 0)
        try broadcast.propose(1)
        #expect(broadcast.acknowledge(1, from: 1).isEmpty && broadcast.acknowledge(1, from: 2).isEmpty, "old quorum only")
        #expect(broadcast.acknowledge(1, from: 4).isEmpty)
        #expect(broadcast.acknowledge(1, from: 5) == [1])
    }

    @Test func zxidsGrowAndTheCounterNeverWraps() throws {
        var broadcast = Broadcast(verifier: Self.five, lastCommitted: 0x1_0000_0005)
        #expect(throws: Broadcast.ProposalError.notIncreasing(0x1_0000_0005)) { try broadcast.propose(0x1_0000_0005) }
        #expect(throws: Broadcast.ProposalError.counterExhausted(0x1_FFFF_FFFF)) { try broadcast.propose(0x1_FFFF_FFFF) }
    }
}
