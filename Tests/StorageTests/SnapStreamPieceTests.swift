import DataTree
import Foundation
import NIOCore
import Storage
import Testing
import ZooKeeperProtocol

/// The SNAP stream taken piece by piece, as a learner gets it from the network and a leader
/// sends it while the tree changes.
struct SnapStreamPieceTests {
    /// A tree with sessions, ephemerals, ACL lists and znodes with and without data.
    static func sampleTree(nodes: Int = 300) -> DataTree {
        let tree = DataTree()
        var zxid: Int64 = 0
        var events: [WatchNotification] = []
        func apply(_ txn: Txn, session: Int64 = 0) {
            zxid += 1
            let type: OpCode
            switch txn {
            case .createSession: type = .createSession
            case .setACL: type = .setACL
            case .setData: type = .setData
            default: type = .create
            }
            _ = tree.apply(TxnHeader(clientId: session, cxid: Int32(zxid), zxid: zxid, time: zxid, type: type.rawValue), txn: txn, notifications: &events)
        }
        apply(.createSession(timeOut: 30_000), session: 0x1234)
        let restricted = [ACL(perms: Permissions.read.rawValue, id: Id(scheme: "digest", id: "u:abc=")), ACL(perms: 31, id: Id(scheme: "ip", id: "127.0.0.1"))]
        for parent in 0..<10 {
            apply(.create(path: "/p\(parent)", data: parent % 2 == 0 ? nil : [UInt8(parent)], acl: parent == 3 ? restricted : ACL.openUnsafe,
                          ephemeral: false, parentCVersion: -1))
        }
        for index in 0..<nodes {
            apply(.create(path: "/p\(index % 10)/n\(index)", data: Array(repeating: UInt8(index & 0xFF), count: index % 37),
                          acl: index % 5 == 0 ? ACL.readUnsafe : ACL.openUnsafe, ephemeral: index % 7 == 0, parentCVersion: -1),
                  session: index % 7 == 0 ? 0x1234 : 0)
        }
        return tree
    }

    /// Feeds `bytes` to a decoder in the given piece sizes (cycled); returns the tree, the body
    /// bytes it reported, and what it left unread.
    static func decodeInPieces(_ bytes: [UInt8], sizes: [Int], zxid: Int64) throws -> (DataTree?, [UInt8], [UInt8]) {
        var decoder = SnapStream.Decoder(zxid: zxid, expectedNodes: 4)
        var pending = ByteBuffer()
        var body: [UInt8] = []
        var offset = 0, turn = 0
        var tree: DataTree?
        while offset < bytes.count, tree == nil {
            let size = sizes[turn % sizes.count]
            turn += 1
            pending.writeBytes(bytes[offset..<min(bytes.count, offset + size)])
            offset = min(bytes.count, offset + size)
            let unread = pending
            let progress = try decoder.read(&pending)
            body += unread.getBytes(at: unread.readerIndex, length: progress.bodyBytes) ?? []
            tree = progress.tree
        }
        pending.writeBytes(bytes[offset...])
        return (tree, body, Array(pending.readableBytesView))
    }

    @Test func aZooKeeperStreamInAnyPiecesBuildsTheSameTree() throws {
        let captured = try #require(SnapStreamTests.captured)
        let whole = try SnapStream.decode(ByteBuffer(bytes: captured.bytes), zxid: captured.zxid)
        let next = [UInt8](repeating: 9, count: 5)  // the packet that follows on the connection
        for sizes in [[1], [3, 7], [64], [1000, 1], [captured.bytes.count + next.count]] {
            let (tree, body, rest) = try Self.decodeInPieces(captured.bytes + next, sizes: sizes, zxid: captured.zxid)
            let decoded = try #require(tree, "pieces of \(sizes)")
            #expect(decoded.paths().sorted() == whole.paths().sorted() && decoded.digest == whole.digest, "pieces of \(sizes)")
            #expect(body == Array(captured.bytes.dropLast(4 + SnapStream.signature.utf8.count)), "pieces of \(sizes)")
            #expect(rest == next, "pieces of \(sizes)")
        }
    }

