import Configuration
import Testing

struct ConfigurationCheckTests {
    @Test func everyBadLineIsNamed() {
        let check = ConfigurationCheck("""
            tickTime=two
            dataDir=/tmp/x
            clientPort=99999
            syncLimit=5
            server.1=host-without-ports
            """, file: "zoo.cfg", readFile: { _ in nil })
        #expect(check.problems.map(\.line) == [1, 3, 5])
        #expect(check.problems.allSatisfy { $0.file == "zoo.cfg" })
        #expect(check.configuration == nil)
        #expect(check.report.hasSuffix("3 problems\n"))
        #expect(check.report.contains("zoo.cfg:1: tickTime=two"))
    }

    @Test func aGoodFileIsReadAsTheServerReadsIt() {
        let check = ConfigurationCheck("""
            tickTime=2000
            dataDir=/data
            server.1=10.0.0.1:2888:3888;2181
            server.2=10.0.0.2:2888:3888;2181
            server.3=10.0.0.3:2888:3888:observer;2181
            """, file: "zoo.cfg", readFile: { $0 == "/data/myid" ? "2\n" : nil })
        #expect(check.problems.isEmpty)
        #expect(check.configuration?.myid == 2)
        // Two voters: ZooKeeper's warning that no failure is tolerated.
        #expect(check.warnings.contains { $0.contains("no server failure will be tolerated") })
        #expect(check.report.hasSuffix("OK: an ensemble member (server.2 of 2 voters, 1 observers)\n"))
    }

    @Test func aProblemOutsideTheFileEndsTheCheck() {
        let check = ConfigurationCheck("""
            dataDir=/data
            bogusLine
            server.1=10.0.0.1:2888:3888
            server.2=10.0.0.2:2888:3888
            server.3=10.0.0.3:2888:3888
            """, file: "zoo.cfg", readFile: { _ in nil })
        // The bad line, then the missing myid (a problem of the data directory, not a line).
        #expect(check.problems.count == 2)
        #expect(check.problems.first?.line == 2)
        #expect(check.problems.last?.message.contains("myid") == true)
    }
}
