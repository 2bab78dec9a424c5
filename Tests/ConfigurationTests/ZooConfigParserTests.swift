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
        #expect(warnings == ["zoo.cfg:11: admin.idleTimeout is accepted but not acted on yet",
                             "zoo.cfg: only one server listed and standaloneEnabled is true: running standalone, as ZooKeeper does"])
        #expect(config.adminPort == 9090 && config.adminEnabled)
        #expect(config.metricsPort == 7001)
        #expect(config.snapRetainCount == 3 && config.forceSync && config.snapCount == 100_000)
    }

    /// A serving follower gives up a silent leader after one tickTime (at least a second) by
    /// default, never later than syncLimit ticks; 0 keeps ZooKeeper's syncLimit alone.
    @Test func leaderSilenceTimeoutDefaultsToATickWithinSyncLimit() throws {
        #expect(try parse("tickTime=2000\nsyncLimit=5").0.effectiveLeaderSilenceTimeout == 2000)
        #expect(try parse("tickTime=200\nsyncLimit=10").0.effectiveLeaderSilenceTimeout == 1000)
        #expect(try parse("tickTime=200\nsyncLimit=2").0.effectiveLeaderSilenceTimeout == 400)
        #expect(try parse("tickTime=2000\nsyncLimit=5\nleaderSilenceTimeout=0").0.effectiveLeaderSilenceTimeout == 10_000)
        #expect(try parse("tickTime=2000\nsyncLimit=5\nleaderSilenceTimeout=3500").0.effectiveLeaderSilenceTimeout == 3500)
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

    func parse(_ text: String, files: [String: String]) throws -> (ServerConfiguration, [String]) {
        try ZooConfigParser.parse(text, file: "zoo.cfg", readFile: { files[$0] })
    }

    static let ensemble = """
        tickTime=2000
        initLimit=10
        syncLimit=5
        dataDir=/data
        clientPort=2181
        server.1=127.0.0.2:2888:3888;2181
        server.2=[::1]:2888:3888:participant;127.0.0.3:2181
        server.3=zk3.example:2888:3888
        server.4=127.0.0.5:2888:3888:observer
        """

    @Test func readsAnEnsemble() throws {
        let (config, warnings) = try parse(Self.ensemble, files: ["/data/myid": "2\n"])
        #expect(config.isDistributed && config.myid == 2)
        #expect(config.voters.map(\.id) == [1, 2, 3] && config.observers.map(\.id) == [4])
        #expect(config.servers[2] == ServerSpec(id: 2, host: "::1", quorumPort: 2888, electionPort: 3888, role: "participant",
                                                clientAddress: "127.0.0.3", clientPort: 2181))
        #expect(config.serverLines[3] == "zoo.cfg:8")
        #expect(!warnings.contains { $0.contains("not acted on") }, "\(warnings)")
    }

    @Test func contradictoryEnsemblesNameTheLine() {
        func failure(_ text: String, files: [String: String] = ["/data/myid": "1"]) -> ConfigurationError? {
            do { _ = try parse(text, files: files); return nil } catch { return error as? ConfigurationError }
        }
        let missing = failure(Self.ensemble, files: [:])
        #expect(missing?.file == "/data/myid" && missing?.message.contains("myid file is missing") == true)
        let unlisted = failure(Self.ensemble, files: ["/data/myid": "7"])
        #expect(unlisted?.message.contains("myid 7 is not among the servers listed") == true)
        let sharedPort = failure(Self.ensemble + "\nserver.5=127.0.0.2:3888:4888")
        #expect(sharedPort?.line == 10 && sharedPort?.message.contains("already server.1's election port") == true, "\(String(describing: sharedPort))")
        let samePorts = failure("dataDir=/data\nserver.1=h:2888:2888\nserver.2=i:2888:3888")
        #expect(samePorts?.line == 2)
        let twice = failure("dataDir=/data\nserver.1=h:2888:3888\nserver.1=i:2888:3888")
        #expect(twice?.line == 3)
        let onlyObservers = failure("dataDir=/data\nserver.1=h:2888:3888:observer")
        #expect(onlyObservers?.line == 2)
        #expect(failure("dataDir=/data\nserver.1=h:2888:3888:leader") != nil)
        #expect(failure("dataDir=/data\nelectionAlg=1") != nil)
    }

    @Test func oneServerIsStandaloneUnlessStandaloneIsOff() throws {
        let (single, _) = try parse("dataDir=/data\nserver.1=h:2888:3888", files: [:])
        #expect(!single.isDistributed)
        let (alone, _) = try parse("dataDir=/data\nstandaloneEnabled=false\nserver.1=h:2888:3888", files: ["/data/myid": "1"])
        #expect(alone.isDistributed, "an ensemble of one: never run as a standalone server")
    }

    @Test func readsTheDynamicConfigurationFile() throws {
        let text = "dataDir=/data\ndynamicConfigFile=/conf/zoo.cfg.dynamic.100000000\n"
        let dynamic = "server.1=127.0.0.2:2888:3888;2181\nserver.2=127.0.0.3:2888:3888;2181\nserver.3=127.0.0.4:2888:3888;2181\n"
        let (config, _) = try parse(text, files: ["/conf/zoo.cfg.dynamic.100000000": dynamic, "/data/myid": "3"])
        #expect(config.configVersion == 0x1_0000_0000 && config.voters.count == 3)
        #expect(config.serverLines[2] == "/conf/zoo.cfg.dynamic.100000000:2")
        #expect(throws: ConfigurationError.self) {
            try parse(text + "server.9=h:1:2\n", files: ["/conf/zoo.cfg.dynamic.100000000": dynamic, "/data/myid": "3"])
        }
        #expect(throws: ConfigurationError.self) {
            try parse(text, files: ["/conf/zoo.cfg.dynamic.100000000": dynamic + "version=5\n", "/data/myid": "3"])
        }
        #expect(throws: ConfigurationError.self) { try parse(text, files: ["/data/myid": "3"]) }
    }
}