    @Test func ourStreamInRandomPiecesBuildsTheTreeItCameFrom() throws {
        let tree = Self.sampleTree()
        let bytes = Array(SnapStream.encode(tree).readableBytesView)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5 {
            let sizes = (0..<20).map { _ in Int.random(in: 1...2000, using: &generator) }
            let (decoded, _, rest) = try Self.decodeInPieces(bytes, sizes: sizes, zxid: tree.lastProcessedZxid)
            let built = try #require(decoded, "pieces of \(sizes)")
            #expect(rest.isEmpty)
            #expect(built.paths().sorted() == tree.paths().sorted() && built.digest == tree.digest, "pieces of \(sizes)")
            #expect(built.sessions == tree.sessions)
            let restricted = try #require(built.node("/p3"))
            #expect(built.acl(of: restricted).count == 2)
            #expect(built.ephemerals(of: 0x1234, prefix: "/").sorted() == tree.ephemerals(of: 0x1234, prefix: "/").sorted() && !tree.ephemerals(of: 0x1234, prefix: "/").isEmpty)
        }
    }

    @Test func aStreamCutShortWaitsAndAMalformedOneIsRefused() throws {
        let tree = Self.sampleTree(nodes: 20)
        let bytes = Array(SnapStream.encode(tree).readableBytesView)
        for cut in [0, 3, 4, 11, bytes.count / 2, bytes.count - 1] {
            var decoder = SnapStream.Decoder(zxid: 1)
            var buffer = ByteBuffer(bytes: bytes.prefix(cut))
            #expect(try decoder.read(&buffer).tree == nil, "cut at \(cut)")
            #expect(!decoder.isFinished)
        }
        for malformed: [UInt8] in [[0xFF, 0xFF, 0xFF, 0xF0], [0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFE],
                                   [0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]] {
            var decoder = SnapStream.Decoder(zxid: 1)
            var buffer = ByteBuffer(bytes: malformed)
            #expect(throws: SnapshotError.self, "\(malformed)") { try decoder.read(&buffer) }
        }
        // A wrong signature.
        var wrong = bytes
        wrong[wrong.count - 1] ^= 0x20
        #expect(throws: SnapshotError.self) { try SnapStream.decode(ByteBuffer(bytes: wrong), zxid: 1) }
    }

    /// The leader sends the ACL cache first, as it was when the stream began: a znode created
    /// meanwhile with a new ACL list is left out (its subtree too), one given a new list goes
    /// as open, and replaying the transactions after the SNAP's zxid restores both.
    @Test func znodesWithListsNewerThanTheStreamAreRestoredByTheReplay() throws {
        let tree = Self.sampleTree(nodes: 50)
        let encoder = SnapStream.Encoder(tree: tree)
        var stream = encoder.prefix()
        var first = encoder.nextChunk(maximumNodes: 1)  // the root: every other znode still to come
        stream.writeBuffer(&first)
        let snapZxid = encoder.zxid
        let newList = [ACL(perms: Permissions.all.rawValue, id: Id(scheme: "digest", id: "new:xyz="))]
        let otherList = [ACL(perms: Permissions.read.rawValue, id: Id(scheme: "digest", id: "other:xyz="))]
        var replay: [(TxnHeader, Txn)] = []
        var events: [WatchNotification] = []
        var zxid = snapZxid
        func apply(_ txn: Txn, _ type: OpCode) {
            zxid += 1
            let header = TxnHeader(clientId: 0, cxid: 1, zxid: zxid, time: zxid, type: type.rawValue)
            _ = tree.apply(header, txn: txn, notifications: &events)
            replay.append((header, txn))
        }
        apply(.create(path: "/p1/late", data: [1], acl: newList, ephemeral: false, parentCVersion: -1), .create)
        apply(.create(path: "/p1/late/child", data: [2], acl: ACL.openUnsafe, ephemeral: false, parentCVersion: -1), .create)
        apply(.setACL(path: "/p2", acl: otherList, version: -1), .setACL)
        while !encoder.isFinished {
            var chunk = encoder.nextChunk(maximumNodes: 7)
            stream.writeBuffer(&chunk)
        }
        var end = encoder.end()
        stream.writeBuffer(&end)
        let received = try SnapStream.decode(stream, zxid: snapZxid)
        #expect(received.node("/p1/late") == nil && received.node("/p1/late/child") == nil)
        let p2 = try #require(received.node("/p2"))
        #expect(received.acl(of: p2) == ACL.openUnsafe)
        for (header, txn) in replay { _ = received.apply(header, txn: txn, notifications: &events) }
        #expect(received.paths().sorted() == tree.paths().sorted())
        let late = try #require(received.node("/p1/late"))
        #expect(received.acl(of: late) == newList)
        let p2Again = try #require(received.node("/p2"))
        #expect(received.acl(of: p2Again) == otherList)
    }

