@testable import Configuration
import Testing

struct MembershipTests {
    static let three = Membership(servers: [
        1: ServerSpec(id: 1, host: "127.0.0.2", quorumPort: 2888, electionPort: 3888, clientPort: 2181),
        2: ServerSpec(id: 2, host: "127.0.0.3", quorumPort: 2888, electionPort: 3888, clientAddress: "127.0.0.3", clientPort: 2181),
        3: ServerSpec(id: 3, host: "zk3", quorumPort: 2888, electionPort: 3888, role: "observer"),
    ], version: 0x1_0000_0000)

    /// What ZooKeeper 3.8's `QuorumMaj.toString` prints for the same members (and what zkCli's
    /// `config` shows): one line each in id order, a bare client port as `0.0.0.0`.
    @Test func textIsQuorumMajToString() {
        #expect(Self.three.text == """
            server.1=127.0.0.2:2888:3888:participant;0.0.0.0:2181
            server.2=127.0.0.3:2888:3888:participant;127.0.0.3:2181
            server.3=zk3:2888:3888:observer
            version=100000000
            """)
        let ipv6 = Membership(servers: [7: ServerSpec(id: 7, host: "::1", quorumPort: 1, electionPort: 2, clientAddress: "::1", clientPort: 3)], version: 0)
        #expect(ipv6.text == "server.7=[::1]:1:2:participant;[::1]:3\nversion=0")
        #expect(Membership(servers: [:], version: 5).text == "version=5")
    }

    @Test func textReadsBack() throws {
        let read = try Membership(parsing: Self.three.text)
        #expect(read.version == Self.three.version)
        #expect(read.servers[1]?.clientPort == 2181 && read.servers[1]?.clientAddress == "0.0.0.0")
        #expect(read.servers[2] == Self.three.servers[2])
        #expect(read.servers[3] == Self.three.servers[3])
        #expect(read.text == Self.three.text)
        #expect(throws: ConfigurationError.self) { try Membership(parsing: "server.1=host:1\nversion=0") }
        #expect(throws: ConfigurationError.self) { try Membership(parsing: "tickTime=2000") }
        #expect(throws: ConfigurationError.self) { try Membership(parsing: "version=xyz") }
    }

    @Test func incrementalJoinLeaveAndReplace() throws {
        let next = try Self.three.reconfigured(joining: "server.4=127.0.0.5:2888:3888:participant;2181, server.3=zk3:2888:3888;2181",
                                               leaving: "1", newMembers: nil, version: 0x1_0000_0005)
        #expect(next.version == 0x1_0000_0005)
        #expect(next.voters.map(\.id) == [2, 3, 4])
        #expect(next.servers[1] == nil)
        #expect(next.servers[3]?.role == "participant" && next.servers[3]?.clientPort == 2181)
        // Leaving only; an empty item is skipped as StringUtils.split skips it.
        let smaller = try next.reconfigured(joining: nil, leaving: "4,,", newMembers: nil, version: 9)
        #expect(smaller.voters.map(\.id) == [2, 3])
    }

    @Test func incrementalRefusals() {
        #expect(throws: ReconfigRefusal.badArguments("Wrong format of server string - each server should have 3 ports specified")) {
            try Self.three.reconfigured(joining: "server.4=127.0.0.5:2888:3888", leaving: nil, newMembers: nil, version: 1)
        }
        #expect(throws: ReconfigRefusal.badArguments("Wrong format of server string")) {
            try Self.three.reconfigured(joining: "server.4", leaving: nil, newMembers: nil, version: 1)
        }
        #expect(throws: ReconfigRefusal.badArguments("Reconfiguration failed")) {
            try Self.three.reconfigured(joining: "server.4=host:2888:2888;2181", leaving: nil, newMembers: nil, version: 1)
        }
        #expect(throws: ReconfigRefusal.marshallingError("For input string: \"x\"")) {
            try Self.three.reconfigured(joining: nil, leaving: "x", newMembers: nil, version: 1)
        }
        #expect(throws: ReconfigRefusal.badArguments("Reconfig failed - new configuration must include at least 2 followers")) {
            try Self.three.reconfigured(joining: nil, leaving: "2", newMembers: nil, version: 1)
        }
        // One voter is enough when standaloneEnabled is false.
        #expect((try? Self.three.reconfigured(joining: nil, leaving: "2", newMembers: nil, version: 1, standaloneEnabled: false))?.voters.count == 1)
    }

    @Test func duplicateAddressesAreRefusedExceptOnLoopback() {
        let hosts = Membership(servers: [
            1: ServerSpec(id: 1, host: "10.0.0.1", quorumPort: 2888, electionPort: 3888, clientPort: 2181),
            2: ServerSpec(id: 2, host: "10.0.0.2", quorumPort: 2888, electionPort: 3888, clientPort: 2181),
        ], version: 0)
        #expect(throws: ReconfigRefusal.self) {
            try hosts.reconfigured(joining: "server.3=10.0.0.1:3888:4888;2182", leaving: nil, newMembers: nil, version: 1)
        }
        // The same member's own addresses are not a conflict, nor are loopback ones.
        #expect((try? hosts.reconfigured(joining: "server.1=10.0.0.1:2888:3888;2182", leaving: nil, newMembers: nil, version: 1)) != nil)
        #expect((try? Self.three.reconfigured(joining: "server.4=127.0.0.2:2888:3888;2181", leaving: nil, newMembers: nil, version: 1)) != nil)
    }

    @Test func nonIncrementalReplacesTheMembership() throws {
        let next = try Self.three.reconfigured(joining: "ignored", leaving: "1",
                                               newMembers: "server.5=h5:1:2;2181,server.6=h6:1:2:participant;2181\nserver.7=h7:1:2:observer;2181",
                                               version: 3)
        #expect(next.servers.keys.sorted() == [5, 6, 7])
        #expect(next.voters.map(\.id) == [5, 6] && next.observers.map(\.id) == [7])
        #expect(throws: ReconfigRefusal.badArguments("Unrecognised parameter: tickTime")) {
            try Self.three.reconfigured(joining: nil, leaving: nil, newMembers: "server.5=h5:1:2;2181,tickTime=2000", version: 3)
        }
        #expect(throws: ReconfigRefusal.marshallingError("Observers w/o participants is an invalid configuration")) {
            try Self.three.reconfigured(joining: nil, leaving: nil, newMembers: "server.5=h5:1:2:observer;2181", version: 3)
        }
        #expect(throws: ReconfigRefusal.badArguments("Reconfig failed - new configuration must include at least 2 followers")) {
            try Self.three.reconfigured(joining: nil, leaving: nil, newMembers: "server.5=h5:1:2;2181", version: 3)
        }
    }

    @Test func propertiesLinesSplitAsJavaDoes() {
        func split(_ line: Substring) -> String? { Membership.property(line).map { "\($0.key)|\($0.value)" } }
        #expect(split("  server.1 = a:1:2 ") == "server.1|a:1:2")
        #expect(split("version:100") == "version|100")
        #expect(split("key value") == "key|value")
        #expect(split("# comment") == nil)
        #expect(split("   ") == nil)
    }
}
