import DataTree
import Foundation
import Jute
import NIOCore
import ZooKeeperProtocol

/// Reads a snapshot file through a bounded window, so that loading a large tree does not
/// hold the whole file in memory as well. Checks the header, the closing marker, that every
/// length fits in the file, and the Adler-32 checksum (`FileSnap`, `SnapStream`).
public enum SnapshotLoader {
    /// The window refills when fewer bytes than this remain (more than any session or ACL
    /// record); a znode that does not fit yet makes it read more, however large the znode.
    static let refillBelow = 1 << 18
    static let readSize = 1 << 18

    final class Window {
        let descriptor: Int32
        var buffer = ByteBuffer()
        var adler = Adler32()
        var atEnd = false

        init(descriptor: Int32) { self.descriptor = descriptor }

        /// Reads more when the window runs low.
        func refillIfNeeded() {
            if buffer.readableBytes < SnapshotLoader.refillBelow { readMore() }
        }

        /// Feeds consumed bytes to the checksum and reads more of the file.
        func readMore() {
            guard !atEnd else { return }
            let consumed = buffer.readerIndex
            buffer.withVeryUnsafeBytes { all in adler.update(UnsafeRawBufferPointer(rebasing: all[0..<consumed])) }
            buffer.discardReadBytes()
            let read = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: SnapshotLoader.readSize) { raw in
                max(0, Glibc.read(descriptor, raw.baseAddress, raw.count))
            }
            if read == 0 { atEnd = true }
        }
    }

    /// Loads the snapshot at `path` as the tree at `zxid`.
    public static func load(_ path: String, zxid: Int64) throws(SnapshotError) -> DataTree {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw SnapshotError(description: "cannot open it: errno \(errno)") }
        defer { close(descriptor) }
        let size = lseek(descriptor, 0, SEEK_END)
        var tail = [UInt8](repeating: 0, count: 5)
        guard size >= Int64(FileHeader.size + 13), pread(descriptor, &tail, 5, size - 5) == 5,
              tail == [0, 0, 0, 1, UInt8(ascii: "/")] else {
            throw SnapshotError(description: "it does not end with a snapshot's closing marker (truncated?)")
        }
        lseek(descriptor, 0, SEEK_SET)
        let window = Window(descriptor: descriptor)
        window.refillIfNeeded()
        var reader = JuteReader(window.buffer)
        /// Hands the reader's position back to the window, refills it, and reads on.
        func refill(always: Bool = false) {
            window.buffer = reader.buffer
            reader = JuteReader(ByteBuffer())
            if always { window.readMore() } else { window.refillIfNeeded() }
            reader = JuteReader(window.buffer)
        }
        do {
            let header = try FileHeader(from: &reader)
            guard header.magic == FileHeader.snapshotMagic else { throw SnapshotError(description: "its header is not a snapshot's") }
            var sessions: [Int64: Int32] = [:]
            let sessionCount = try reader.readInt()
            guard sessionCount >= 0, Int64(sessionCount) * 12 <= Int64(size) else { throw SnapshotError(description: "it claims \(sessionCount) sessions") }
            for _ in 0..<sessionCount {
                if reader.remaining < 64 { refill() }
                sessions[try reader.readLong()] = try reader.readInt()
            }
            var acls: [Int64: [ACL]] = [:]
            refill()
            let aclCount = try reader.readInt()
            guard aclCount >= 0, Int64(aclCount) * 12 <= Int64(size) else { throw SnapshotError(description: "it claims \(aclCount) ACL lists") }
            for _ in 0..<aclCount {
                refill()
                acls[try reader.readLong()] = try reader.readACLs()
            }
            var builder = DataTreeBuilder(expectedNodes: Int(size / 160))
            refill()
            do {
                while try !readZnodes(&reader, into: &builder, atEnd: window.atEnd, fileSize: Int(size)) { refill(always: true) }
            } catch let error as DataTreeError {
                throw SnapshotError(description: "\(error)")
            }
            // Everything up to here is covered by the checksum that follows.
            window.buffer = reader.buffer
            reader = JuteReader(ByteBuffer())
            var adler = window.adler
            let consumed = window.buffer.readerIndex
            window.buffer.withVeryUnsafeBytes { all in adler.update(UnsafeRawBufferPointer(rebasing: all[0..<consumed])) }
            reader = JuteReader(window.buffer)
            let stored = try reader.readLong()
            guard stored == adler.value else {
                throw SnapshotError(description: "its checksum does not match (stored \(stored), computed \(adler.value))")
            }
            guard try reader.readString() == "/" else { throw SnapshotError(description: "its seal is malformed") }
            return try finish(&builder, acls: acls, sessions: sessions, zxid: zxid)
        } catch let error as SnapshotError {
            throw error
        } catch {
            throw SnapshotError(description: "it cannot be decoded: \(error)")
        }
    }

    /// The tree the builder holds, its parent checks' failures as snapshot errors (a snapshot
    /// file or the stream after SNAP).
    static func finish(_ builder: inout DataTreeBuilder, acls: [Int64: [ACL]], sessions: [Int64: Int32],
                       zxid: Int64) throws(SnapshotError) -> DataTree {
        do {
            return try builder.finish(acls: acls, sessions: sessions, zxid: zxid)
        } catch {
            throw SnapshotError(description: "\(error)")
        }
    }

    /// A znode record that does not fit in the window yet.
    private struct Incomplete: Error {}

    /// Reads whole znode records from the window into `builder` until the closing "/"
    /// (returns true) or until the next record is not all in the window (returns false).
    /// Fields are read in place: nothing is allocated per znode. A length longer than the
    /// whole file is refused at once, rather than after reading to the file's end for it.
    static func readZnodes(_ reader: inout JuteReader, into builder: inout DataTreeBuilder, atEnd: Bool,
                           fileSize: Int) throws -> Bool {
        let (consumed, finished) = try reader.buffer.withUnsafeReadableBytes { raw throws -> (Int, Bool) in
            var offset = 0
            while true {
                var cursor = offset
                func int32() throws(Incomplete) -> Int32 {
                    guard cursor + 4 <= raw.count else { throw Incomplete() }
                    defer { cursor += 4 }
                    return Int32(bigEndian: raw.loadUnaligned(fromByteOffset: cursor, as: Int32.self))
                }
                func int64() throws(Incomplete) -> Int64 {
                    guard cursor + 8 <= raw.count else { throw Incomplete() }
                    defer { cursor += 8 }
                    return Int64(bigEndian: raw.loadUnaligned(fromByteOffset: cursor, as: Int64.self))
                }
                func bytes(_ count: Int) throws(Incomplete) -> UnsafeRawBufferPointer {
                    guard cursor + count <= raw.count else { throw Incomplete() }
                    defer { cursor += count }
                    return UnsafeRawBufferPointer(rebasing: raw[cursor..<cursor + count])
                }
                let path: UnsafeRawBufferPointer, data: UnsafeRawBufferPointer?, acl: Int64
                var stat = StatPersisted()
                do {
                    let pathLength = try int32()
                    guard pathLength >= 0, Int(pathLength) <= fileSize else {
                        throw SnapshotError(description: "a znode path has length \(pathLength)")
                    }
                    path = try bytes(Int(pathLength))
                    if pathLength == 1 && path[0] == UInt8(ascii: "/") { return (cursor, true) }
                    let dataLength = try int32()
                    guard dataLength >= -1, Int(dataLength) <= fileSize else {
                        throw SnapshotError(description: "a znode's data has length \(dataLength)")
                    }
                    data = dataLength < 0 ? nil : try bytes(Int(dataLength))
                    acl = try int64()
                    stat.czxid = try int64(); stat.mzxid = try int64(); stat.ctime = try int64(); stat.mtime = try int64()
                    stat.version = try int32(); stat.cversion = try int32(); stat.aversion = try int32()
                    stat.ephemeralOwner = try int64(); stat.pzxid = try int64()
                } catch is Incomplete {
                    if atEnd { throw SnapshotError(description: "it ends inside a znode") }
                    return (offset, false)
                }
                // The next znode's index slot is fetched while this one is added.
                if cursor + 4 <= raw.count {
                    let nextLength = Int(Int32(bigEndian: raw.loadUnaligned(fromByteOffset: cursor, as: Int32.self)))
                    if nextLength > 1, cursor + 4 + nextLength <= raw.count {
                        builder.prefetch(path: UnsafeRawBufferPointer(rebasing: raw[(cursor + 4)..<(cursor + 4 + nextLength)]))
                    }
                }
                try builder.add(path: path, data: data, aclReference: acl, stat: stat)
                offset = cursor
            }
        }
        reader.buffer.moveReaderIndex(forwardBy: consumed)
        return finished
    }
}
