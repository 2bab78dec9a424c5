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
    /// (`Boolean.getBoolean`, so only "true", in any case, turns it on).
    public mutating func apply(systemProperties: [String: String]) {
        if let value = systemProperties["readonlymode.enabled"] { readOnlyModeEnabled = value.lowercased() == "true" }
    }
}
