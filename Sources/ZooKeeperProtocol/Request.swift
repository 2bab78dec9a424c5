import Jute

/// A create request of any kind: `CreateRequest`, or `CreateTTLRequest` for createTTL.
public struct CreateRequest: Hashable, Sendable {
    /// The opcode it arrived as: create, create2, createContainer or createTTL.
    public var opCode: OpCode
    public var path: String
    /// nil when the client sent none (the Java client does for `create -c`); kept as ZooKeeper keeps it.
    public var data: [UInt8]?
    public var acl: [ACL]
    public var flags: Int32
    /// The time to live in milliseconds; only for createTTL.
    public var ttl: Int64

    public init(opCode: OpCode = .create, path: String, data: [UInt8]? = [], acl: [ACL] = ACL.openUnsafe,
                flags: Int32 = 0, ttl: Int64 = -1) {
        self.opCode = opCode; self.path = path; self.data = data; self.acl = acl; self.flags = flags; self.ttl = ttl
    }
}

/// A reconfig request (`ReconfigRequest`).
public struct ReconfigRequest: Hashable, Sendable {
    public var joiningServers: String?
    public var leavingServers: String?
    public var newMembers: String?
    public var curConfigId: Int64

    public init(joiningServers: String?, leavingServers: String?, newMembers: String?, curConfigId: Int64) {
        self.joiningServers = joiningServers; self.leavingServers = leavingServers
        self.newMembers = newMembers; self.curConfigId = curConfigId
    }
}

/// A decoded client request: the body of one frame after its ``RequestHeader``.
public enum Request: Hashable, Sendable {
    case create(CreateRequest)
    case delete(path: String, version: Int32)
    case deleteContainer(path: String)
    case exists(path: String, watch: Bool)
    case getData(path: String, watch: Bool)
    case setData(path: String, data: [UInt8]?, version: Int32)
    case getACL(path: String)
    case setACL(path: String, acl: [ACL], version: Int32)
    case getChildren(path: String, watch: Bool)
    case getChildren2(path: String, watch: Bool)
    case sync(path: String)
    case ping
    case check(path: String, version: Int32)
    case multi([Request])
    case multiRead([Request])
    case reconfig(ReconfigRequest)
    case checkWatches(path: String, type: Int32)
    case removeWatches(path: String, type: Int32)
    case auth(AuthPacket)
    case setWatches(SetWatches, version2: Bool)
    case sasl(token: [UInt8])
    case getEphemerals(prefixPath: String)
    case getAllChildrenNumber(path: String)
    case addWatch(path: String, mode: Int32)
    case whoAmI
    case closeSession
    /// Aviary's leader transfer to server `target` (``OpCode/transferLeadership``).
    case transferLeadership(target: Int64)

    /// The opcode this request travels as.
    public var opCode: OpCode {
        switch self {
        case .create(let c): return c.opCode
        case .delete: return .delete
        case .deleteContainer: return .deleteContainer
        case .exists: return .exists
        case .getData: return .getData
        case .setData: return .setData
        case .getACL: return .getACL
        case .setACL: return .setACL
        case .getChildren: return .getChildren
        case .getChildren2: return .getChildren2
        case .sync: return .sync
        case .ping: return .ping
        case .check: return .check
        case .multi: return .multi
        case .multiRead: return .multiRead
        case .reconfig: return .reconfig
        case .checkWatches: return .checkWatches
        case .removeWatches: return .removeWatches
        case .auth: return .auth
        case .setWatches(_, let v2): return v2 ? .setWatches2 : .setWatches
        case .sasl: return .sasl
        case .getEphemerals: return .getEphemerals
        case .getAllChildrenNumber: return .getAllChildrenNumber
        case .addWatch: return .addWatch
        case .whoAmI: return .whoAmI
        case .closeSession: return .closeSession
        case .transferLeadership: return .transferLeadership
        }
    }

    /// The path the request names, if any.
    public var path: String? {
        switch self {
        case .create(let c): return c.path
        case .delete(let p, _), .deleteContainer(let p), .exists(let p, _), .getData(let p, _),
             .setData(let p, _, _), .getACL(let p), .setACL(let p, _, _), .getChildren(let p, _),
             .getChildren2(let p, _), .sync(let p), .check(let p, _), .checkWatches(let p, _),
             .removeWatches(let p, _), .getEphemerals(let p), .getAllChildrenNumber(let p), .addWatch(let p, _):
            return p
        default: return nil
        }
    }

