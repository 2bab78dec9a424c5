import Operations
import ServerCore
import Testing

struct JSONValueTests {
    @Test func rendersLikeZooKeepersAdminServer() {
        let value = JSONValue.object([("a", .int(1)), ("b", .array([.string("x"), .null])), ("c", .object([])),
                                      ("d", .array([])), ("e", .bool(false)), ("f", .double(0.5))])
        #expect(value.rendered() == "{\n  \"a\" : 1,\n  \"b\" : [ \"x\", null ],\n  \"c\" : { },\n  \"d\" : [ ],\n  \"e\" : false,\n  \"f\" : 0.5\n}")
        #expect(value.compact == "{\"a\":1,\"b\":[\"x\",null],\"c\":{},\"d\":[],\"e\":false,\"f\":0.5}")
    }

    @Test func escapesStrings() {
        #expect(JSONValue.string("q\"\\\n\u{1}").rendered() == "\"q\\\"\\\\\\n\\u0001\"")
    }

    @Test func adminCommandAliasesResolve() {
        #expect(AdminCommands.primary("srvr") == "server_stats")
        #expect(AdminCommands.primary("wchp") == "watches_by_path")
        #expect(AdminCommands.primary("nosuch") == nil)
        #expect(AdminCommands.names.count == 27, "ZooKeeper's 26 and Aviary's peers")
    }

    @Test func statusParsesSrvr() {
        let srvr = "Zookeeper version: 3.8.0\nLatency min/avg/max: 0/1.5/9\nReceived: 10\nSent: 11\nConnections: 2\nOutstanding: 0\nZxid: 0x1f\nMode: standalone\nNode count: 7\n"
        let statuses = ServerStatus.withLag([ServerStatus(address: "a:1", srvr: srvr), ServerStatus(address: "b:2", error: "refused")])
        #expect(statuses[0].zxid == 0x1F && statuses[0].mode == "standalone" && statuses[0].znodes == 7 && statuses[0].lag == 0)
        #expect(!statuses[1].reachable && statuses[1].lag == nil)
        #expect(ServerStatus(address: "c:3", srvr: "srvr is not executed because it is not in the whitelist.\n").reachable == false)
    }
}

struct LatencySamplesTests {
    @Test func quantilesOfRecentSamples() {
        let samples = LatencySamples(recent: Array(1...100), count: 100, sum: 5050)
        #expect(samples.quantile(0.5) == 50 && samples.quantile(0.99) == 99 && samples.quantile(1) == 100)
        #expect(LatencySamples().quantile(0.5) == 0)
    }
}
