import DataTree
import Jute
import NIOCore
import ZooKeeperProtocol

/// Writes a fuzzy snapshot of a live tree a few znodes at a time, in ZooKeeper's layout
/// (`FileSnap`, `SerializeUtils.serializeSnapshot`, `DataTree.serialize`):
///
///     FileHeader | sessions | ACL cache | znodes in pre-order, ending with path "/" | adler32 | "/"
///
/// Znodes are visited on the tree's own executor between requests, so requests never wait
/// for a whole snapshot. Like ZooKeeper's, the result is fuzzy: replaying the log from the
/// snapshot's zxid makes it exact. The node section comes first (``nextChunk(maximumNodes:)``);
/// the prefix (header, sessions, ACL cache) is produced last, by ``finish()``, so that it holds
/// every ACL list the written znodes refer to.
public final class SnapshotSerializer {
    private let tree: DataTree
    /// The zxid the snapshot is named after: the last one applied when it began.
    public let zxid: Int64
    private let sessions: [Int64: Int32]
    /// Where the walk of the tree stands between chunks.
    private var walk = SnapshotWalk()
    /// Whether every znode has been written.
    public var isFinished: Bool { walk.isFinished }
    /// How many znodes were written.
    public var nodeCount: Int { walk.nodeCount }

    /// For a SNAP stream, whose ACL cache goes first: the lists there were when it began.
    private let streamedACLs: [Int64: [ACL]]?
    private var holdingACLs = true

    /// Begins a snapshot of `tree` as it stands; holds its ACL lists until ``finish()`` (or
    /// ``releaseACLs()``). With `forStream`, the sessions and ACL cache are taken now and go
    /// first (``streamPrefix()``); a znode whose ACL list is not among them is one created or
    /// given a new ACL since, and the log replayed from ``zxid`` restores it: the first is left
    /// out with its subtree (created later still), the second is written as `world:anyone`.
    public init(tree: DataTree, forStream: Bool = false) {
        self.tree = tree
        self.zxid = tree.lastProcessedZxid
        self.sessions = tree.sessions
        streamedACLs = forStream ? tree.aclCache.listsByReference : nil
        tree.holdACLs(true)
    }

    /// Ends the hold on the tree's ACL lists (once; ``finish()`` does it too).
    public func releaseACLs() {
        guard holdingACLs else { return }
        holdingACLs = false
        tree.holdACLs(false)
    }

    /// Serializes up to `maximumNodes` more znodes; the last chunk ends with the "/" marker.
    ///
    /// The walk holds znodes by handle, not by path: no path is looked up, and a znode deleted
    /// between two chunks is skipped (one created meanwhile may be missed, which the log
    /// replayed from ``zxid`` puts back).
    public func nextChunk(maximumNodes: Int) -> ByteBuffer {
        var chunk = ByteBuffer()
        chunk.reserveCapacity(min(maximumNodes, tree.nodeCount + 1) * averageNodeBytes)
        appendChunk(maximumNodes: maximumNodes, to: &chunk)
        return chunk
    }

    /// About how many bytes a znode of this tree takes in a snapshot, to size buffers once
    /// instead of growing them (each growth copies, and faults in fresh pages).
    public var averageNodeBytes: Int {
        let count = max(1, tree.nodeCount)
        return 8 + 68 + (tree.approximateDataSize + count - 1) / count
    }

    /// Like ``nextChunk(maximumNodes:)``, appending to `buffer` instead.
    public func appendChunk(maximumNodes: Int, to buffer: inout ByteBuffer) {
        tree.continueSnapshot(&walk, maximumNodes: maximumNodes, streamedACLs: streamedACLs, asOf: zxid, to: &buffer)
    }

    /// The bytes that precede the znodes in a file: header, sessions and the ACL cache, every
    /// list the written znodes refer to. Ends the ACL hold.
    public func finish() -> ByteBuffer {
        var writer = JuteWriter(ByteBuffer())
        writer.write(FileHeader.snapshot)
        writePrefix(acls: tree.aclCache.listsByReference, to: &writer)
        releaseACLs()
        return writer.buffer
    }

    /// The bytes that open a SNAP stream: sessions and ACL cache as they were at the start
    /// (``init(tree:forStream:)`` with `forStream`), no header.
    public func streamPrefix() -> ByteBuffer {
        var writer = JuteWriter(ByteBuffer())
        writePrefix(acls: streamedACLs ?? tree.aclCache.listsByReference, to: &writer)
        return writer.buffer
    }

    private func writePrefix(acls: [Int64: [ACL]], to writer: inout JuteWriter) {
        writer.writeInt(Int32(sessions.count))
        for (id, timeout) in sessions.sorted(by: { $0.key < $1.key }) {
            writer.writeLong(id)
            writer.writeInt(timeout)
        }
        writer.writeInt(Int32(acls.count))
        for (reference, acl) in acls.sorted(by: { $0.key < $1.key }) {
            writer.writeLong(reference)
            writer.writeACLs(acl)
        }
    }

    /// A whole snapshot at once (recovery, tests, `aviary data`): prefix, znodes, seal.
    public static func serialize(_ tree: DataTree) -> ByteBuffer {
        let serializer = SnapshotSerializer(tree: tree)
        var nodes = ByteBuffer()
        nodes.reserveCapacity((tree.nodeCount + 1) * serializer.averageNodeBytes)
        while !serializer.isFinished { serializer.appendChunk(maximumNodes: 10_000, to: &nodes) }
        var file = serializer.finish()
        file.writeBuffer(&nodes)
        seal(&file)
        return file
    }

    /// Appends the checksum of everything so far and the closing "/" (`SnapStream.sealStream`).
    public static func seal(_ buffer: inout ByteBuffer) {
        var adler = Adler32()
        buffer.withUnsafeReadableBytes { adler.update($0) }
        appendSeal(adler.value, to: &buffer)
    }

    /// Appends a seal whose checksum was computed elsewhere.
    public static func appendSeal(_ checksum: Int64, to buffer: inout ByteBuffer) {
        buffer.writeInteger(checksum)
        buffer.writeInteger(Int32(1))
        buffer.writeInteger(UInt8(ascii: "/"))
    }
}

/// A snapshot file that cannot be used.
public struct SnapshotError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(description: String) { self.description = description }
}
