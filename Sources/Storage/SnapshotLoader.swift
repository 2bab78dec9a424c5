import DataTree
import Foundation
import Jute
import NIOCore
import ZooKeeperProtocol

/// Reads a snapshot file through a bounded window, so that loading a large tree does not
/// hold the whole file in memory as well. Verifies the same things as ``SnapshotContents``.
public enum SnapshotLoader {
    /// The window refills when fewer bytes than this remain (more than any one record).
    static let refillBelow = 2 << 20
    static let readSize = 8 << 20

    final class Window {
        let descriptor: Int32
        var buffer = ByteBuffer()
        var adler = Adler32()
        var atEnd = false

        init(descriptor: Int32) { self.descriptor = descriptor }

        /// Feeds consumed bytes to the checksum and reads more when the window runs low.
        func refillIfNeeded() {
            guard !atEnd, buffer.readableBytes < SnapshotLoader.refillBelow else { return }
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
        func refill() {
            window.buffer = reader.buffer
            reader = JuteReader(ByteBuffer())
            window.refillIfNeeded()
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
            // Decoding stays on this thread; filing and linking run beside it.
            let linker = TreeLinker(capacity: Int(size / 160))
            var linkerFinished = false
            defer { if !linkerFinished { _ = linker.finish() } }
            var batch: TreeLinker.Batch = []
            batch.reserveCapacity(TreeLinker.batchSize)
            // Znodes mostly share a few ACL lists: count runs before touching the dictionary.
            var aclUses: [Int64: Int] = [:]
            var runReference: Int64 = .min
            var runLength = 0
            var owned: [(path: String, owner: Int64)] = []
            while true {
                if reader.remaining < refillBelow { refill() }
                var path = try reader.readNonNullString()
                if path == "/" { break }
                if path.isEmpty { path = "/" }
                let data = try reader.readBuffer()
                let acl = try reader.readLong()
                let stat = try StatPersisted(from: &reader)
                if acl == runReference {
                    runLength += 1
                } else {
                    if runLength > 0 { aclUses[runReference, default: 0] += runLength }
                    runReference = acl
                    runLength = 1
                }
                if stat.ephemeralOwner != 0 { owned.append((path, stat.ephemeralOwner)) }
                batch.append((path, Znode(data: data, aclReference: acl, stat: stat)))
                if batch.count == TreeLinker.batchSize {
                    linker.add(batch)
                    batch = []
                    batch.reserveCapacity(TreeLinker.batchSize)
                }
            }
            if !batch.isEmpty { linker.add(batch) }
            let linked = linker.finish()
            linkerFinished = true
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
            do {
                if runLength > 0 { aclUses[runReference, default: 0] += runLength }
                return try DataTree(restoring: linked.nodes, acls: acls, sessions: sessions, zxid: zxid,
                                    unlinked: linked.unlinked, aclUses: aclUses, owned: owned)
            } catch {
                throw SnapshotError(description: "\(error)")
            }
        } catch let error as SnapshotError {
            throw error
        } catch {
            throw SnapshotError(description: "it cannot be decoded: \(error)")
        }
    }
}
