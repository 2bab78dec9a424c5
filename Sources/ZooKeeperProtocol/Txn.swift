import Jute

/// The header every transaction carries (`TxnHeader`).
public struct TxnHeader: JuteRecord, Hashable {
    /// The session that issued the request.
    public var clientId: Int64
    /// The client's xid for the request.
    public var cxid: Int32
    /// The transaction's zxid.
    public var zxid: Int64
    /// Wall-clock time in milliseconds when the leader prepared it.
    public var time: Int64
    /// The transaction type (an ``OpCode`` raw value).
    public var type: Int32

    public init(clientId: Int64, cxid: Int32, zxid: Int64, time: Int64, type: Int32) {
        self.clientId = clientId; self.cxid = cxid; self.zxid = zxid; self.time = time; self.type = type
    }
    public init(from r: inout JuteReader) throws {
        clientId = try r.readLong(); cxid = try r.readInt(); zxid = try r.readLong(); time = try r.readLong(); type = try r.readInt()
    }
    public func write(to w: inout JuteWriter) {
        w.writeLong(clientId); w.writeInt(cxid); w.writeLong(zxid); w.writeLong(time); w.writeInt(type)
    }
}

/// A change to the tree, as logged and replicated (the txn records of zookeeper.jute).
public indirect enum Txn: Hashable, Sendable {
    /// `CreateTxn`, logged as create or create2.
    case create(path: String, data: [UInt8]?, acl: [ACL], ephemeral: Bool, parentCVersion: Int32)
    /// `CreateTTLTxn`.
    case createTTL(path: String, data: [UInt8]?, acl: [ACL], parentCVersion: Int32, ttl: Int64)
    /// `CreateContainerTxn`.
    case createContainer(path: String, data: [UInt8]?, acl: [ACL], parentCVersion: Int32)
    /// `DeleteTxn`, logged as delete or deleteContainer.
    case delete(path: String)
    /// `SetDataTxn`; `version` is the new version.
    case setData(path: String, data: [UInt8]?, version: Int32)
    /// `CheckVersionTxn`.
    case check(path: String, version: Int32)
    /// `SetACLTxn`; `version` is the new ACL version.
    case setACL(path: String, acl: [ACL], version: Int32)
    /// `CreateSessionTxn`.
    case createSession(timeOut: Int32)
    /// `CloseSessionTxn`: the ephemerals to delete.
    case closeSession(paths: [String])
    /// `ErrorTxn`.
    case error(Int32)
    /// `MultiTxn`: each element with the type it is logged as.
    case multi([TypedTxn])

    /// Encodes the record body (without header).
    public func write(to w: inout JuteWriter) {
        switch self {
        case .create(let p, let d, let acl, let e, let cv):
            w.writeString(p); w.writeBuffer(d); w.writeACLs(acl); w.writeBool(e); w.writeInt(cv)
        case .createTTL(let p, let d, let acl, let cv, let ttl):
            w.writeString(p); w.writeBuffer(d); w.writeACLs(acl); w.writeInt(cv); w.writeLong(ttl)
        case .createContainer(let p, let d, let acl, let cv):
            w.writeString(p); w.writeBuffer(d); w.writeACLs(acl); w.writeInt(cv)
        case .delete(let p): w.writeString(p)
        case .setData(let p, let d, let v): w.writeString(p); w.writeBuffer(d); w.writeInt(v)
        case .check(let p, let v): w.writeString(p); w.writeInt(v)
        case .setACL(let p, let acl, let v): w.writeString(p); w.writeACLs(acl); w.writeInt(v)
        case .createSession(let t): w.writeInt(t)
        case .closeSession(let paths): w.writeStrings(paths)
        case .error(let e): w.writeInt(e)
        case .multi(let txns):
            w.writeVector(txns) { w, t in
                w.writeInt(t.type.rawValue)
                var inner = JuteWriter()
                t.txn.write(to: &inner)
                w.writeBuffer(Array(inner.buffer.readableBytesView))
            }
        }
    }

    /// The transaction types a `MultiTxn` may hold.
    public static let multiMemberTypes: Set<OpCode> = [
        .create, .create2, .createTTL, .createContainer, .delete, .deleteContainer, .setData, .check, .error,
    ]

    /// Decodes the body of a transaction of type `type`.
    public static func decode(type rawType: Int32, from r: inout JuteReader) throws -> Txn {
        guard let type = OpCode(rawValue: rawType) else { throw KeeperError.unimplemented }
        switch type {
        case .create, .create2:
            return .create(path: try r.readNonNullString(), data: try r.readBuffer(), acl: try r.readACLs(),
                           ephemeral: try r.readBool(), parentCVersion: r.remaining >= 4 ? try r.readInt() : -1)
        case .createTTL:
            return .createTTL(path: try r.readNonNullString(), data: try r.readBuffer(), acl: try r.readACLs(),
                              parentCVersion: try r.readInt(), ttl: try r.readLong())
        case .createContainer:
            return .createContainer(path: try r.readNonNullString(), data: try r.readBuffer(), acl: try r.readACLs(),
                                    parentCVersion: try r.readInt())
        case .delete, .deleteContainer: return .delete(path: try r.readNonNullString())
        case .setData: return .setData(path: try r.readNonNullString(), data: try r.readBuffer(), version: try r.readInt())
        case .check: return .check(path: try r.readNonNullString(), version: try r.readInt())
        case .setACL: return .setACL(path: try r.readNonNullString(), acl: try r.readACLs(), version: try r.readInt())
        case .createSession: return .createSession(timeOut: try r.readInt())
        case .closeSession: return .closeSession(paths: r.remaining > 0 ? try r.readStrings() : [])
        case .error: return .error(try r.readInt())
        case .multi:
            // The sub-transactions DataTree.processTxn accepts; a multi inside a multi is refused,
            // so a log record cannot make decoding recurse.
            let txns = try r.readVector { r -> TypedTxn in
                let subType = try r.readInt()
                guard let type = OpCode(rawValue: subType), Self.multiMemberTypes.contains(type) else {
                    throw KeeperError.marshallingError
                }
                var inner = JuteReader(ByteBuffer(bytes: try r.readBuffer() ?? []))
                return TypedTxn(type: type, txn: try Txn.decode(type: subType, from: &inner))
            } ?? []
            return .multi(txns)
        default:
            throw KeeperError.unimplemented
        }
    }
}

import NIOCore

/// A transaction together with the type it is logged as (create and create2 share a body).
public struct TypedTxn: Hashable, Sendable {
    public var type: OpCode
    public var txn: Txn
    public init(type: OpCode, txn: Txn) { self.type = type; self.txn = txn }
}
