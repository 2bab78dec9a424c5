import DataTree
import Foundation
import ZooKeeperProtocol

/// Files decoded znodes by path and links each into its parent's child set, on a thread of
/// its own, while the loader decodes the next ones: the two halves of loading a snapshot
/// take similar time, so a large tree loads in little more than the decoding takes.
///
/// Znodes arrive in batches in the snapshot's pre-order, so each parent is on a stack of
/// ancestors when its children come: no parent path is hashed. A znode whose parent is not
/// on the stack is returned in ``Result/unlinked`` for the tree to link (or reject).
final class TreeLinker: @unchecked Sendable {
    typealias Batch = [(path: String, node: Znode)]

    struct Result {
        var nodes: [String: Znode]
        var unlinked: [String]
    }

    /// Batches this long keep the hand-over cheap next to the work in them.
    static let batchSize = 4096
    /// Batches that may wait, so that decoding cannot run far ahead of linking.
    private static let queueLimit = 8

    private let condition = NSCondition()
    private var queue: [Batch] = []
    private var ended = false
    private var result: Result?
    // Touched only by the linking thread:
    private var nodes: [String: Znode] = [:]
    private var unlinked: [String] = []
    private var ancestors: [(length: Int, path: String, node: Znode)] = []

    /// Starts the linking thread; `capacity` is the expected number of znodes.
    init(capacity: Int) {
        nodes.reserveCapacity(capacity)
        let thread = Thread { [self] in run() }
        thread.name = "aviary-snapshot-link"
        thread.start()
    }

    /// Queues a batch, waiting while too many are queued.
    func add(_ batch: Batch) {
        condition.lock()
        while queue.count >= Self.queueLimit { condition.wait() }
        queue.append(batch)
        condition.broadcast()
        condition.unlock()
    }

    /// Waits for every queued batch to be linked and returns the tree's parts.
    func finish() -> Result {
        condition.lock()
        ended = true
        condition.broadcast()
        while result == nil { condition.wait() }
        let finished = result ?? Result(nodes: [:], unlinked: [])
        condition.unlock()
        return finished
    }

    private func run() {
        while true {
            condition.lock()
            while queue.isEmpty && !ended { condition.wait() }
            if queue.isEmpty {
                result = Result(nodes: nodes, unlinked: unlinked)
                nodes = [:]
                condition.broadcast()
                condition.unlock()
                return
            }
            let batch = queue.removeFirst()
            condition.broadcast()
            condition.unlock()
            for (path, node) in batch { link(path, node) }
        }
    }

    private func link(_ path: String, _ node: Znode) {
        if path == "/" {
            nodes["/"] = node
            ancestors = [(0, "/", node)]
            return
        }
        nodes[path] = node
        let utf8 = path.utf8
        guard let slash = utf8.lastIndex(of: UInt8(ascii: "/")) else {
            unlinked.append(path)
            return
        }
        let parentLength = utf8.distance(from: utf8.startIndex, to: slash)
        while let top = ancestors.last {
            if top.length == parentLength && (parentLength == 0 || utf8.prefix(parentLength).elementsEqual(top.path.utf8)) {
                break
            }
            ancestors.removeLast()
        }
        if let parent = ancestors.last?.node {
            parent.children.insert(String(path[path.index(after: slash)...]))
        } else {
            unlinked.append(path)
        }
        ancestors.append((utf8.count, path, node))
    }
}
