/// How a znode is created (`CreateMode`).
public enum CreateMode: Int32, Sendable, CaseIterable {
    case persistent = 0
    case ephemeral = 1
    case persistentSequential = 2
    case ephemeralSequential = 3
    case container = 4
    case persistentWithTTL = 5
    case persistentSequentialWithTTL = 6

    /// Whether the server appends a sequence number to the name.
    public var isSequential: Bool {
        self == .persistentSequential || self == .ephemeralSequential || self == .persistentSequentialWithTTL
    }
    /// Whether the znode is owned by the creating session.
    public var isEphemeral: Bool { self == .ephemeral || self == .ephemeralSequential }
    /// Whether the znode is a container.
    public var isContainer: Bool { self == .container }
    /// Whether the znode carries a time to live.
    public var isTTL: Bool { self == .persistentWithTTL || self == .persistentSequentialWithTTL }
}

/// What a znode's `ephemeralOwner` encodes (`EphemeralType`).
public enum EphemeralOwner {
    /// The owner value that marks a container.
    public static let container: Int64 = Int64(bitPattern: 0x8000_0000_0000_0000)
    /// The high byte that marks a TTL node.
    public static let ttlMask: Int64 = Int64(bitPattern: 0xFF00_0000_0000_0000)
    /// The largest TTL that fits.
    public static let maxTTL: Int64 = 0x00FF_FFFF_FFFF

    /// The owner value that encodes `ttl` milliseconds.
    public static func ttl(_ ttl: Int64) -> Int64 { ttlMask | ttl }
    /// Whether `owner` marks a container.
    public static func isContainer(_ owner: Int64) -> Bool { owner == container }
    /// The TTL encoded in `owner`, if it marks a TTL node.
    public static func ttlValue(_ owner: Int64) -> Int64? {
        (owner & ttlMask) == ttlMask && owner != container ? owner & maxTTL : nil
    }
    /// The session that owns the znode, when it is a real ephemeral.
    public static func session(_ owner: Int64) -> Int64? {
        if owner == 0 || isContainer(owner) || ttlValue(owner) != nil { return nil }
        return owner
    }
}