    /// A learner writes the stream's body as its snapshot file as the pieces come: the file
    /// loads (its checksum holds) to the tree the stream decodes to.
    @Test func aStreamWrittenAsItCameIsASnapshotFile() throws {
        let captured = try #require(SnapStreamTests.captured)
        let decoded = try SnapStream.decode(ByteBuffer(bytes: captured.bytes), zxid: captured.zxid)
        let directory = NSTemporaryDirectory() + "snap-stream-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = StreamedSnapshotFile(directory: directory, zxid: captured.zxid)
        let (_, body, _) = try Self.decodeInPieces(captured.bytes, sizes: [5, 50, 500], zxid: captured.zxid)
        var offset = 0
        for size in [1, 10, 100, body.count] where offset < body.count {
            file.append(ByteBuffer(bytes: body[offset..<min(body.count, offset + size)]))
            offset = min(body.count, offset + size)
        }
        let path = try file.finish().wait()
        #expect(path.hasSuffix(DataDirectory.snapshotName(captured.zxid)))
        let loaded = try SnapshotLoader.load(path, zxid: captured.zxid)
        #expect(loaded.paths().sorted() == decoded.paths().sorted() && loaded.digest == decoded.digest)

        // Given up, it leaves nothing behind.
        let abandoned = StreamedSnapshotFile(directory: directory, zxid: captured.zxid + 1)
        abandoned.append(ByteBuffer(bytes: body))
        abandoned.abandon()
        var names = try FileManager.default.contentsOfDirectory(atPath: directory)
        for _ in 0..<500 where names.contains(where: { $0.hasPrefix(DataDirectory.snapshotName(captured.zxid + 1)) }) {
            usleep(10_000)  // the writer's thread removes it
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        }
        #expect(!names.contains { $0.hasPrefix(DataDirectory.snapshotName(captured.zxid + 1)) }, "\(names)")
    }

    /// A stream larger than the writer's writeback step (the disk is told to start writing
    /// every 8 MB, not to wait for the last fsync) still makes a file that loads to its tree.
    @Test func aStreamLargerThanTheWritebackStepIsWhole() throws {
        let tree = DataTree()
        var events: [WatchNotification] = []
        let data = [UInt8](repeating: 0x5a, count: 700)
        for index in 1...25_000 {
            let path = index <= 20 ? "/p\(index)" : "/p\(index % 20 + 1)/n\(index)"
            _ = tree.apply(TxnHeader(clientId: 0, cxid: Int32(index), zxid: Int64(index), time: Int64(index), type: OpCode.create.rawValue),
                           txn: .create(path: path, data: data, acl: ACL.openUnsafe, ephemeral: false, parentCVersion: -1),
                           notifications: &events)
        }
        let stream = SnapStream.encode(tree)
        let signatureSize = 4 + SnapStream.signature.utf8.count
        let body = stream.getBytes(at: stream.readerIndex, length: stream.readableBytes - signatureSize) ?? []
        #expect(Int64(body.count) > 2 * StreamedSnapshotFile.writebackStep)
        let directory = NSTemporaryDirectory() + "snap-stream-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = StreamedSnapshotFile(directory: directory, zxid: tree.lastProcessedZxid)
        var offset = 0
        while offset < body.count {
            let end = min(body.count, offset + 3_000_001)
            file.append(ByteBuffer(bytes: body[offset..<end]))
            offset = end
        }
        let loaded = try SnapshotLoader.load(try file.finish().wait(), zxid: tree.lastProcessedZxid)
        #expect(loaded.nodeCount == tree.nodeCount && loaded.digest == tree.digest)
    }
}
