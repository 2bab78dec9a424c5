import NIOCore
import ZooKeeperProtocol

/// Where a snapshot's pre-order walk of a tree stands between two chunks, during which the tree
/// may change: the znodes whose children are being written, held by handle (see
/// ``ZnodeHandle``), each with its path as the snapshot spells it (the root's is empty).
public struct SnapshotWalk {
    struct Level {
        /// The length of this znode's path: a prefix of ``SnapshotWalk/path``.
        var pathLength: Int
        /// Oldest first: the order snapshots list children in.
        var children: [ZnodeHandle]
        var next: Int
    }

    var stack: [Level] = []
    /// The path of the znode written last. Every znode on the stack is it or an ancestor of it,
    /// so each one's path is a prefix of it (one buffer instead of an array per level).
    var path: [UInt8] = []
    var started = false
    /// Whether every znode has been written, and the closing "/" after them.
    public internal(set) var isFinished = false
    /// How many znodes were written.
    public internal(set) var nodeCount = 0

    public init() {}
}

extension DataTree {
    /// Writes up to `maximumNodes` more znodes of `walk` to `buffer` as a snapshot lists them
    /// (path, data, ACL reference, `StatPersisted`); the last chunk ends with the "/" marker.
    ///
    /// With `streamedACLs` (a SNAP stream, whose ACL cache went first), a znode whose ACL list
    /// is not among them was created or given a new ACL after `zxid`, which the log replayed
    /// from there restores: the first is left out with its subtree, the second written as
    /// `world:anyone`.
    ///
    /// The whole chunk reads one copy of the store's references (no exclusive-access check per
    /// znode, as a walk through the tree's properties pays) and writes each znode into the
    /// buffer in one piece.
    public func continueSnapshot(_ walk: inout SnapshotWalk, maximumNodes: Int, streamedACLs: [Int64: [ACL]]?,
                                 asOf zxid: Int64, to buffer: inout ByteBuffer) {
        let store = self.store
        var budget = maximumNodes
        if !walk.started {
            walk.started = true
            walk.path.removeAll()
            if store.root != ZnodeStore.none,
               Self.write(store.root, store.parts(store.root), of: store, streamedACLs, zxid, &walk, &buffer) {
                budget -= 1
            }
        }
        while budget > 0, let top = walk.stack.indices.last {
            let next = walk.stack[top].next
            guard next < walk.stack[top].children.count else {
                walk.stack.removeLast()
                continue
            }
            let handle = walk.stack[top].children[next]
            walk.stack[top].next = next + 1
            guard let placement = store.placement(handle.record), placement.parent == handle.parent,
                  placement.hash == handle.hash else {
                continue  // deleted since its parent's children were listed
            }
            let parts = store.parts(handle.record)
            guard parts.header.stat.czxid == handle.czxid else { continue }  // deleted, its record reused
            walk.path.removeSubrange(walk.stack[top].pathLength...)
            walk.path.append(UInt8(ascii: "/"))
            walk.path.append(contentsOf: parts.name)
            if Self.write(handle.record, parts, of: store, streamedACLs, zxid, &walk, &buffer) { budget -= 1 }
        }
        if walk.stack.isEmpty && !walk.isFinished {
            walk.isFinished = true
            buffer.writeInteger(Int32(1))
            buffer.writeInteger(UInt8(ascii: "/"))
        }
    }

    /// Writes the znode at `walk.path` and lists its children for later; false if it is left
    /// out.
    private static func write(_ record: UInt32, _ parts: (name: UnsafeRawBufferPointer, header: ZnodeHeader, data: UnsafeRawBufferPointer?),
                              of store: ZnodeStore, _ streamedACLs: [Int64: [ACL]]?,
                              _ zxid: Int64, _ walk: inout SnapshotWalk, _ buffer: inout ByteBuffer) -> Bool {
        let (_, header, data) = parts
        var aclReference = header.aclReference
        if let streamedACLs, aclReference != ACLCache.openUnsafeReference, streamedACLs[aclReference] == nil {
            if header.stat.czxid > zxid { return false }
            aclReference = ACLCache.openUnsafeReference
        }
        let dataCount = data?.count ?? 0
        let pathLength = walk.path.count
        let size = 4 + pathLength + 4 + dataCount + 8 + Self.statPersistedBytes
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { out -> Int in
            out.storeBytes(of: Int32(truncatingIfNeeded: pathLength).bigEndian, toByteOffset: 0, as: Int32.self)
            walk.path.withUnsafeBytes { bytes in
                if let base = bytes.baseAddress { (out.baseAddress! + 4).copyMemory(from: base, byteCount: bytes.count) }
            }
            var offset = 4 + pathLength
            if let data {
                out.storeBytes(of: Int32(truncatingIfNeeded: data.count).bigEndian, toByteOffset: offset, as: Int32.self)
                if let base = data.baseAddress { (out.baseAddress! + offset + 4).copyMemory(from: base, byteCount: data.count) }
                offset += 4 + data.count
            } else {
                out.storeBytes(of: Int32(-1).bigEndian, toByteOffset: offset, as: Int32.self)
                offset += 4
            }
            let stat = header.stat
            out.storeBytes(of: aclReference.bigEndian, toByteOffset: offset, as: Int64.self)
            out.storeBytes(of: stat.czxid.bigEndian, toByteOffset: offset + 8, as: Int64.self)
            out.storeBytes(of: stat.mzxid.bigEndian, toByteOffset: offset + 16, as: Int64.self)
            out.storeBytes(of: stat.ctime.bigEndian, toByteOffset: offset + 24, as: Int64.self)
            out.storeBytes(of: stat.mtime.bigEndian, toByteOffset: offset + 32, as: Int64.self)
            out.storeBytes(of: stat.version.bigEndian, toByteOffset: offset + 40, as: Int32.self)
            out.storeBytes(of: stat.cversion.bigEndian, toByteOffset: offset + 44, as: Int32.self)
            out.storeBytes(of: stat.aversion.bigEndian, toByteOffset: offset + 48, as: Int32.self)
            out.storeBytes(of: stat.ephemeralOwner.bigEndian, toByteOffset: offset + 52, as: Int64.self)
            out.storeBytes(of: stat.pzxid.bigEndian, toByteOffset: offset + 60, as: Int64.self)
            return offset + 8 + Self.statPersistedBytes
        }
        walk.nodeCount += 1
        if header.childCount > 0 {
            var children: [ZnodeHandle] = []
            children.reserveCapacity(header.childCount)
            store.forEachChild(record) { child in
                let hash = store.placement(child)?.hash ?? 0
                children.append(ZnodeHandle(record: child, parent: record, hash: hash, czxid: store.czxid(child)))
            }
            children.reverse()
            walk.stack.append(SnapshotWalk.Level(pathLength: pathLength, children: children, next: 0))
        }
        return true
    }

    /// `StatPersisted` in Jute: six longs and three ints.
    private static let statPersistedBytes = 60
}
