import Foundation

/// What Aviary needs from a Kerberos configuration file (`krb5.conf`, MIT's profile format):
/// the default realm (`[libdefaults] default_realm`), which decides which principals
/// ZooKeeper's Kerberos name rules shorten.
public enum Krb5Configuration {
    /// `default_realm` of the `[libdefaults]` section, or nil.
    public static func defaultRealm(in text: String) -> String? {
        var section = ""
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                section = line.trimmingCharacters(in: CharacterSet(charactersIn: "[] ")).lowercased()
                continue
            }
            guard section == "libdefaults", let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if key == "default_realm", !value.isEmpty { return value }
        }
        return nil
    }
}
