import Foundation

/// The files a member keeps its configuration in once reconfig is enabled, as ZooKeeper's
/// `QuorumPeerConfig.writeDynamicConfig` and `editStaticConfig` write them: the membership in
/// `<zoo.cfg>.dynamic.<hex version>`, a proposed one in `<zoo.cfg>.dynamic.next`, and zoo.cfg
/// itself without membership lines, pointing at the dynamic file.
public enum DynamicConfigFile {
    /// `<config>.dynamic.<version in hex>`.
    public static func path(forConfig config: String, version: Int64) -> String {
        "\(config).dynamic.\(String(UInt64(bitPattern: version), radix: 16))"
    }

    /// `<config>.dynamic.next`: the last configuration seen, not yet in force.
    public static func nextPath(forConfig config: String) -> String { "\(config).dynamic.next" }

    /// The file's text (`writeDynamicConfig`): the `server.N=...` lines sorted as text and
    /// joined by newlines, with no newline at the end; `version=<hex>` among them only for the
    /// `.next` file, whose version is not in its name.
    public static func text(_ membership: Membership, keepingVersion: Bool) -> String {
        var lines = membership.servers.values.map { "server.\($0.id)=\(Membership.serverText($0))" }
        if keepingVersion { lines.append("version=\(String(UInt64(bitPattern: membership.version), radix: 16))") }
        return lines.sorted().joined(separator: "\n")
    }

    /// zoo.cfg as `editStaticConfig` leaves it: without `server.`, `group`, `weight`, `peerType`
    /// and `dynamicConfigFile` lines (and `clientPort`, `clientPortAddress` when this server's
    /// client address now comes from the dynamic file), then `dynamicConfigFile=<path>`.
    /// Comments and blank lines stay.
    public static func editedStaticConfig(_ text: String, dynamicFile: String, erasingClientAddress: Bool) -> String {
        var kept: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if let (key, _) = Membership.property(line) {
                let dropped = ["server.", "group", "weight", "dynamicConfigFile", "peerType"].contains { key.hasPrefix($0) }
                    || (erasingClientAddress && key.hasPrefix("clientPort"))
                if dropped { continue }
            }
            kept.append(String(line))
        }
        while let last = kept.last, last.trimmingCharacters(in: .whitespaces).isEmpty { kept.removeLast() }
        return (kept + ["dynamicConfigFile=\(dynamicFile)"]).joined(separator: "\n") + "\n"
    }
}
