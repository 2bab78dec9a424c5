import Jute
import NIOCore

/// `TxnDigest{int version; long treeDigest}`: ZooKeeper's tree digest after a transaction,
/// which may follow the transaction in a log record or a PROPOSAL.
public struct TxnDigest: JuteRecord, Hashable {
    /// The digest version ZooKeeper 3.8 computes and writes (`DigestCalculator`).
    public static let currentVersion: Int32 = 2

    public var version: Int32
    public var treeDigest: Int64
    public init(version: Int32 = Self.currentVersion, treeDigest: Int64) { self.version = version; self.treeDigest = treeDigest }
    public init(from r: inout JuteReader) throws { version = try r.readInt(); treeDigest = try r.readLong() }
    public func write(to w: inout JuteWriter) { w.writeInt(version); w.writeLong(treeDigest) }
}

/// A transaction with its header and, when one was sent, the digest: the payload of a log
/// record and the data of a PROPOSAL or INFORM (`SerializeUtils.deserializeTxn`).
public struct TxnRecord: Sendable, Hashable {
    public var header: TxnHeader
    public var txn: Txn
    public var digest: TxnDigest?

    public init(header: TxnHeader, txn: Txn, digest: TxnDigest? = nil) {
        self.header = header; self.txn = txn; self.digest = digest
    }

    /// Reads header, transaction and the digest if one follows. A reconfig travels as a
    /// SetDataTxn on /zookeeper/config.
    public init(decoding buffer: ByteBuffer) throws {
        var reader = JuteReader(buffer)
        header = try TxnHeader(from: &reader)
        var type = header.type
        if type == OpCode.reconfig.rawValue { type = OpCode.setData.rawValue }
        txn = try Txn.decode(type: type, from: &reader)
        digest = reader.remaining >= 12 ? try TxnDigest(from: &reader) : nil
    }

    /// Writes header, transaction and digest (when set).
    public func write(to w: inout JuteWriter) {
        w.write(header)
        txn.write(to: &w)
        if let digest { w.write(digest) }
    }

    /// The encoded record, as a PROPOSAL's data.
    public var bytes: [UInt8] {
        var writer = JuteWriter()
        write(to: &writer)
        return Array(writer.buffer.readableBytesView)
    }
}
