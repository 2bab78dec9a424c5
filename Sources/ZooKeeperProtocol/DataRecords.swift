import Jute

/// An identity: an auth scheme and an id within it (`Id`).
public struct Id: JuteRecord, Hashable {
    public var scheme: String
    public var id: String
    public init(scheme: String, id: String) { self.scheme = scheme; self.id = id }
    public init(from r: inout JuteReader) throws {
        scheme = try r.readNonNullString(); id = try r.readNonNullString()
    }
    public func write(to w: inout JuteWriter) { w.writeString(scheme); w.writeString(id) }

    /// `world:anyone`.
    public static let anyone = Id(scheme: "world", id: "anyone")
    /// `auth:` — whoever created the node, as authenticated.
    public static let authIds = Id(scheme: "auth", id: "")
}

/// One entry of an access control list (`ACL`).
public struct ACL: JuteRecord, Hashable {
    public var perms: Int32
    public var id: Id
    public init(perms: Int32, id: Id) { self.perms = perms; self.id = id }
    public init(from r: inout JuteReader) throws { perms = try r.readInt(); id = try r.read() }
    public func write(to w: inout JuteWriter) { w.writeInt(perms); w.write(id) }

    /// `world:anyone` with every permission (`Ids.OPEN_ACL_UNSAFE`).
    public static let openUnsafe = [ACL(perms: Permissions.all.rawValue, id: .anyone)]
    /// `world:anyone` may read (`Ids.READ_ACL_UNSAFE`).
    public static let readUnsafe = [ACL(perms: Permissions.read.rawValue, id: .anyone)]
}

extension JuteReader {
    /// Reads an ACL vector; null reads as empty.
    public mutating func readACLs() throws -> [ACL] { try readVector { try $0.read(ACL.self) } ?? [] }
    /// Reads a vector of strings; null reads as empty.
    public mutating func readStrings() throws -> [String] { try readVector { try $0.readNonNullString() } ?? [] }
}

extension JuteWriter {
    /// Writes an ACL vector.
    public mutating func writeACLs(_ acl: [ACL]) { writeVector(acl) { $0.write($1) } }
    /// Writes a vector of strings.
    public mutating func writeStrings(_ strings: [String]) { writeVector(strings) { $0.writeString($1) } }
}

/// A znode's metadata as clients see it (`Stat`).
public struct Stat: JuteRecord, Hashable {
    public var czxid: Int64 = 0
    public var mzxid: Int64 = 0
    public var ctime: Int64 = 0
    public var mtime: Int64 = 0
    public var version: Int32 = 0
    public var cversion: Int32 = 0
    public var aversion: Int32 = 0
    public var ephemeralOwner: Int64 = 0
    public var dataLength: Int32 = 0
    public var numChildren: Int32 = 0
    public var pzxid: Int64 = 0

    public init() {}
    public init(from r: inout JuteReader) throws {
        czxid = try r.readLong(); mzxid = try r.readLong(); ctime = try r.readLong(); mtime = try r.readLong()
        version = try r.readInt(); cversion = try r.readInt(); aversion = try r.readInt()
        ephemeralOwner = try r.readLong(); dataLength = try r.readInt(); numChildren = try r.readInt()
        pzxid = try r.readLong()
    }
    public func write(to w: inout JuteWriter) {
        w.writeLong(czxid); w.writeLong(mzxid); w.writeLong(ctime); w.writeLong(mtime)
        w.writeInt(version); w.writeInt(cversion); w.writeInt(aversion)
        w.writeLong(ephemeralOwner); w.writeInt(dataLength); w.writeInt(numChildren); w.writeLong(pzxid)
    }
}

/// A znode's metadata as the server stores it (`StatPersisted`).
public struct StatPersisted: JuteRecord, Hashable {
    public var czxid: Int64 = 0
    public var mzxid: Int64 = 0
    public var ctime: Int64 = 0
    public var mtime: Int64 = 0
    public var version: Int32 = 0
    public var cversion: Int32 = 0
    public var aversion: Int32 = 0
    public var ephemeralOwner: Int64 = 0
    public var pzxid: Int64 = 0

    public init() {}
    public init(from r: inout JuteReader) throws {
        czxid = try r.readLong(); mzxid = try r.readLong(); ctime = try r.readLong(); mtime = try r.readLong()
        version = try r.readInt(); cversion = try r.readInt(); aversion = try r.readInt()
        ephemeralOwner = try r.readLong(); pzxid = try r.readLong()
    }
    public func write(to w: inout JuteWriter) {
        w.writeLong(czxid); w.writeLong(mzxid); w.writeLong(ctime); w.writeLong(mtime)
        w.writeInt(version); w.writeInt(cversion); w.writeInt(aversion)
        w.writeLong(ephemeralOwner); w.writeLong(pzxid)
    }
}
