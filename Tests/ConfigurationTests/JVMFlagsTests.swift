import Configuration
import Testing

struct JVMFlagsTests {
    @Test func systemPropertiesComeFromJVMFlagsAndServerJVMFlags() {
        let properties = JVMFlags.properties([
            "JVMFLAGS": "-Xmx1g -Dreadonlymode.enabled=false -Dzookeeper.x=1",
            "SERVER_JVMFLAGS": "-Dreadonlymode.enabled=true  -Djava.security.auth.login.config=/etc/jaas.conf -Dflag",
        ])
        #expect(properties["readonlymode.enabled"] == "true", "SERVER_JVMFLAGS comes after JVMFLAGS")
        #expect(properties["java.security.auth.login.config"] == "/etc/jaas.conf" && properties["zookeeper.x"] == "1")
        #expect(properties["flag"] == "" && properties["Xmx1g"] == nil)
    }

    @Test func readOnlyModeIsASystemPropertyAsInZooKeeper() throws {
        var configuration = ServerConfiguration.embeddedDefault
        try configuration.apply(systemProperties: ["readonlymode.enabled": "TRUE"])
        #expect(configuration.readOnlyModeEnabled)
        try configuration.apply(systemProperties: ["readonlymode.enabled": "yes"])
        #expect(!configuration.readOnlyModeEnabled, "Boolean.getBoolean takes only true")
    }

    /// The election port's socket timeout (and so the quorum SASL limit there): syncLimit ticks
    /// unless `zookeeper.quorumCnxnTimeoutMs` says otherwise, in zoo.cfg or as a property.
    @Test func quorumConnectionTimeoutDefaultsToSyncLimitTicks() throws {
        var (configuration, _) = try ZooConfigParser.parse("tickTime=400\nsyncLimit=3\n", readFile: { _ in nil })
        #expect(configuration.electionConnectionTimeoutMs == 1200)
        try configuration.apply(systemProperties: ["zookeeper.quorumCnxnTimeoutMs": "750"])
        #expect(configuration.electionConnectionTimeoutMs == 750)
        try configuration.apply(systemProperties: ["zookeeper.quorumCnxnTimeoutMs": "-5"])
        #expect(configuration.electionConnectionTimeoutMs == 1200, "Integer.getInteger of a non-positive value leaves the default")
        let (fromFile, _) = try ZooConfigParser.parse("quorumCnxnTimeoutMs=900\n", readFile: { _ in nil })
        #expect(fromFile.electionConnectionTimeoutMs == 900)
        #expect(throws: ConfigurationError.self) { try ZooConfigParser.parse("quorumCnxnTimeoutMs=soon\n", readFile: { _ in nil }) }
    }
}
