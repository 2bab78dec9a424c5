import Jute

/// The header of every log and snapshot file (`FileHeader`).
public struct FileHeader: JuteRecord, Hashable {
    /// "ZKLG": a transaction log.
    public static let logMagic: Int32 = 0x5A4B_4C47
    /// "ZKSN": a snapshot.
    public static let snapshotMagic: Int32 = 0x5A4B_534E
    /// The only version ZooKeeper writes.
    public static let version: Int32 = 2
    /// The encoded size.
    public static let size = 16

    public var magic: Int32
    public var version: Int32
    public var dbid: Int64

    public init(magic: Int32, version: Int32 = FileHeader.version, dbid: Int64) {
        self.magic = magic; self.version = version; self.dbid = dbid
    }
    public init(from r: inout JuteReader) throws {
        magic = try r.readInt(); version = try r.readInt(); dbid = try r.readLong()
    }
    public func write(to w: inout JuteWriter) { w.writeInt(magic); w.writeInt(version); w.writeLong(dbid) }

    /// A log's header (dbid 0).
    public static let log = FileHeader(magic: logMagic, dbid: 0)
    /// A snapshot's header (dbid -1).
    public static let snapshot = FileHeader(magic: snapshotMagic, dbid: -1)
}