    /// The opcodes of requests that change the tree.
    public static let writeOpCodes: Set<OpCode> = [
        .create, .create2, .createContainer, .createTTL, .delete, .deleteContainer, .setData, .setACL,
        .check, .multi, .reconfig, .closeSession, .createSession,
    ]

    /// Whether the request changes the tree and so goes through the write pipeline.
    public var isWrite: Bool { Self.writeOpCodes.contains(opCode) }

    /// Whether it creates an ephemeral znode: a create or create2 with an ephemeral mode, or a
    /// multi holding one (what `QuorumZooKeeperServer.checkUpgradeSession` looks for).
    public var createsEphemeral: Bool {
        switch self {
        case .create(let create):
            return (create.opCode == .create || create.opCode == .create2) && CreateMode(rawValue: create.flags)?.isEphemeral == true
        case .multi(let operations):
            return operations.contains { $0.createsEphemeral }
        default:
            return false
        }
    }

    /// Decodes the body of a request of type `opCode`.
    ///
    /// A null path is a ``JuteError/unexpectedNull`` (ZooKeeper's marshalling error), except
    /// where ZooKeeper validates it into BadArguments (setData, setACL, check) or treats it as
    /// no path (sync, getEphemerals): there it reads as "".
    ///
    /// - Throws: ``JuteError`` for malformed bytes;
    ///   ``KeeperError/unimplemented`` for an opcode clients may not send;
    ///   ``KeeperError/marshallingError`` for a multi ZooKeeper would not read.
    public static func decode(opCode rawOpCode: Int32, from r: inout JuteReader) throws -> Request {
        guard let opCode = OpCode(rawValue: rawOpCode) else { throw KeeperError.unimplemented }
        switch opCode {
        case .create, .create2, .createContainer:
            return .create(CreateRequest(opCode: opCode, path: try r.readRequiredString(), data: try r.readBuffer(),
                                         acl: try r.readACLs(), flags: try r.readInt()))
        case .createTTL:
            return .create(CreateRequest(opCode: opCode, path: try r.readRequiredString(), data: try r.readBuffer(),
                                         acl: try r.readACLs(), flags: try r.readInt(), ttl: try r.readLong()))
        case .delete: return .delete(path: try r.readRequiredString(), version: try r.readInt())
        case .deleteContainer: return .deleteContainer(path: try r.readRequiredString())
        case .exists: return .exists(path: try r.readRequiredString(), watch: try r.readBool())
        case .getData: return .getData(path: try r.readRequiredString(), watch: try r.readBool())
        case .setData: return .setData(path: try r.readNonNullString(), data: try r.readBuffer(), version: try r.readInt())
        case .getACL: return .getACL(path: try r.readRequiredString())
        case .setACL: return .setACL(path: try r.readNonNullString(), acl: try r.readACLs(), version: try r.readInt())
        case .getChildren: return .getChildren(path: try r.readRequiredString(), watch: try r.readBool())
        case .getChildren2: return .getChildren2(path: try r.readRequiredString(), watch: try r.readBool())
        case .sync: return .sync(path: try r.readNonNullString())
        case .ping: return .ping
        case .check: return .check(path: try r.readNonNullString(), version: try r.readInt())
        case .multi, .multiRead:
            let ops = try decodeOperations(from: &r)
            return opCode == .multi ? .multi(ops) : .multiRead(ops)
        case .reconfig:
            return .reconfig(ReconfigRequest(joiningServers: try r.readString(), leavingServers: try r.readString(),
                                             newMembers: try r.readString(), curConfigId: try r.readLong()))
        case .checkWatches: return .checkWatches(path: try r.readRequiredString(), type: try r.readInt())
        case .removeWatches: return .removeWatches(path: try r.readRequiredString(), type: try r.readInt())
        case .auth: return .auth(try r.read(AuthPacket.self))
        case .setWatches: return .setWatches(try SetWatches(from: &r, version2: false), version2: false)
        case .setWatches2: return .setWatches(try SetWatches(from: &r, version2: true), version2: true)
        case .sasl: return .sasl(token: try r.readBuffer() ?? [])
        case .getEphemerals: return .getEphemerals(prefixPath: try r.readNonNullString())
        case .getAllChildrenNumber: return .getAllChildrenNumber(path: try r.readRequiredString())
        case .addWatch: return .addWatch(path: try r.readRequiredString(), mode: try r.readInt())
        case .whoAmI: return .whoAmI
        case .closeSession: return .closeSession
        case .transferLeadership: return .transferLeadership(target: try r.readLong())
        case .notification, .createSession, .error: throw KeeperError.unimplemented
        }
    }

