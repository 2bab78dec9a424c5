import Configuration
import Testing

/// The files reconfig leaves beside zoo.cfg, as ZooKeeper's `writeDynamicConfig` and
/// `editStaticConfig` write them.
struct DynamicConfigFileTests {
    static let members = try! Membership(parsing: """
        server.10=127.0.0.5:2888:3888:observer;2181
        server.2=127.0.0.3:2888:3888:participant;127.0.0.3:2181
        server.1=127.0.0.2:2888:3888:participant;0.0.0.0:2181
        version=100000003
        """)

    @Test func theDynamicFileHoldsTheSortedServerLinesAndTheNextFileTheVersionToo() {
        #expect(DynamicConfigFile.path(forConfig: "/etc/zk/zoo.cfg", version: 0x1_0000_0003) == "/etc/zk/zoo.cfg.dynamic.100000003")
        #expect(DynamicConfigFile.nextPath(forConfig: "/etc/zk/zoo.cfg") == "/etc/zk/zoo.cfg.dynamic.next")
        #expect(DynamicConfigFile.text(Self.members, keepingVersion: false) == """
            server.10=127.0.0.5:2888:3888:observer;0.0.0.0:2181
            server.1=127.0.0.2:2888:3888:participant;0.0.0.0:2181
            server.2=127.0.0.3:2888:3888:participant;127.0.0.3:2181
            """, "sorted as text ('0' before '='), as ZooKeeper sorts them; no newline at the end")
        #expect(DynamicConfigFile.text(Self.members, keepingVersion: true).hasSuffix("\nversion=100000003"))
    }

    @Test func zooCfgLosesItsMembershipLinesAndPointsAtTheDynamicFile() {
        let text = """
            # an ensemble
            tickTime=2000
            dataDir=/var/lib/zk
            clientPort=2181
            clientPortAddress=127.0.0.2
            server.1=127.0.0.2:2888:3888
            server.2=127.0.0.3:2888:3888
            peerType=participant
            dynamicConfigFile=/old
            reconfigEnabled=true

            """
        let kept = DynamicConfigFile.editedStaticConfig(text, dynamicFile: "/etc/zk/zoo.cfg.dynamic.100000000", erasingClientAddress: false)
        #expect(kept == """
            # an ensemble
            tickTime=2000
            dataDir=/var/lib/zk
            clientPort=2181
            clientPortAddress=127.0.0.2
            reconfigEnabled=true
            dynamicConfigFile=/etc/zk/zoo.cfg.dynamic.100000000

            """)
        let erased = DynamicConfigFile.editedStaticConfig(text, dynamicFile: "/d", erasingClientAddress: true)
        #expect(!erased.contains("clientPort") && erased.hasSuffix("dynamicConfigFile=/d\n"),
                "the client address is the dynamic file's once this server's line has one")
    }

    @Test func theClientPortComesFromThisServersLineWhenZooCfgHasNone() throws {
        let files = ["/data/myid": "2", "/cfg/zoo.cfg.dynamic.100000000": """
            server.1=127.0.0.2:2888:3888:participant;0.0.0.0:2181
            server.2=127.0.0.3:2888:3888:participant;127.0.0.3:2182
            server.3=127.0.0.4:2888:3888:participant;2183
            """]
        let (config, _) = try ZooConfigParser.parse("dataDir=/data\ndynamicConfigFile=/cfg/zoo.cfg.dynamic.100000000\n",
                                                    readFile: { files[$0] })
        #expect(config.clientPort == 2182 && config.clientPortAddress == "127.0.0.3")
        #expect(config.configVersion == 0x1_0000_0000)
        let (explicit, _) = try ZooConfigParser.parse("dataDir=/data\nclientPort=2999\ndynamicConfigFile=/cfg/zoo.cfg.dynamic.100000000\n",
                                                      readFile: { files[$0] })
        #expect(explicit.clientPort == 2999, "zoo.cfg's own clientPort wins")
    }
}
