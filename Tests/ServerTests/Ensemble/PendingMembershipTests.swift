import Configuration
import Foundation
@testable import Server
import Testing

/// A reconfig that was proposed but not known to be committed when the server stopped is
/// read back from `zoo.cfg.dynamic.next` at start, as ZooKeeper's `QuorumPeerConfig` does.
struct PendingMembershipTests {
    @Test func theNextFileIsTheLastSeenConfigurationWhenNewer() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pending-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/zoo.cfg"
        var config = ServerConfiguration()
        config.reconfigEnabled = true
        config.filePath = file
        config.configVersion = 0x1_0000_0000
        #expect(QuorumPeer.pendingMembership(config) == nil, "no .next file")
        let next = try Membership(parsing: "server.1=127.0.0.2:2888:3888:participant\nserver.2=127.0.0.3:2888:3888:participant\nversion=100000005")
        try DynamicConfigFile.text(next, keepingVersion: true).write(toFile: DynamicConfigFile.nextPath(forConfig: file), atomically: true, encoding: .utf8)
        #expect(QuorumPeer.pendingMembership(config) == next)
        config.configVersion = 0x1_0000_0005
        #expect(QuorumPeer.pendingMembership(config) == nil, "not newer than the configuration in force")
        config.configVersion = 0x1_0000_0000
        config.reconfigEnabled = false
        #expect(QuorumPeer.pendingMembership(config) == nil, "kept only with reconfig enabled")
    }
}