    /// Decodes the operations of a multi or multiRead (`MultiOperationRecord`): a
    /// `MultiHeader` before each, one with `done` set after the last.
    ///
    /// Only the operations ZooKeeper accepts inside a multi are read (create, create2,
    /// createContainer, createTTL, delete, setData, check; getChildren and getData), all of
    /// one kind, writes or reads; anything else, a nested multi included, is a
    /// ``KeeperError/marshallingError`` for the whole request, as in ZooKeeper. The loop
    /// reads each operation flat, without recursion, so the work a frame can cause is bounded
    /// by its length (`jute.maxbuffer`). As in ZooKeeper, reads inside a multi set no watch.
    static func decodeOperations(from r: inout JuteReader) throws -> [Request] {
        var ops: [Request] = []
        var reads: Bool?
        while true {
            let type = try r.readInt()
            let done = try r.readBool()
            _ = try r.readInt()
            if done { return ops }
            let op: Request
            switch OpCode(rawValue: type) {
            case .create, .create2, .createContainer:
                op = .create(CreateRequest(opCode: OpCode(rawValue: type) ?? .create, path: try r.readRequiredString(),
                                           data: try r.readBuffer(), acl: try r.readACLs(), flags: try r.readInt()))
            case .createTTL:
                op = .create(CreateRequest(opCode: .createTTL, path: try r.readRequiredString(), data: try r.readBuffer(),
                                           acl: try r.readACLs(), flags: try r.readInt(), ttl: try r.readLong()))
            case .delete: op = .delete(path: try r.readRequiredString(), version: try r.readInt())
            case .setData: op = .setData(path: try r.readNonNullString(), data: try r.readBuffer(), version: try r.readInt())
            case .check: op = .check(path: try r.readNonNullString(), version: try r.readInt())
            case .getChildren:
                op = .getChildren(path: try r.readRequiredString(), watch: false)
                _ = try r.readBool()
            case .getData:
                op = .getData(path: try r.readRequiredString(), watch: false)
                _ = try r.readBool()
            default:
                throw KeeperError.marshallingError
            }
            let isRead = !op.isWrite
            if let reads, reads != isRead { throw KeeperError.marshallingError }
            reads = isRead
            ops.append(op)
        }
    }

    /// Encodes the request body (the inverse of ``decode(opCode:from:)``), as a client sends it.
    public func write(to w: inout JuteWriter) {
        switch self {
        case .create(let c):
            w.writeString(c.path); w.writeBuffer(c.data); w.writeACLs(c.acl); w.writeInt(c.flags)
            if c.opCode == .createTTL { w.writeLong(c.ttl) }
        case .delete(let p, let v), .check(let p, let v): w.writeString(p); w.writeInt(v)
        case .deleteContainer(let p), .getACL(let p), .sync(let p), .getEphemerals(let p), .getAllChildrenNumber(let p):
            w.writeString(p)
        case .exists(let p, let watch), .getData(let p, let watch), .getChildren(let p, let watch), .getChildren2(let p, let watch):
            w.writeString(p); w.writeBool(watch)
        case .transferLeadership(let target): w.writeLong(target)
        case .setData(let p, let d, let v): w.writeString(p); w.writeBuffer(d); w.writeInt(v)
        case .setACL(let p, let acl, let v): w.writeString(p); w.writeACLs(acl); w.writeInt(v)
        case .ping, .whoAmI, .closeSession: break
        case .multi(let ops), .multiRead(let ops):
            for op in ops { w.writeInt(op.opCode.rawValue); w.writeBool(false); w.writeInt(-1); op.write(to: &w) }
            w.writeInt(-1); w.writeBool(true); w.writeInt(-1)
        case .reconfig(let r):
            w.writeString(r.joiningServers); w.writeString(r.leavingServers); w.writeString(r.newMembers); w.writeLong(r.curConfigId)
        case .checkWatches(let p, let t), .removeWatches(let p, let t), .addWatch(let p, let t): w.writeString(p); w.writeInt(t)
        case .auth(let a): w.write(a)
        case .setWatches(let s, let v2): s.write(to: &w, version2: v2)
        case .sasl(let token): w.writeBuffer(token)
        }
    }
}
