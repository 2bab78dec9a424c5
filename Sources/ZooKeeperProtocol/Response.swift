import Jute

/// One result inside a multi or multiRead reply (`OpResult`).
public struct MultiResult: Hashable, Sendable {
    /// The opcode of the operation, or ``OpCode/error``.
    public var opCode: OpCode
    /// The error code; zero unless `opCode` is ``OpCode/error``.
    public var err: Int32
    /// The body that follows the ``MultiHeader``.
    public var body: Response

    public init(opCode: OpCode, err: Int32 = 0, body: Response) { self.opCode = opCode; self.err = err; self.body = body }

    /// A failed operation: `err` both in the header and in the `ErrorResponse` body.
    public static func error(_ err: KeeperError) -> MultiResult {
        MultiResult(opCode: .error, err: err.rawValue, body: .errorResponse(err.rawValue))
    }
}

/// The body of a reply, after its ``ReplyHeader``. Replies whose error is not zero have none.
public enum Response: Hashable, Sendable {
    case empty
    case create(path: String)
    case create2(path: String, stat: Stat)
    /// `ExistsResponse`, `SetDataResponse`, `SetACLResponse`.
    case stat(Stat)
    case getData(data: [UInt8]?, stat: Stat)
    case getACL(acl: [ACL], stat: Stat)
    case getChildren(children: [String])
    case getChildren2(children: [String], stat: Stat)
    case sync(path: String)
    case multi([MultiResult])
    case getAllChildrenNumber(Int32)
    case getEphemerals([String])
    case whoAmI([ClientInfo])
    case errorResponse(Int32)
    /// `SetSASLResponse`: the server's next SASL token (null with an error).
    case sasl(token: [UInt8]?)

    /// Encodes the body.
    public func write(to w: inout JuteWriter) {
        switch self {
        case .empty: break
        case .create(let p), .sync(let p): w.writeString(p)
        case .create2(let p, let s): w.writeString(p); w.write(s)
        case .stat(let s): w.write(s)
        case .getData(let d, let s): w.writeBuffer(d); w.write(s)
        case .getACL(let acl, let s): w.writeACLs(acl); w.write(s)
        case .getChildren(let c), .getEphemerals(let c): w.writeStrings(c)
        case .getChildren2(let c, let s): w.writeStrings(c); w.write(s)
        case .multi(let results):
            for result in results {
                w.writeInt(result.opCode.rawValue); w.writeBool(false); w.writeInt(result.err)
                result.body.write(to: &w)
            }
            w.writeInt(-1); w.writeBool(true); w.writeInt(-1)
        case .getAllChildrenNumber(let n), .errorResponse(let n): w.writeInt(n)
        case .whoAmI(let infos): w.writeVector(infos) { $0.write($1) }
        case .sasl(let token): w.writeBuffer(token)
        }
    }
}

extension Response {
    /// Decodes the body of a successful reply to a request of type `opCode`, as a client does.
    public static func decode(opCode: OpCode, from r: inout JuteReader) throws -> Response {
        switch opCode {
        case .create: return .create(path: try r.readNonNullString())
        case .create2, .createTTL, .createContainer:
            return .create2(path: try r.readNonNullString(), stat: try r.read())
        case .exists, .setData, .setACL: return .stat(try r.read())
        case .getData, .reconfig: return .getData(data: try r.readBuffer(), stat: try r.read())
        case .getACL: return .getACL(acl: try r.readACLs(), stat: try r.read())
        case .getChildren: return .getChildren(children: try r.readStrings())
        case .getChildren2: return .getChildren2(children: try r.readStrings(), stat: try r.read())
        case .sync: return .sync(path: try r.readNonNullString())
        case .getAllChildrenNumber: return .getAllChildrenNumber(try r.readInt())
        case .getEphemerals: return .getEphemerals(try r.readStrings())
        case .whoAmI: return .whoAmI(try r.readVector { try $0.read(ClientInfo.self) } ?? [])
        case .addWatch: return .errorResponse(try r.readInt())
        case .multi, .multiRead:
            // The result types of ZooKeeper's MultiResponse, read flat: nothing nests.
            var results: [MultiResult] = []
            while true {
                let type = try r.readInt()
                let done = try r.readBool()
                let err = try r.readInt()
                if done { return .multi(results) }
                switch OpCode(rawValue: type) {
                case .error: results.append(MultiResult(opCode: .error, err: err, body: .errorResponse(try r.readInt())))
                case .delete: results.append(MultiResult(opCode: .delete, body: .empty))
                case .check: results.append(MultiResult(opCode: .check, body: .empty))
                case .create: results.append(MultiResult(opCode: .create, body: .create(path: try r.readNonNullString())))
                case .create2:
                    results.append(MultiResult(opCode: .create2, body: .create2(path: try r.readNonNullString(), stat: try r.read())))
                case .setData: results.append(MultiResult(opCode: .setData, body: .stat(try r.read())))
                case .getChildren:
                    results.append(MultiResult(opCode: .getChildren, body: .getChildren(children: try r.readStrings())))
                case .getData:
                    results.append(MultiResult(opCode: .getData, body: .getData(data: try r.readBuffer(), stat: try r.read())))
                default: throw KeeperError.marshallingError
                }
            }
        default: return .empty
        }
    }
}
