/// The Java system properties a ZooKeeper server would be started with: the `-Dname=value`
/// words of `JVMFLAGS` and `SERVER_JVMFLAGS` (as `zkServer.sh` passes them to the JVM; the
/// latter after, so it wins). Some switches exist only as system properties in ZooKeeper,
/// `readonlymode.enabled` among them, and operators set them there.
public enum JVMFlags {
    public static func properties(_ environment: [String: String]) -> [String: String] {
        var properties: [String: String] = [:]
        for variable in ["JVMFLAGS", "SERVER_JVMFLAGS"] {
            for word in (environment[variable] ?? "").split(whereSeparator: { $0 == " " || $0 == "\t" }) where word.hasPrefix("-D") {
                let assignment = word.dropFirst(2)
                guard let equals = assignment.firstIndex(of: "=") else {
                    properties[String(assignment)] = ""
                    continue
                }
                properties[String(assignment[..<equals])] = String(assignment[assignment.index(after: equals)...])
            }
        }
        return properties
    }
}

extension ServerConfiguration {
    /// Takes the system properties that ZooKeeper reads as such: `readonlymode.enabled`
    /// (`Boolean.getBoolean`, so only "true", in any case, turns it on) and the TLS ones
    /// (`zookeeper.ssl.*`, `zookeeper.client.portUnification`,
    /// `zookeeper.X509AuthenticationProvider.superUser`) and those of authentication
    /// (`java.security.auth.login.config`, `zookeeper.superUser`, `zookeeper.enforce.auth.*`,
    /// `zookeeper.sessionRequireClientSASLAuth`, `zookeeper.sasl.serverconfig`), which win over
    /// zoo.cfg's.
    public mutating func apply(systemProperties: [String: String]) throws(ConfigurationError) {
        if let value = systemProperties["readonlymode.enabled"] { readOnlyModeEnabled = value.lowercased() == "true" }
        // Integer.getInteger: anything but a positive number leaves the default.
        if let value = systemProperties["zookeeper.quorumCnxnTimeoutMs"] { quorumCnxnTimeoutMs = Int(value).flatMap { $0 > 0 ? $0 : nil } }
        for (key, value) in systemProperties.sorted(by: { $0.key < $1.key })
        where key.hasPrefix("zookeeper.") || key == "java.security.auth.login.config" || key == "java.security.krb5.conf" {
            do {
                _ = try takeSecurityKey(key, value: value)
            } catch {
                throw ConfigurationError(file: "SERVER_JVMFLAGS", line: 0, message: "-D\(key): \(error.description)")
            }
        }
    }
}
