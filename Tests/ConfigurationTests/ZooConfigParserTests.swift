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
            (error as? ConfigurationError)?.description == "zoo.cfg:2: clientPort=abc: expected a whole number from 0 to 65535"
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

    @Test func numbersThatWouldOverflowAreRefusedWithTheirLine() {
        let cases = [
            "aviary.log.maxfilesize=99999999999GB", "aviary.log.maxfilesize=9223372036854775807",
            "preAllocSize=9223372036854775807", "tickTime=9223372036854775807", "tickTime=2147483647",
            "autopurge.purgeInterval=9223372036854775807", "znode.container.checkIntervalMs=9223372036854775807",
            "snapCount=9223372036854775807", "globalOutstandingLimit=99999999999", "initLimit=9223372036854775807",
            "maxClientCnxns=-1", "clientPort=70000", "jute.maxbuffer=4294967296", "fsync.warningthresholdms=-5",
            "aviary.log.maxbackupindex=9223372036854775807", "maxSessionTimeout=9999999999",
        ]
        for line in cases {
            #expect(throws: ConfigurationError.self, "\(line)") { try parse("dataDir=/tmp/x\n\(line)\n") }
            do {
                _ = try parse("dataDir=/tmp/x\n\(line)\n")
            } catch {
                #expect((error as? ConfigurationError)?.line == 2, "\(line): \(error)")
            }
        }
        #expect(throws: Never.self) { try parse("aviary.log.maxfilesize=512GB\ntickTime=100000\npreAllocSize=1048576\n") }
    }
}
