import Jute
import NIOCore
import Testing
import ZooKeeperProtocol

struct RequestCodecTests {
    func roundTrip(_ request: Request) throws -> Request {
        var writer = JuteWriter()
        request.write(to: &writer)
        var reader = JuteReader(writer.buffer)
        let decoded = try Request.decode(opCode: request.opCode.rawValue, from: &reader)
        #expect(reader.remaining == 0)
        return decoded
    }

    @Test func everyRequestRoundTrips() throws {
        let requests: [Request] = [
            .create(CreateRequest(opCode: .create2, path: "/a", data: [1, 2], acl: ACL.openUnsafe, flags: 3)),
            .create(CreateRequest(opCode: .createTTL, path: "/t", flags: 5, ttl: 1000)),
            .delete(path: "/a", version: 4), .exists(path: "/a", watch: true), .getData(path: "/a", watch: false),
            .setData(path: "/a", data: [9], version: -1), .getACL(path: "/a"),
            .setACL(path: "/a", acl: [ACL(perms: 1, id: Id(scheme: "ip", id: "10.0.0.0/8"))], version: 2),
            .getChildren(path: "/", watch: true), .getChildren2(path: "/", watch: false), .sync(path: "/"),
            .check(path: "/a", version: 1), .multi([.delete(path: "/x", version: -1), .check(path: "/y", version: 0)]),
            .multiRead([.getData(path: "/x", watch: false)]),
            .reconfig(ReconfigRequest(joiningServers: nil, leavingServers: "1", newMembers: nil, curConfigId: -1)),
            .checkWatches(path: "/a", type: 3), .removeWatches(path: "/a", type: 1),
            .auth(AuthPacket(scheme: "digest", auth: Array("u:p".utf8))),
            .setWatches(SetWatches(relativeZxid: 7, dataWatches: ["/a"]), version2: false),
            .setWatches(SetWatches(relativeZxid: 7, persistentRecursiveWatches: ["/r"]), version2: true),
            .getEphemerals(prefixPath: "/"), .getAllChildrenNumber(path: "/"), .addWatch(path: "/", mode: 1),
        ]
        for request in requests {
            #expect(try roundTrip(request) == request)
        }
    }

    @Test func unknownOpcodeIsUnimplemented() {
        var reader = JuteReader(ByteBuffer())
        #expect(throws: KeeperError.unimplemented) { try Request.decode(opCode: 4242, from: &reader) }
    }

    @Test func truncatedBodiesThrowInsteadOfTrapping() {
        var writer = JuteWriter()
        Request.setData(path: "/some/path", data: Array(repeating: 7, count: 40), version: 3).write(to: &writer)
        let full = Array(writer.buffer.readableBytesView)
        for length in 0..<full.count {
            var reader = JuteReader(ByteBuffer(bytes: full[0..<length]))
            #expect(throws: (any Error).self) { try Request.decode(opCode: OpCode.setData.rawValue, from: &reader) }
        }
    }

    @Test func hostileLengthsAreRejected() {
        var writer = JuteWriter()
        writer.writeInt(Int32.max)
        var reader = JuteReader(writer.buffer, maximumLength: 1024)
        #expect(throws: JuteError.invalidLength(Int32.max)) { _ = try reader.readBuffer() }
        var vector = JuteWriter()
        vector.writeInt(1_000_000)
        var vectorReader = JuteReader(vector.buffer)
        #expect(throws: JuteError.invalidLength(1_000_000)) { _ = try vectorReader.readStrings() }
    }

    @Test func connectRequestWithAndWithoutReadOnlyByte() throws {
        let withByte = ConnectRequest(lastZxidSeen: 5, timeOut: 30000, sessionId: 0, passwd: Array(repeating: 0, count: 16), readOnly: false)
        let withoutByte = ConnectRequest(lastZxidSeen: 5, timeOut: 30000, sessionId: 0, passwd: Array(repeating: 0, count: 16), readOnly: nil)
        #expect(try ConnectRequest(decoding: withByte.encoded()) == withByte)
        #expect(try ConnectRequest(decoding: withoutByte.encoded()) == withoutByte)
        #expect(withByte.encoded().readableBytes == withoutByte.encoded().readableBytes + 1)
    }

    @Test func paths() {
        for valid in ["/", "/a", "/a/b", "/zookeeper/config", "/ünïcode"] { #expect(ZNodePath.isValid(valid), "\(valid)") }
        for invalid in ["", "a", "/a/", "//", "/a//b", "/.", "/a/..", "/a\u{0}", "/\u{1}", "/\u{FFF5}"] {
            #expect(!ZNodePath.isValid(invalid), "\(invalid)")
        }
        #expect(ZNodePath.isValid("/a/", sequential: true))
        #expect(ZNodePath.parent(of: "/a/b") == "/a")
        #expect(ZNodePath.parent(of: "/a") == "/")
        #expect(ZNodePath.name(of: "/a/b") == "b")
    }
}
