import Configuration
import Testing

struct ZooConfigParserTests {
    func parse(_ text: String) throws -> (ServerConfiguration, [String]) {
        try ZooConfigParser.parse(text, file: "zoo.cfg", readFile: { _ in nil })
    }

    @Test func readsZooKeepersSampleConfig() throws {
        let (config, warnings) = try parse("""
            # The number of milliseconds of each tick
            tickTime=2000
            initLimit=10
            syncLimit=5
            dataDir=/var/lib/zookeeper
            clientPort=2181
            maxClientCnxns=60
            autopurge.snapRetainCount=3
            metricsProvider.httpPort=7001
            admin.serverPort=9090
            admin.idleTimeout=30000
            4lw.commands.whitelist=ruok, srvr ,mntr
            server.1=zk1:2888:3888;2181
            extendedTypesEnabled=true
            """)
        #expect(config.tickTime == 2000 && config.dataDir == "/var/lib/zookeeper" && config.clientPort == 2181)
        #expect(config.clientPortAddress == nil)
        #expect(config.fourLetterWords == ["ruok", "srvr", "mntr"])
        #expect(config.servers[1] == ServerSpec(id: 1, host: "zk1", quorumPort: 2888, electionPort: 3888,
                                                role: "participant", clientAddress: nil, clientPort: 2181))
        #expect(config.extendedTypesEnabled)
        #expect(warnings == ["zoo.cfg:11: admin.idleTimeout is accepted but not acted on yet"])
        #expect(config.adminPort == 9090 && config.adminEnabled)
        #expect(config.metricsPort == 7001)
        #expect(config.snapRetainCount == 3 && config.forceSync && config.snapCount == 100_000)
    }

    @Test func malformedValuesNameTheLine() {
        #expect { try parse("tickTime=2000\nclientPort=abc\n") } throws: { error in
            (error as? ConfigurationError)?.description == "zoo.cfg:2: clientPort=abc: expected a whole number ≥ 0"
        }
        #expect(throws: ConfigurationError.self) { try parse("server.1=host:notaport:3888") }
        #expect(throws: ConfigurationError.self) { try parse("extendedTypesEnabled=maybe") }
        #expect(throws: ConfigurationError.self) { try parse("minSessionTimeout=5000\nmaxSessionTimeout=4000") }
        #expect(throws: ConfigurationError.self) { try parse("justakey") }
    }

    @Test func myidIsReadFromDataDir() throws {
        let (config, _) = try ZooConfigParser.parse("dataDir=/data", readFile: { $0 == "/data/myid" ? "3\n" : nil })
        #expect(config.myid == 3)
        #expect(throws: ConfigurationError.self) {
            try ZooConfigParser.parse("dataDir=/data", readFile: { _ in "three" })
        }
    }

    @Test func embeddedDefaultIsLoopback() {
        let config = ServerConfiguration.embeddedDefault
        #expect(config.clientPortAddress == "127.0.0.1" && config.clientPort == 2181 && config.dataDir == "./aviary-data")
    }
}
