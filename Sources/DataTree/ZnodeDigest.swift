import CAviaryChecksums
import ZooKeeperProtocol

/// ZooKeeper's tree digest (`DigestCalculator`, version 2): each znode contributes the
/// CRC-32 of its path, data and 60 bytes of stat; the tree's digest is their sum (`AdHash`).
/// Znodes under `/zookeeper/` count for nothing, and the root's path is "".
public enum ZnodeDigest {
    /// The digest version ZooKeeper 3.8 writes beside each digest.
    public static let version = TxnDigest.currentVersion

    private static let excludedPrefix = Array("/zookeeper/".utf8)

    /// The digest of one znode; 0 for those ZooKeeper leaves out.
    ///
    /// Path, data and stat are gathered into one buffer when they fit in 512 bytes (most
    /// znodes), so that the CRC runs once over the whole, in the vector path, instead of three
    /// times over short pieces.
    public static func of(path: UnsafeRawBufferPointer, data: UnsafeRawBufferPointer?, stat: StatPersisted) -> Int64 {
        if path.count >= excludedPrefix.count && path.starts(with: excludedPrefix) { return 0 }
        // The root is "" whether it is named "" or "/".
        let pathBytes = path.count > 1 || (path.count == 1 && path[0] != UInt8(ascii: "/")) ? path : UnsafeRawBufferPointer(start: nil, count: 0)
        let dataBytes = data ?? UnsafeRawBufferPointer(start: nil, count: 0)
        let gathered = pathBytes.count + dataBytes.count + statBytes
        return withUnsafeTemporaryAllocation(byteCount: gathered <= 512 ? 512 : statBytes, alignment: 8) { buffer -> Int64 in
            var crc: UInt32 = 0
            var offset = 0
            if gathered <= 512 {
                if let base = pathBytes.baseAddress { buffer.baseAddress!.copyMemory(from: base, byteCount: pathBytes.count) }
                offset = pathBytes.count
                if let base = dataBytes.baseAddress { (buffer.baseAddress! + offset).copyMemory(from: base, byteCount: dataBytes.count) }
                offset += dataBytes.count
            } else {
                if let base = pathBytes.baseAddress { crc = aviary_crc32(crc, base, pathBytes.count) }
                if let base = dataBytes.baseAddress { crc = aviary_crc32(crc, base, dataBytes.count) }
            }
            // czxid, mzxid, pzxid, ctime, mtime, version, cversion, aversion, ephemeralOwner.
            buffer.storeBytes(of: stat.czxid.bigEndian, toByteOffset: offset, as: Int64.self)
            buffer.storeBytes(of: stat.mzxid.bigEndian, toByteOffset: offset + 8, as: Int64.self)
            buffer.storeBytes(of: stat.pzxid.bigEndian, toByteOffset: offset + 16, as: Int64.self)
            buffer.storeBytes(of: stat.ctime.bigEndian, toByteOffset: offset + 24, as: Int64.self)
            buffer.storeBytes(of: stat.mtime.bigEndian, toByteOffset: offset + 32, as: Int64.self)
            buffer.storeBytes(of: stat.version.bigEndian, toByteOffset: offset + 40, as: Int32.self)
            buffer.storeBytes(of: stat.cversion.bigEndian, toByteOffset: offset + 44, as: Int32.self)
            buffer.storeBytes(of: stat.aversion.bigEndian, toByteOffset: offset + 48, as: Int32.self)
            buffer.storeBytes(of: stat.ephemeralOwner.bigEndian, toByteOffset: offset + 52, as: Int64.self)
            return Int64(aviary_crc32(crc, buffer.baseAddress, offset + statBytes))
        }
    }

    /// The stat fields the digest covers, in bytes.
    private static let statBytes = 60
}

/// One entry of the digest log `hash` shows: the tree's digest after `zxid`.
public struct ZxidDigest: Sendable, Hashable {
    public var zxid: Int64
    public var digest: Int64
    public init(zxid: Int64, digest: Int64) { self.zxid = zxid; self.digest = digest }
}
