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
}
