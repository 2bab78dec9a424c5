#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ZooKeeperProtocol

/// Builds a ``DataTree`` from a snapshot's znodes as they are read, without holding them
/// anywhere else first.
///
/// Snapshots list znodes in pre-order, so a znode's parent is on a stack of ancestors when
/// it comes, and children are counted there and written to the parent once, when it leaves
/// the stack. A znode whose parent is not on the stack is looked up; one whose parent has
/// not been read yet waits until the end and is refused if the parent never comes.
/// A value type, so that adding a znode needs no dynamic exclusivity checks.
public struct DataTreeBuilder {
    private var store = ZnodeStore()
    private var ancestors: [(record: UInt32, length: Int, children: Int)] = []
    /// The path of the top ancestor (its prefixes are the paths of the others).
    private var ancestorPath: [UInt8] = []
    private var waiting: [(path: [UInt8], data: [UInt8]?, aclReference: Int64, stat: StatPersisted)] = []
    /// Znodes mostly share a few ACL lists: runs are counted before touching the dictionary.
    private var aclUses: [Int64: Int] = [:]
    private var runReference: Int64 = .min
    private var runLength = 0
    private var owned: [(path: String, owner: Int64)] = []
    /// The tree digest of the znodes added so far.
    private var digest: Int64 = 0

    /// Starts a tree expected to hold about `expectedNodes` znodes.
    public init(expectedNodes: Int) {
        store.reserve(expectedNodes)
    }

    /// Says that the znode at `path` comes next (after the one about to be added), so that its
    /// place in the path index is fetched from memory meanwhile. (Mutating only so that a
    /// caller in another module passes the builder in place instead of copying it.)
    public mutating func prefetch(path: UnsafeRawBufferPointer) {
        store.prefetchSlot(hash: ZnodeStore.hash(path))
    }

    /// Adds a znode read from a snapshot; its path is empty (or "/") for the root.
    public mutating func add(path: UnsafeRawBufferPointer, data: UnsafeRawBufferPointer?, aclReference: Int64,
                             stat: StatPersisted) throws(DataTreeError) {
        if aclReference == runReference {
            runLength += 1
        } else {
            if runLength > 0 { aclUses[runReference, default: 0] += runLength }
            runReference = aclReference
            runLength = 1
        }
        digest &+= ZnodeDigest.of(path: path, data: data, stat: stat)
        try place(path: path, data: data, aclReference: aclReference, stat: stat)
    }

    private mutating func place(path: UnsafeRawBufferPointer, data: UnsafeRawBufferPointer?, aclReference: Int64,
                                stat: StatPersisted) throws(DataTreeError) {
        let header = ZnodeHeader(stat: stat, aclReference: aclReference, childCount: 0, dataLength: -1)
        if path.count == 0 || (path.count == 1 && path[0] == UInt8(ascii: "/")) {
            guard store.root == ZnodeStore.none else { throw .duplicate("/") }
            finishAncestors()
            let root = store.insertRoot(header: header, data: data)
            ancestors = [(root, 0, 0)]
            ancestorPath = []
            return
        }
        guard path[0] == UInt8(ascii: "/"), path[path.count - 1] != UInt8(ascii: "/") else {
            throw .invalidPath(String(decoding: path, as: UTF8.self))
        }
        var slash = path.count - 1
        while path[slash] != UInt8(ascii: "/") { slash -= 1 }
        let parent: UInt32
        if let top = onStack(parentLength: slash, of: path) {
            ancestors[top].children += 1
            parent = ancestors[top].record
        } else {
            finishAncestors()
            let parentPath = slash == 0 ? UnsafeRawBufferPointer(rebasing: path[0..<1]) : UnsafeRawBufferPointer(rebasing: path[0..<slash])
            guard let found = store.find(parentPath) else {
                waiting.append((Array(path), data.map { Array($0) }, aclReference, stat))
                return
            }
            parent = found
            ancestors = [(found, slash, 1)]
            ancestorPath = Array(path[0..<slash])
        }
        let hash = ZnodeStore.hash(path)
        if store.find(path, hash: hash) != nil { throw .duplicate(String(decoding: path, as: UTF8.self)) }
        let record = store.insert(path: path, hash: hash, parent: parent, header: header, data: data)
        if stat.ephemeralOwner != 0 { owned.append((String(decoding: path, as: UTF8.self), stat.ephemeralOwner)) }
        ancestors.append((record, path.count, 0))
        ancestorPath.removeSubrange(slash...)
        ancestorPath.append(contentsOf: path[slash...])
    }

    /// The stack position of the znode whose path is `path`'s first `parentLength` bytes,
    /// popping ancestors that are not its parent.
    private mutating func onStack(parentLength: Int, of path: UnsafeRawBufferPointer) -> Int? {
        while let top = ancestors.last {
            if top.length > parentLength {
                finish(ancestors.removeLast())
                continue
            }
            if top.length == parentLength {
                let same = ancestorPath.withUnsafeBytes { stacked -> Bool in
                    guard parentLength > 0, let a = stacked.baseAddress, let b = path.baseAddress else { return true }
                    return memcmp(a, b, parentLength) == 0
                }
                if same { return ancestors.count - 1 }
            }
            break
        }
        finishAncestors()
        return nil
    }

    private mutating func finish(_ ancestor: (record: UInt32, length: Int, children: Int)) {
        guard ancestor.children > 0 else { return }
        var header = store.header(ancestor.record)
        header.childCount += ancestor.children
        store.update(ancestor.record, header: header)
    }

    private mutating func finishAncestors() {
        while let top = ancestors.popLast() { finish(top) }
        ancestorPath.removeAll(keepingCapacity: true)
    }

    /// The tree: the znodes added, with the snapshot's ACL lists and sessions, as of `zxid`.
    /// Throws when a znode's parent never came.
    public mutating func finish(acls: [Int64: [ACL]], sessions: [Int64: Int32], zxid: Int64) throws(DataTreeError) -> DataTree {
        finishAncestors()
        if runLength > 0 { aclUses[runReference, default: 0] += runLength }
        runLength = 0
        while !waiting.isEmpty {
            let pending = waiting
            waiting = []
            for znode in pending {
                let failure = znode.path.withUnsafeBytes { path -> DataTreeError? in
                    withOptionalBytes(znode.data) { data -> DataTreeError? in
                        do throws(DataTreeError) {
                            try place(path: path, data: data, aclReference: znode.aclReference, stat: znode.stat)
                            return nil
                        } catch {
                            return error
                        }
                    }
                }
                if let failure { throw failure }
                finishAncestors()
            }
            if waiting.count == pending.count {
                throw .missingParent(String(decoding: waiting[0].path, as: UTF8.self))
            }
        }
        guard store.root != ZnodeStore.none else { throw .missingParent("/") }
        let tree = DataTree(store: store, acls: acls, sessions: sessions, zxid: zxid, aclUses: aclUses, owned: owned,
                            digest: digest)
        store = ZnodeStore()
        return tree
    }
}
