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
    private var stack: [(path: String, children: [String], next: Int)] = []
    private var started = false
    /// Whether every znode has been written.
    public private(set) var isFinished = false
    /// How many znodes were written.
    public private(set) var nodeCount = 0

    /// Begins a snapshot of `tree` as it stands; holds its ACL lists until ``finish()``.
    public init(tree: DataTree) {
        self.tree = tree
        self.zxid = tree.lastProcessedZxid
        self.sessions = tree.sessions
        tree.holdACLs(true)
    }

    private static func snapshotPath(_ path: String) -> String { path == "/" ? "" : path }

    private func write(_ path: String, _ node: Znode, to writer: inout JuteWriter) {
        writer.writeString(Self.snapshotPath(path))
        tree.withData(of: node) { data in
            if let data {
                writer.writeInt(Int32(truncatingIfNeeded: data.count))
                writer.buffer.writeBytes(data)
            } else {
                writer.writeInt(-1)
            }
        }
        writer.writeLong(node.aclReference)
        writer.write(node.stat)
        nodeCount += 1
        if node.childCount > 0 { stack.append((path, tree.childNames(of: node), 0)) }
    }

    /// Serializes up to `maximumNodes` more znodes; the last chunk ends with the "/" marker.
    public func nextChunk(maximumNodes: Int) -> ByteBuffer {
        var writer = JuteWriter(ByteBuffer())
        var budget = maximumNodes
        if !started {
            started = true
            if let root = tree.node("/") { write("/", root, to: &writer); budget -= 1 }
        }
        while budget > 0, var top = stack.popLast() {
            guard top.next < top.children.count else { continue }
            let child = ZNodePath.join(top.path, top.children[top.next])
            top.next += 1
            stack.append(top)
            if let node = tree.node(child) {
                write(child, node, to: &writer)
                budget -= 1
            }
        }
        if stack.isEmpty && !isFinished {
            isFinished = true
            writer.writeString("/")
        }
        return writer.buffer
    }

    /// The bytes that precede the znodes: header, sessions and the ACL cache. Ends the ACL hold.
    /// A SNAP stream to a learner has no file header (`includeHeader: false`).
    public func finish(includeHeader: Bool = true) -> ByteBuffer {
        var writer = JuteWriter(ByteBuffer())
        if includeHeader { writer.write(FileHeader.snapshot) }
        writer.writeInt(Int32(sessions.count))
        for (id, timeout) in sessions.sorted(by: { $0.key < $1.key }) {
            writer.writeLong(id)
            writer.writeInt(timeout)
        }
        let lists = tree.aclCache.listsByReference.sorted { $0.key < $1.key }
        writer.writeInt(Int32(lists.count))
        for (reference, acl) in lists {
            writer.writeLong(reference)
            writer.writeACLs(acl)
        }
        tree.holdACLs(false)
        return writer.buffer
    }

    /// A whole snapshot at once (recovery, tests, `aviary data`): prefix, znodes, seal.
    public static func serialize(_ tree: DataTree) -> ByteBuffer {
        let serializer = SnapshotSerializer(tree: tree)
        var nodes = ByteBuffer()
        while !serializer.isFinished {
            var chunk = serializer.nextChunk(maximumNodes: 10_000)
            nodes.writeBuffer(&chunk)
        }
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
