import ZooKeeperProtocol

/// Who a watch notifies: one client connection.
public typealias WatcherID = UInt64

/// The kinds of watch one watcher holds on one path.
public struct WatchModes: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// A one-shot watch, removed when it fires.
    public static let standard = WatchModes(rawValue: 1)
    /// A persistent watch on the path itself.
    public static let persistent = WatchModes(rawValue: 2)
    /// A persistent watch on the path and every descendant.
    public static let persistentRecursive = WatchModes(rawValue: 4)
}

/// One table of watches (ZooKeeper keeps two: data and child), keyed by path.
///
/// Triggering follows `WatchManager.triggerWatch`: standard and persistent watches fire for
/// their own path; recursive ones fire for any path below them except for
/// NodeChildrenChanged; standard ones are removed once fired.
public struct WatchTable: Sendable {
    private(set) public var watchesByPath: [String: [WatcherID: WatchModes]] = [:]
    private(set) public var pathsByWatcher: [WatcherID: Set<String>] = [:]
    /// How many paths have a recursive watch; lets triggering skip the ancestor walk.
    private var recursiveCount = 0

    public init() {}

    /// Adds a watch.
    public mutating func add(path: String, watcher: WatcherID, mode: WatchModes) {
        let old = watchesByPath[path]?[watcher] ?? []
        if mode.contains(.persistentRecursive) && !old.contains(.persistentRecursive) { recursiveCount += 1 }
        watchesByPath[path, default: [:]][watcher] = old.union(mode)
        pathsByWatcher[watcher, default: []].insert(path)
    }

    /// The modes `watcher` holds on `path`.
    public func modes(path: String, watcher: WatcherID) -> WatchModes {
        watchesByPath[path]?[watcher] ?? []
    }

    /// Removes the given modes of `watcher` on `path`; returns whether any was held.
    @discardableResult
    public mutating func remove(path: String, watcher: WatcherID, modes: WatchModes) -> Bool {
        guard let old = watchesByPath[path]?[watcher], !old.intersection(modes).isEmpty else { return false }
        set(path: path, watcher: watcher, modes: old.subtracting(modes), old: old)
        return true
    }

    private mutating func set(path: String, watcher: WatcherID, modes: WatchModes, old: WatchModes) {
        if old.contains(.persistentRecursive) && !modes.contains(.persistentRecursive) { recursiveCount -= 1 }
        if modes.isEmpty {
            watchesByPath[path]?[watcher] = nil
            if watchesByPath[path]?.isEmpty == true { watchesByPath[path] = nil }
            pathsByWatcher[watcher]?.remove(path)
            if pathsByWatcher[watcher]?.isEmpty == true { pathsByWatcher[watcher] = nil }
        } else {
            watchesByPath[path]?[watcher] = modes
        }
    }

    /// Removes every watch of `watcher`.
    public mutating func removeWatcher(_ watcher: WatcherID) {
        guard let paths = pathsByWatcher[watcher] else { return }
        for path in paths {
            if let old = watchesByPath[path]?[watcher] { set(path: path, watcher: watcher, modes: [], old: old) }
        }
        pathsByWatcher[watcher] = nil
    }

    /// Fires the watches that an event of `type` on `path` triggers, returning their watchers
    /// (each once), minus those in `suppress`.
    public mutating func trigger(path: String, type: WatchEventType, suppress: Set<WatcherID> = []) -> [WatcherID] {
        var fired: [WatcherID] = []
        var seen = suppress
        if let watchers = watchesByPath[path] {
            for (watcher, modes) in watchers.sorted(by: { $0.key < $1.key }) {
                let fires = modes.contains(.standard) || modes.contains(.persistent)
                    || (modes.contains(.persistentRecursive) && type != .nodeChildrenChanged)
                if fires && seen.insert(watcher).inserted { fired.append(watcher) }
                if modes.contains(.standard) { set(path: path, watcher: watcher, modes: modes.subtracting(.standard), old: modes) }
            }
        }
        if recursiveCount > 0 && type != .nodeChildrenChanged && path != "/" {
            var ancestor = path
            repeat {
                ancestor = ZNodePath.parent(of: ancestor)
                if let watchers = watchesByPath[ancestor] {
                    for (watcher, modes) in watchers.sorted(by: { $0.key < $1.key })
                    where modes.contains(.persistentRecursive) && seen.insert(watcher).inserted {
                        fired.append(watcher)
                    }
                }
            } while ancestor != "/"
        }
        return fired
    }

    /// The number of (path, watcher) pairs.
    public var count: Int { watchesByPath.values.reduce(0) { $0 + $1.count } }
}
