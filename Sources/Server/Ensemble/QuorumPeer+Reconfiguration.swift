import Configuration
import Consensus
import DataTree
import Foundation
import Logging
import Storage

/// Dynamic reconfiguration on a member (`QuorumPeer.setLastSeenQuorumVerifier`,
/// `processReconfig`): the configuration in force and the last seen, their files beside
/// zoo.cfg, `/zookeeper/config`, and the election's view. All of it does nothing unless
/// `reconfigEnabled` is set, as in ZooKeeper.
extension QuorumPeer {
    var reconfigEnabled: Bool { server.configuration.reconfigEnabled }

    /// A reconfig was proposed with `membership` (`setLastSeenQuorumVerifier`): it is written
    /// to `zoo.cfg.dynamic.next` until it is in force.
    func sawConfiguration(_ text: [UInt8]) {
        guard reconfigEnabled, let next = parse(text), next.version > lastSeenMembership.version else { return }
        lastSeenMembership = next
        if let config = server.configuration.filePath {
            write(DynamicConfigFile.text(next, keepingVersion: true), to: DynamicConfigFile.nextPath(forConfig: config))
        }
    }

    /// Puts `text` in force when it is newer than the configuration in force
    /// (`processReconfig`), with the leader it names, if any. Returns whether this member's
    /// role or leader changes with it: it must then leave its leader (or its leadership); the
    /// caller names the leader to take up the new role with (``designatedLeader``).
    @discardableResult
    func activate(_ text: [UInt8], designatedLeader designated: Int64?, zxid: Int64?, currentLeader: Int64) -> Bool {
        guard reconfigEnabled, let next = parse(text) else { return false }
        let previous = membership
        guard next.version > previous.version else { return false }
        membership = next
        if next.version >= lastSeenMembership.version { lastSeenMembership = next }
        writeFiles(next)
        // `initConfigInZKDatabase`: the config node shows what is in force.
        _ = server.core.tree.setConfiguration(Array(next.text.utf8), version: next.version, time: AviaryServer.now().wallMillis)
        let wasObserver = previous.servers[myid]?.role == "observer"
        let roleChange = wasObserver != isObserver
        let leaderChange: Bool
        var vote: Vote?
        if let designated {
            leaderChange = designated != currentLeader
            if leaderChange {
                vote = Vote(leader: designated, zxid: zxid ?? server.core.tree.lastProcessedZxid, electionEpoch: 0, peerEpoch: currentEpoch)
            }
        } else {
            let before = previous.servers[currentLeader], after = next.servers[currentLeader]
            leaderChange = before?.role != "participant" || after?.role != "participant"
                || before?.host != after?.host || before?.quorumPort != after?.quorumPort
        }
        var electionConfiguration = election.configuration
        electionConfiguration.verifier = Self.verifier(next)
        electionConfiguration.lastSeenVerifier = nil
        electionConfiguration.configText = next.text
        election.reconfigure(electionConfiguration, peers: Self.electionPeers(next), vote: vote)
        let joined = Set(next.servers.keys).subtracting(previous.servers.keys).sorted()
        let left = Set(previous.servers.keys).subtracting(next.servers.keys).sorted()
        var summary = "configuration version 0x\(hex(next.version)) in force: voters \(next.voters.map(\.id)), observers \(next.observers.map(\.id))"
        if !joined.isEmpty { summary += ", joined \(joined)" }
        if !left.isEmpty { summary += ", left \(left)" }
        if roleChange { summary += isObserver ? ", this server now observes" : ", this server now takes part" }
        if leaderChange { summary += designated.map { ", leader server.\($0)" } ?? ", its leader left: electing" }
        logger.info("\(summary)")
        server.events.publish("configuration_changed", [
            "version": hex(next.version), "voters": next.voters.map { String($0.id) }.joined(separator: ","),
            "observers": next.observers.map { String($0.id) }.joined(separator: ","),
            "joined": joined.map(String.init).joined(separator: ","), "left": left.map(String.init).joined(separator: ","),
        ])
        return roleChange || leaderChange
    }

    private func parse(_ text: [UInt8]) -> Membership? {
        do {
            return try Membership(parsing: String(decoding: text, as: UTF8.self))
        } catch {
            logger.error("cannot read a configuration from the leader: \(error)")
            return nil
        }
    }

    /// `setQuorumVerifier(qv, true)`: `zoo.cfg.dynamic.<version>`, zoo.cfg pointing at it, and
    /// no `.next` file once the last seen configuration is in force.
    private func writeFiles(_ membership: Membership) {
        guard let config = server.configuration.filePath else { return }
        let dynamic = DynamicConfigFile.path(forConfig: config, version: membership.version)
        write(DynamicConfigFile.text(membership, keepingVersion: false), to: dynamic)
        if let text = try? String(contentsOfFile: config, encoding: .utf8) {
            let erase = membership.servers[myid]?.clientPort != nil
            write(DynamicConfigFile.editedStaticConfig(text, dynamicFile: dynamic, erasingClientAddress: erase), to: config)
        }
        if membership.version == lastSeenMembership.version { unlink(DynamicConfigFile.nextPath(forConfig: config)) }
    }

    /// Writes `text` to `path` atomically (``AtomicFile``); a failure is logged.
    private func write(_ text: String, to path: String) {
        do {
            try AtomicFile.replace(path, with: Array(text.utf8))
        } catch {
            logger.error("\(error)")
        }
    }
}
