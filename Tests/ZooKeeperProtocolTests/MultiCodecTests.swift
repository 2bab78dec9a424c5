import Jute
import NIOCore
import Testing
import ZooKeeperProtocol

/// multi and multiRead bodies: ZooKeeper's op types only, one kind per request, read flat.
struct MultiCodecTests {
    static let end: [UInt8] = header(type: -1, done: true)

    static func header(type: Int32, done: Bool = false) -> [UInt8] {
        var w = JuteWriter()
        w.writeInt(type); w.writeBool(done); w.writeInt(-1)
        return Array(w.buffer.readableBytesView)
    }

    static func decode(_ opCode: OpCode, _ bytes: [UInt8]) throws -> Request {
        var reader = JuteReader(ByteBuffer(bytes: bytes))
        return try Request.decode(opCode: opCode.rawValue, from: &reader)
    }

    @Test func aDeeplyNestedMultiIsRefusedWithoutRecursion() {
        // 30,000 levels of multi inside multi (540 KB): the frame that crashed the server.
        let levels = 30_000
        var bytes: [UInt8] = []
        bytes.reserveCapacity(levels * 18 + 9)
        for _ in 0..<levels { bytes += Self.header(type: OpCode.multi.rawValue) }
        bytes += Self.end
        for _ in 0..<levels { bytes += Self.end }
        #expect(throws: KeeperError.marshallingError) { try Self.decode(.multi, bytes) }
        #expect(throws: KeeperError.marshallingError) { try Self.decode(.multiRead, bytes) }
    }

    @Test func opsZooKeeperRefusesInsideAMultiFailTheWholeRequest() throws {
        var w = JuteWriter()
        w.writeString("/a")
        let path = Array(w.buffer.readableBytesView)
        for type: OpCode in [.getACL, .exists, .sync, .closeSession, .createSession, .deleteContainer, .multiRead, .setACL] {
            let bytes = Self.header(type: type.rawValue) + path + Self.end
            #expect(throws: KeeperError.marshallingError, "\(type)") { try Self.decode(.multi, bytes) }
        }
        #expect(throws: KeeperError.marshallingError) { try Self.decode(.multi, Self.header(type: 4242) + Self.end) }
    }

    @Test func readsAndWritesDoNotMix() throws {
        let mixed = Request.multi([.check(path: "/a", version: -1), .getData(path: "/a", watch: false)])
        var w = JuteWriter()
        mixed.write(to: &w)
        let bytes = Array(w.buffer.readableBytesView)
        #expect(throws: KeeperError.marshallingError) { try Self.decode(.multi, bytes) }
        #expect(throws: KeeperError.marshallingError) { try Self.decode(.multiRead, bytes) }
    }

    @Test func largeMultisAreBoundOnlyByTheFrame() throws {
        // 19 checks, 100 short creates and 40 getData were refused by the old count-versus-bytes bound.
        let checks = Request.multi((0..<19).map { _ in .check(path: "/a", version: -1) })
        let creates = Request.multi((0..<100).map { .create(CreateRequest(path: "/n\($0)", data: [])) })
        let reads = Request.multiRead((0..<40).map { _ in .getData(path: "/", watch: false) })
        for request in [checks, creates, reads] {
            var w = JuteWriter()
            request.write(to: &w)
            #expect(try Self.decode(request.opCode, Array(w.buffer.readableBytesView)) == request)
        }
    }

    @Test func readsInsideAMultiSetNoWatch() throws {
        var w = JuteWriter()
        Request.multiRead([.getData(path: "/a", watch: true), .getChildren(path: "/", watch: true)]).write(to: &w)
        let decoded = try Self.decode(.multiRead, Array(w.buffer.readableBytesView))
        #expect(decoded == .multiRead([.getData(path: "/a", watch: false), .getChildren(path: "/", watch: false)]))
    }

    @Test func aMultiTxnCannotHoldAMulti() throws {
        var inner = JuteWriter()
        Txn.multi([TypedTxn(type: .delete, txn: .delete(path: "/x"))]).write(to: &inner)
        var w = JuteWriter()
        w.writeInt(1)
        w.writeInt(OpCode.multi.rawValue)
        w.writeBuffer(Array(inner.buffer.readableBytesView))
        var reader = JuteReader(w.buffer)
        #expect(throws: KeeperError.marshallingError) { try Txn.decode(type: OpCode.multi.rawValue, from: &reader) }

        var flat = JuteWriter()
        let txn = Txn.multi([TypedTxn(type: .delete, txn: .delete(path: "/x")), TypedTxn(type: .error, txn: .error(-2))])
        txn.write(to: &flat)
        var flatReader = JuteReader(flat.buffer)
        #expect(try Txn.decode(type: OpCode.multi.rawValue, from: &flatReader) == txn)
    }

    @Test func aNestedMultiResponseIsRefused() {
        let bytes = Self.header(type: OpCode.multi.rawValue) + Self.end + Self.end
        var reader = JuteReader(ByteBuffer(bytes: bytes))
        #expect(throws: KeeperError.marshallingError) { try Response.decode(opCode: .multi, from: &reader) }
    }
}
