import Jute

/// A znode held across changes to its tree, for a walk that stops and resumes between
/// requests (a fuzzy snapshot): its record number with what shows whether the record still
/// holds that znode (its parent's record, its full path's hash, the zxid that created it).
/// A record is reused once its znode is deleted; a reused one fails the check, so a walk
/// skips a znode deleted meanwhile instead of visiting another in its place.
public struct ZnodeHandle: Sendable, Equatable {
    let record: UInt32
    let parent: UInt32
    let hash: UInt32
    let czxid: Int64
}

extension DataTree {
    /// The root's handle.
    public var rootHandle: ZnodeHandle? {
        let root = store.root
        guard root != ZnodeStore.none, let placement = store.placement(root) else { return nil }
        return ZnodeHandle(record: root, parent: placement.parent, hash: placement.hash, czxid: store.header(root).stat.czxid)
    }

    /// The znode `handle` was taken for, while the tree still has it where it was.
    public func node(_ handle: ZnodeHandle) -> Znode? {
        guard let placement = store.placement(handle.record), placement.parent == handle.parent, placement.hash == handle.hash else {
            return nil
        }
        let header = store.header(handle.record)
        guard header.stat.czxid == handle.czxid else { return nil }
        return Znode(record: handle.record, header: header)
    }

    /// The children of `node` (read now, before the tree changes), oldest first: the order
    /// snapshots list them in.
    public func childHandles(of node: Znode) -> [ZnodeHandle] {
        var handles: [ZnodeHandle] = []
        handles.reserveCapacity(node.childCount)
        store.forEachChild(node.record) { child in
            let hash = store.placement(child)?.hash ?? 0
            handles.append(ZnodeHandle(record: child, parent: node.record, hash: hash, czxid: store.header(child).stat.czxid))
        }
        handles.reverse()
        return handles
    }

    /// Calls `body` with the name (the last path element) of `node`, read now.
    public func withName<R>(of node: Znode, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        store.withName(node.record, body)
    }

    /// Appends the name of `node` to `bytes`. (The snapshot walk's, with no generic closure: a
    /// call through one from another module copies the whole store, retaining its buffers,
    /// once per znode.)
    public func appendName(of node: Znode, to bytes: inout [UInt8]) {
        bytes.append(contentsOf: store.bytes(node.record).name)
    }

    /// Writes the data of `node` as a Jute buffer: its length then its bytes, -1 for null data.
    public func writeData(of node: Znode, to writer: inout JuteWriter) {
        if let data = store.bytes(node.record).data {
            writer.writeInt(Int32(truncatingIfNeeded: data.count))
            writer.buffer.writeBytes(data)
        } else {
            writer.writeInt(-1)
        }
    }
}
