import Configuration
import Operations
import Testing

/// `conf` answers read back, and where members disagree (`aviary config show|diff`).
struct MemberConfigurationTests {
    /// A member's `conf` as Apache ZooKeeper 3.8 and Aviary print it.
    static func conf(id: Int, tickTime: Int = 2000, version: String = "100000000", third: String = "127.0.0.4:2888:3888:participant") -> String {
        "clientPort=2181\nsecureClientPort=-1\ndataDir=/data/\(id)/version-2\ndataDirSize=424\ndataLogDir=/data/\(id)/version-2\n"
            + "dataLogSize=424\ntickTime=\(tickTime)\nmaxClientCnxns=60\nminSessionTimeout=4000\nmaxSessionTimeout=40000\n"
            + "clientPortListenBacklog=-1\nserverId=\(id)\ninitLimit=10\nsyncLimit=5\nelectionAlg=3\nelectionPort=3888\n"
            + "quorumPort=2888\npeerType=0\nmembership: \nserver.1=127.0.0.2:2888:3888:participant\n"
            + "server.2=127.0.0.3:2888:3888:participant\nserver.3=\(third)\nversion=\(version)"
    }

    @Test func confIsReadBackWithItsMembership() throws {
        let parsed = try #require(MemberConfiguration(conf: Self.conf(id: 2)))
        #expect(parsed.value("tickTime") == "2000" && parsed.value("serverId") == "2" && parsed.values.count == 18)
        #expect(parsed.membership?.version == 0x1_0000_0000 && parsed.membership?.servers.count == 3)
        #expect(MemberConfiguration(conf: "conf is not executed because it is not in the whitelist.\n") == nil)
    }

    @Test func agreeingMembersHaveNoDifferences() {
        let members = (1...3).map { (id: Int64($0), configuration: MemberConfiguration(conf: Self.conf(id: $0))) }
        #expect(MemberConfiguration.differences(members).isEmpty, "ports, directories and ids are each member's own")
    }

    @Test func eachDisagreementIsOneLine() {
        let members: [(id: Int64, configuration: MemberConfiguration?)] = [
            (1, MemberConfiguration(conf: Self.conf(id: 1))),
            (2, MemberConfiguration(conf: Self.conf(id: 2, tickTime: 3000, version: "100000004", third: "127.0.0.4:2888:3888:observer"))),
            (3, nil),
        ]
        #expect(MemberConfiguration.differences(members) == [
            "server.3 did not answer conf (unreachable, not serving, or conf not in its 4lw.commands.whitelist)",
            "tickTime: server.1=2000, server.2=3000",
            "membership version: server.1=100000000, server.2=100000004",
            "server.3 in the membership: server.1 says 127.0.0.4:2888:3888:participant; server.2 says 127.0.0.4:2888:3888:observer",
        ])
        let table = MemberConfiguration.table(members)
        #expect(table.hasPrefix("SETTING") && table.contains("tickTime") && table.contains("server.3"))
    }
}
