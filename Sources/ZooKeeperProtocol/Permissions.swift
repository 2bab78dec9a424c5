/// The permissions an ACL entry grants (`ZooDefs.Perms`).
public struct Permissions: OptionSet, Sendable, Hashable {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let read = Permissions(rawValue: 1)
    public static let write = Permissions(rawValue: 2)
    public static let create = Permissions(rawValue: 4)
    public static let delete = Permissions(rawValue: 8)
    public static let admin = Permissions(rawValue: 16)
    public static let all: Permissions = [.read, .write, .create, .delete, .admin]

    /// `cdrwa`-style letters, as zkCli and the audit log print permissions.
    public static func letters(_ perms: Int32) -> String {
        let p = Permissions(rawValue: perms)
        return (p.contains(.create) ? "c" : "") + (p.contains(.delete) ? "d" : "") + (p.contains(.read) ? "r" : "")
            + (p.contains(.write) ? "w" : "") + (p.contains(.admin) ? "a" : "")
    }
}
