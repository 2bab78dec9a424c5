import Jute

/// The first frame a client sends (`ConnectRequest`), plus the read-only byte that
/// clients from 3.4 on append.
public struct ConnectRequest: JuteRecord, Hashable {
    public var protocolVersion: Int32
    public var lastZxidSeen: Int64
    public var timeOut: Int32
    public var sessionId: Int64
    public var passwd: [UInt8]
    /// The trailing read-only flag; `nil` when the client did not send it.
    public var readOnly: Bool?

    public init(protocolVersion: Int32 = 0, lastZxidSeen: Int64, timeOut: Int32, sessionId: Int64, passwd: [UInt8], readOnly: Bool?) {
        self.protocolVersion = protocolVersion; self.lastZxidSeen = lastZxidSeen; self.timeOut = timeOut
        self.sessionId = sessionId; self.passwd = passwd; self.readOnly = readOnly
    }
    public init(from r: inout JuteReader) throws {
        protocolVersion = try r.readInt(); lastZxidSeen = try r.readLong(); timeOut = try r.readInt()
        sessionId = try r.readLong(); passwd = try r.readBuffer() ?? []
        readOnly = r.remaining > 0 ? try r.readBool() : nil
    }
    public func write(to w: inout JuteWriter) {
        w.writeInt(protocolVersion); w.writeLong(lastZxidSeen); w.writeInt(timeOut)
        w.writeLong(sessionId); w.writeBuffer(passwd)
        if let readOnly { w.writeBool(readOnly) }
    }
}

/// The server's answer to a ``ConnectRequest`` (`ConnectResponse`), plus the read-only byte
/// when the client sent one.
public struct ConnectResponse: JuteRecord, Hashable {
    public var protocolVersion: Int32
    public var timeOut: Int32
    public var sessionId: Int64
    public var passwd: [UInt8]
    public var readOnly: Bool?

    public init(protocolVersion: Int32 = 0, timeOut: Int32, sessionId: Int64, passwd: [UInt8], readOnly: Bool?) {
        self.protocolVersion = protocolVersion; self.timeOut = timeOut; self.sessionId = sessionId
        self.passwd = passwd; self.readOnly = readOnly
    }
    public init(from r: inout JuteReader) throws {
        protocolVersion = try r.readInt(); timeOut = try r.readInt(); sessionId = try r.readLong()
        passwd = try r.readBuffer() ?? []
        readOnly = r.remaining > 0 ? try r.readBool() : nil
    }
    public func write(to w: inout JuteWriter) {
        w.writeInt(protocolVersion); w.writeInt(timeOut); w.writeLong(sessionId); w.writeBuffer(passwd)
        if let readOnly { w.writeBool(readOnly) }
    }
}

/// The header of every request after the handshake (`RequestHeader`).
public struct RequestHeader: JuteRecord, Hashable {
    public var xid: Int32
    public var type: Int32
    public init(xid: Int32, type: Int32) { self.xid = xid; self.type = type }
    public init(from r: inout JuteReader) throws { xid = try r.readInt(); type = try r.readInt() }
    public func write(to w: inout JuteWriter) { w.writeInt(xid); w.writeInt(type) }
}

/// The header of every reply and notification (`ReplyHeader`).
public struct ReplyHeader: JuteRecord, Hashable {
    public var xid: Int32
    public var zxid: Int64
    public var err: Int32
    public init(xid: Int32, zxid: Int64, err: Int32) { self.xid = xid; self.zxid = zxid; self.err = err }
    public init(from r: inout JuteReader) throws { xid = try r.readInt(); zxid = try r.readLong(); err = try r.readInt() }
    public func write(to w: inout JuteWriter) { w.writeInt(xid); w.writeLong(zxid); w.writeInt(err) }
}

/// An authentication request (`AuthPacket`).
public struct AuthPacket: JuteRecord, Hashable {
    public var type: Int32
    public var scheme: String
    public var auth: [UInt8]
    public init(type: Int32 = 0, scheme: String, auth: [UInt8]) { self.type = type; self.scheme = scheme; self.auth = auth }
    public init(from r: inout JuteReader) throws {
        // ZooKeeper drops the connection on a null scheme or credentials.
        type = try r.readInt(); scheme = try r.readRequiredString()
        guard let auth = try r.readBuffer() else { throw JuteError.unexpectedNull }
        self.auth = auth
    }
    public func write(to w: inout JuteWriter) { w.writeInt(type); w.writeString(scheme); w.writeBuffer(auth) }
}

/// Watches a client re-registers after reconnecting (`SetWatches` and `SetWatches2`).
public struct SetWatches: Hashable, Sendable {
    public var relativeZxid: Int64
    public var dataWatches: [String]
    public var existWatches: [String]
    public var childWatches: [String]
    public var persistentWatches: [String]
    public var persistentRecursiveWatches: [String]

    public init(relativeZxid: Int64, dataWatches: [String] = [], existWatches: [String] = [], childWatches: [String] = [],
                persistentWatches: [String] = [], persistentRecursiveWatches: [String] = []) {
        self.relativeZxid = relativeZxid; self.dataWatches = dataWatches; self.existWatches = existWatches
        self.childWatches = childWatches; self.persistentWatches = persistentWatches
        self.persistentRecursiveWatches = persistentRecursiveWatches
    }

    /// Decodes `SetWatches` (`version2 == false`) or `SetWatches2`.
    public init(from r: inout JuteReader, version2: Bool) throws {
        relativeZxid = try r.readLong()
        dataWatches = try r.readStrings(); existWatches = try r.readStrings(); childWatches = try r.readStrings()
        persistentWatches = version2 ? try r.readStrings() : []
        persistentRecursiveWatches = version2 ? try r.readStrings() : []
    }

    /// Encodes `SetWatches` or `SetWatches2`.
    public func write(to w: inout JuteWriter, version2: Bool) {
        w.writeLong(relativeZxid)
        w.writeStrings(dataWatches); w.writeStrings(existWatches); w.writeStrings(childWatches)
        if version2 { w.writeStrings(persistentWatches); w.writeStrings(persistentRecursiveWatches) }
    }
}

/// A watch notification (`WatcherEvent`).
public struct WatcherEvent: JuteRecord, Hashable {
    public var type: Int32
    public var state: Int32
    public var path: String
    public init(type: WatchEventType, state: KeeperState = .syncConnected, path: String) {
        self.type = type.rawValue; self.state = state.rawValue; self.path = path
    }
    public init(from r: inout JuteReader) throws {
        type = try r.readInt(); state = try r.readInt(); path = try r.readNonNullString()
    }
    public func write(to w: inout JuteWriter) { w.writeInt(type); w.writeInt(state); w.writeString(path) }
}

/// One identity a session is authenticated as (`ClientInfo`, 3.9).
public struct ClientInfo: JuteRecord, Hashable {
    public var authScheme: String
    public var user: String
    public init(authScheme: String, user: String) { self.authScheme = authScheme; self.user = user }
    public init(from r: inout JuteReader) throws { authScheme = try r.readNonNullString(); user = try r.readNonNullString() }
    public func write(to w: inout JuteWriter) { w.writeString(authScheme); w.writeString(user) }
}
