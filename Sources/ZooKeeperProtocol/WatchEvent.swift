/// The type of a watch notification (`Watcher.Event.EventType`).
public enum WatchEventType: Int32, Sendable {
    case none = -1
    case nodeCreated = 1
    case nodeDeleted = 2
    case nodeDataChanged = 3
    case nodeChildrenChanged = 4
    case dataWatchRemoved = 5
    case childWatchRemoved = 6
    case persistentWatchRemoved = 7
}

/// The session state carried by a watch notification (`Watcher.Event.KeeperState`).
public enum KeeperState: Int32, Sendable {
    case disconnected = 0
    case syncConnected = 3
    case authFailed = 4
    case connectedReadOnly = 5
    case saslAuthenticated = 6
    case expired = -112
    case closed = 7
}

/// The mode of an addWatch request (`AddWatchMode`).
public enum AddWatchMode: Int32, Sendable {
    case persistent = 0
    case persistentRecursive = 1
}

/// The kind of watch named by checkWatches and removeWatches (`Watcher.WatcherType`).
public enum WatcherType: Int32, Sendable {
    case children = 1
    case data = 2
    case any = 3
    case persistent = 4
    case persistentRecursive = 5
}
