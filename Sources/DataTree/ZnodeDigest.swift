import CAviaryCRC32
import ZooKeeperProtocol

/// ZooKeeper's tree digest (`DigestCalculator`, version 2): each znode contributes the
/// CRC-32 of its path, data and 60 bytes of stat; the tree's digest is their sum (`AdHash`).
/// Znodes under `/zookeeper/` count for nothing, and the root's path is "".
public enum ZnodeDigest {
    /// The digest version ZooKeeper 3.8 writes beside each digest.
    public static let version = TxnDigest.currentVersion

    private static let excludedPrefix = Array("/zookeeper/".utf8)

    /// The digest of one znode; 0 for those ZooKeeper leaves out.
    public static func of(path: UnsafeRawBufferPointer, data: UnsafeRawBufferPointer?, stat: StatPersisted) -> Int64 {
        if path.count >= excludedPrefix.count && path.starts(with: excludedPrefix) { return 0 }
        var crc: UInt32 = 0
        // The root is "" whether it is named "" or "/".
        if path.count > 1 || (path.count == 1 && path[0] != UInt8(ascii: "/")), let base = path.baseAddress {
            crc = aviary_crc32(crc, base, path.count)
        }
        if let data, data.count > 0, let base = data.baseAddress {
            crc = aviary_crc32(crc, base, data.count)
        }
        // czxid, mzxid, pzxid, ctime, mtime, version, cversion, aversion, ephemeralOwner.
        return withUnsafeTemporaryAllocation(byteCount: 60, alignment: 8) { fields -> Int64 in
            fields.storeBytes(of: stat.czxid.bigEndian, toByteOffset: 0, as: Int64.self)
            fields.storeBytes(of: stat.mzxid.bigEndian, toByteOffset: 8, as: Int64.self)
            fields.storeBytes(of: stat.pzxid.bigEndian, toByteOffset: 16, as: Int64.self)
            fields.storeBytes(of: stat.ctime.bigEndian, toByteOffset: 24, as: Int64.self)
            fields.storeBytes(of: stat.mtime.bigEndian, toByteOffset: 32, as: Int64.self)
            fields.storeBytes(of: stat.version.bigEndian, toByteOffset: 40, as: Int32.self)
            fields.storeBytes(of: stat.cversion.bigEndian, toByteOffset: 44, as: Int32.self)
            fields.storeBytes(of: stat.aversion.bigEndian, toByteOffset: 48, as: Int32.self)
            fields.storeBytes(of: stat.ephemeralOwner.bigEndian, toByteOffset: 52, as: Int64.self)
            return Int64(aviary_crc32(crc, fields.baseAddress, 60))
        }
    }
}

/// One entry of the digest log `hash` shows: the tree's digest after `zxid`.
public struct ZxidDigest: Sendable, Hashable {
    public var zxid: Int64
    public var digest: Int64
    public init(zxid: Int64, digest: Int64) { self.zxid = zxid; self.digest = digest }
}
