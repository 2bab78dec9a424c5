import ZooKeeperProtocol

/// Identifies one client connection to the server core.
public typealias ConnectionID = UInt64

/// A client session as the tracker sees it.
public struct Session: Sendable, Hashable {
    public var id: Int64
    /// The negotiated timeout in milliseconds.
    public var timeout: Int32
    /// When the session expires unless the client is heard from, in monotonic milliseconds.
    public var expiresAt: Int64
    /// The connection it is attached to, if any.
    public var connection: ConnectionID?
    /// Set once a closeSession has been prepared: nothing more is accepted from it.
    public var isClosing = false
    /// On a leader: the learner (server id) whose forwarded writes for this session are
    /// accepted, as it created or last revalidated it; nil while it belongs to this server
    /// (`SessionTrackerImpl.setOwner`).
    public var owner: Int64?
    /// A local session (`localSessionsEnabled`, or one made by a read-only server): this
    /// server alone knows it, creates, touches, expires and closes it with no transaction;
    /// it becomes global when it creates an ephemeral znode (`UpgradeableSessionTracker`).
    public var isLocal = false
}

/// Session ids, passwords and expiry (`SessionTrackerImpl`), driven by an injected clock.
public struct SessionTracker: Sendable {
    private(set) public var sessions: [Int64: Session] = [:]
    private var nextSessionId: Int64
    /// Expiry is checked in whole ticks, as ZooKeeper's expiry queue does.
    public let tickTime: Int64

    /// The secret ZooKeeper mixes into session passwords.
    static let passwordSecret: Int64 = 0xB341_5C00

    /// Starts numbering sessions as ZooKeeper does: the server id in the high byte, time below.
    public init(serverId: Int64, tickTime: Int64, nowMillis: Int64) {
        var next = (nowMillis << 24)
        next = Int64(bitPattern: UInt64(bitPattern: next) >> 8)
        next |= serverId << 56
        if next == EphemeralOwner.container { next += 1 }
        nextSessionId = next
        self.tickTime = max(1, tickTime)
    }

    /// The password of session `id` (`ZooKeeperServer.generatePasswd`).
    public static func password(for id: Int64) -> [UInt8] {
        var random = JavaRandom(seed: id ^ passwordSecret)
        return random.nextBytes(count: 16)
    }

    private func expiry(now: Int64, timeout: Int32) -> Int64 {
        let at = now + Int64(timeout)
        return (at / tickTime + 1) * tickTime
    }

    /// Creates a session (a local one if `local`) and returns its id.
    public mutating func create(timeout: Int32, now: Int64, connection: ConnectionID?, local: Bool = false) -> Int64 {
        let id = nextSessionId
        nextSessionId += 1
        if nextSessionId == EphemeralOwner.container { nextSessionId += 1 }
        sessions[id] = Session(id: id, timeout: timeout, expiresAt: expiry(now: now, timeout: timeout), connection: connection,
                               isLocal: local)
        return id
    }

    /// Whether `id` is a local session of this server.
    public func isLocal(_ id: Int64) -> Bool { sessions[id]?.isLocal == true }

    /// A local session becomes global (its createSession goes to the quorum now).
    public mutating func upgrade(_ id: Int64) { sessions[id]?.isLocal = false }

    /// Adds a session known from the data tree (after recovery), live for one timeout.
    public mutating func restore(id: Int64, timeout: Int32, now: Int64) {
        sessions[id] = Session(id: id, timeout: timeout, expiresAt: expiry(now: now, timeout: timeout), connection: nil)
    }

    /// Pushes back the session's expiry; false if the session is unknown or closing.
    @discardableResult
    public mutating func touch(_ id: Int64, now: Int64) -> Bool {
        guard var session = sessions[id], !session.isClosing else { return false }
        session.expiresAt = expiry(now: now, timeout: session.timeout)
        sessions[id] = session
        return true
    }

    /// Attaches the session to a connection and sets its timeout.
    public mutating func attach(_ id: Int64, connection: ConnectionID?, timeout: Int32? = nil, now: Int64) {
        guard var session = sessions[id] else { return }
        session.connection = connection
        if let timeout { session.timeout = timeout }
        session.expiresAt = expiry(now: now, timeout: session.timeout)
        sessions[id] = session
    }

    /// Detaches the session from `connection` if it is still attached to it.
    public mutating func detach(_ id: Int64, from connection: ConnectionID) {
        if sessions[id]?.connection == connection { sessions[id]?.connection = nil }
    }

    /// Records which server's clients the session belongs to now (nil: this server's).
    public mutating func setOwner(_ id: Int64, _ owner: Int64?) {
        sessions[id]?.owner = owner
    }

    /// Marks the session closing; returns false if it was unknown or already closing.
    public mutating func markClosing(_ id: Int64) -> Bool {
        guard let session = sessions[id], !session.isClosing else { return false }
        sessions[id]?.isClosing = true
        return true
    }

    /// Forgets the session.
    public mutating func remove(_ id: Int64) { sessions[id] = nil }

    /// Sessions past their expiry, not already closing.
    public func expired(now: Int64) -> [Int64] {
        sessions.values.filter { !$0.isClosing && $0.expiresAt <= now }.map(\.id).sorted()
    }
}
