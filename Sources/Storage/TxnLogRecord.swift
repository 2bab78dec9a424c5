import Jute
import NIOCore
import ZooKeeperProtocol

/// One transaction as `FileTxnLog` stores it:
/// `long adler32 | int length | TxnHeader + txn [+ TxnDigest] | byte 'B'`.
public enum TxnLogRecord {
    /// The end-of-record marker.
    public static let endOfRecord: UInt8 = 0x42
    /// Bytes around the payload: checksum, length and marker.
    public static let overhead = 13
    private static let emptyBuffer = ByteBuffer()

    /// Appends the whole record for `header` and `txn` to `buffer`.
    ///
    /// The payload is encoded in place, after room for the checksum and length, which are
    /// filled in once it is written: no intermediate buffer per transaction.
    public static func append(_ header: TxnHeader, _ txn: Txn, to buffer: inout ByteBuffer) {
        let recordStart = buffer.writerIndex
        buffer.writeInteger(Int64(0))
        buffer.writeInteger(Int32(0))
        let payloadStart = buffer.writerIndex
        // Swap the storage into the writer so that it holds the only reference and appends in place.
        var writer = JuteWriter(emptyBuffer)
        swap(&writer.buffer, &buffer)
        writer.write(header)
        txn.write(to: &writer)
        swap(&writer.buffer, &buffer)
        let length = buffer.writerIndex - payloadStart
        var adler = Adler32()
        buffer.withUnsafeReadableBytes { raw in
            adler.update(UnsafeRawBufferPointer(rebasing: raw[(payloadStart - buffer.readerIndex)...]))
        }
        buffer.setInteger(adler.value, at: recordStart)
        buffer.setInteger(Int32(length), at: recordStart + 8)
        buffer.writeInteger(endOfRecord)
    }

    /// Decodes a payload: the header, the transaction, and the digest if one follows.
    public static func decode(payload: ByteBuffer) throws -> (TxnHeader, Txn) {
        let record = try TxnRecord(decoding: payload)
        return (record.header, record.txn)
    }
}

/// Why a log scan stopped.
public enum TxnLogEnd: Equatable, Sendable {
    /// Only zeros (or nothing) follow the last record: ZooKeeper's normal end.
    case clean
    /// Bytes after the last whole record are not a record.
    case torn(reason: String)
}

/// A log file read back: its records, where the whole records end, and how it ends.
public struct TxnLogScan: Sendable {
    public var header: FileHeader?
    public var records: [(header: TxnHeader, txn: Txn)] = []
    /// The offset just past each record, in the order of `records`.
    public var recordEnds: [Int] = []
    /// The offset just past the last whole record (the header's end when there is none).
    public var validLength: Int
    public var end: TxnLogEnd
    /// The bytes after `validLength` that are not zero.
    public var droppedBytes: Int

    /// Reads every whole record of a log file's bytes.
    public init(bytes: ByteBuffer, maximumRecord: Int = 64 << 20) {
        var buffer = bytes
        validLength = 0
        end = .clean
        droppedBytes = 0
        var headerReader = JuteReader(buffer.readSlice(length: min(FileHeader.size, buffer.readableBytes)) ?? ByteBuffer())
        guard let fileHeader = try? FileHeader(from: &headerReader), fileHeader.magic == FileHeader.logMagic else {
            end = .torn(reason: "no log file header")
            droppedBytes = bytes.readableBytes
            return
        }
        header = fileHeader
        let start = bytes.readerIndex
        validLength = FileHeader.size
        while true {
            let offset = buffer.readerIndex - start
            guard buffer.readableBytes >= 12,
                  let checksum = buffer.getInteger(at: buffer.readerIndex, as: Int64.self),
                  let length = buffer.getInteger(at: buffer.readerIndex + 8, as: Int32.self) else {
                if !Self.allZero(buffer) { end = .torn(reason: "a partial record header at offset \(offset)") }
                break
            }
            if length == 0 && checksum == 0 {
                if !Self.allZero(buffer) { end = .torn(reason: "zeros then data at offset \(offset)") }
                break
            }
            if length <= 0 || Int(length) > maximumRecord {
                end = .torn(reason: "an impossible record length \(length) at offset \(offset)")
                break
            }
            guard buffer.readableBytes >= 12 + Int(length) + 1 else {
                end = .torn(reason: "a record of \(length) bytes cut short at offset \(offset)")
                break
            }
            guard let payload = buffer.getSlice(at: buffer.readerIndex + 12, length: Int(length)) else { break }
            var adler = Adler32()
            payload.withUnsafeReadableBytes { adler.update($0) }
            if adler.value != checksum {
                end = .torn(reason: "a checksum mismatch at offset \(offset)")
                break
            }
            if buffer.getInteger(at: buffer.readerIndex + 12 + Int(length), as: UInt8.self) != TxnLogRecord.endOfRecord {
                end = .torn(reason: "a missing end-of-record marker at offset \(offset)")
                break
            }
            guard let record = try? TxnLogRecord.decode(payload: payload) else {
                end = .torn(reason: "an undecodable transaction at offset \(offset)")
                break
            }
            records.append(record)
            buffer.moveReaderIndex(forwardBy: 12 + Int(length) + 1)
            validLength = buffer.readerIndex - start
            recordEnds.append(validLength)
        }
        if case .torn = end {
            var rest = bytes
            rest.moveReaderIndex(forwardBy: validLength)
            droppedBytes = rest.readableBytes - Self.trailingZeros(rest)
        }
    }

    static func allZero(_ buffer: ByteBuffer) -> Bool {
        buffer.withUnsafeReadableBytes { raw in
            // Compare a word at a time: preallocated tails are tens of megabytes.
            var index = 0
            let count = raw.count
            while index + 8 <= count {
                if raw.loadUnaligned(fromByteOffset: index, as: UInt64.self) != 0 { return false }
                index += 8
            }
            while index < count {
                if raw[index] != 0 { return false }
                index += 1
            }
            return true
        }
    }

    static func trailingZeros(_ buffer: ByteBuffer) -> Int {
        let view = buffer.readableBytesView
        var count = 0
        for byte in view.reversed() {
            if byte != 0 { break }
            count += 1
        }
        return count
    }
}
