import DataTree
import Foundation
import Jute
import NIOConcurrencyHelpers
import NIOCore
@testable import Storage
import Testing
import ZooKeeperProtocol

struct Adler32Tests {
    @Test func knownValues() {
        #expect(Adler32.checksum([]) == 1)
        #expect(Adler32.checksum(Array("Wikipedia".utf8)) == 0x11E6_0398)
        let long = [UInt8](repeating: 0xFF, count: 100_000)
        var incremental = Adler32()
        incremental.update(long[0..<33_333])
        incremental.update(long[33_333...])
        #expect(incremental.value == Adler32.checksum(long))
    }

    /// The eight-at-a-time path agrees with the byte-at-a-time one at every length around
    /// its block and chunk edges, on varied bytes.
    @Test func fastPathMatchesBytewise() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let bytes = (0..<12_000).map { _ -> UInt8 in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
        for length in [0, 1, 7, 8, 9, 15, 16, 17, 5_551, 5_552, 5_553, 11_104, 11_105, 12_000] {
            var bytewise = Adler32()
            bytewise.update(bytes[0..<length])
            #expect(Adler32.checksum(Array(bytes[0..<length])) == bytewise.value, "length \(length)")
        }
    }
}

struct TxnLogTests {
    static func log(_ txns: [(TxnHeader, Txn)]) -> ByteBuffer {
        var buffer = FileHeader.log.encoded()
        for (header, txn) in txns { TxnLogRecord.append(header, txn, to: &buffer) }
        return buffer
    }

    static let txns: [(TxnHeader, Txn)] = (1...5).map { zxid in
        (TxnHeader(clientId: 7, cxid: Int32(zxid), zxid: Int64(zxid), time: 1000, type: OpCode.create.rawValue),
         Txn.create(path: "/n\(zxid)", data: [UInt8(zxid)], acl: ACL.openUnsafe, ephemeral: false, parentCVersion: Int32(zxid)))
    }

    @Test func recordsReadBack() {
        var bytes = Self.log(Self.txns)
        bytes.writeRepeatingByte(0, count: 4096)
        let scan = TxnLogScan(bytes: bytes)
        #expect(scan.end == .clean)
        #expect(scan.records.map(\.header.zxid) == [1, 2, 3, 4, 5])
        #expect(scan.records.last?.txn == Self.txns.last?.1)
    }

    @Test func everyTruncationKeepsTheWholeRecords() {
        let full = Self.log(Self.txns)
        let recordEnds = (0...5).map { Self.log(Array(Self.txns.prefix($0))).readableBytes }
        for length in FileHeader.size..<full.readableBytes {
            let scan = TxnLogScan(bytes: full.getSlice(at: 0, length: length) ?? ByteBuffer())
            let whole = recordEnds.lastIndex { $0 <= length } ?? 0
            #expect(scan.records.count == whole, "cut at \(length)")
            #expect(scan.validLength == recordEnds[whole])
        }
    }

    @Test func flippedBitsAreCaughtByTheChecksum() {
        let full = Self.log(Self.txns)
        let lastStart = Self.log(Array(Self.txns.prefix(4))).readableBytes
        for offset in lastStart..<full.readableBytes {
            var damaged = full
            let byte = damaged.getInteger(at: offset, as: UInt8.self) ?? 0
            damaged.setInteger(byte ^ 0x10, at: offset)
            let scan = TxnLogScan(bytes: damaged)
            #expect(scan.records.count == 4, "flip at \(offset)")
            #expect(scan.validLength == lastStart)
        }
    }

    @Test func zerosThenDataIsTorn() {
        var bytes = Self.log(Array(Self.txns.prefix(2)))
        let cut = bytes.readableBytes
        bytes.writeRepeatingByte(0, count: 100)
        bytes.writeBytes([1, 2, 3])
        let scan = TxnLogScan(bytes: bytes)
        #expect(scan.records.count == 2 && scan.validLength == cut)
        if case .torn = scan.end {} else { Issue.record("expected a torn end") }
        #expect(scan.droppedBytes == 103)
    }
}

struct SnapshotTests {
    /// Loads snapshot bytes the way recovery does: from a file, through ``SnapshotLoader``.
    static func load(_ bytes: ByteBuffer, zxid: Int64 = 0) throws -> DataTree {
        let path = NSTemporaryDirectory() + "aviary-snapshot-\(UUID().uuidString)"
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes.readableBytesView))
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try SnapshotLoader.load(path, zxid: zxid)
    }

    /// Serializes the rest of a fuzzy snapshot begun with `nodes`, `chunk` znodes at a time,
    /// then loads the whole file.
    static func loadFinished(_ serializer: SnapshotSerializer, after nodes: ByteBuffer, chunk: Int) throws -> DataTree {
        var nodes = nodes
        while !serializer.isFinished { serializer.appendChunk(maximumNodes: chunk, to: &nodes) }
        var file = serializer.finish()
        file.writeBuffer(&nodes)
        SnapshotSerializer.seal(&file)
        return try load(file)
    }

    static func sampleTree() -> DataTree {
        let tree = DataTree()
        var events: [WatchNotification] = []
        var zxid: Int64 = 0
        func apply(_ txn: Txn, _ type: OpCode, session: Int64 = 0x55) {
            zxid += 1
            _ = tree.apply(TxnHeader(clientId: session, cxid: 0, zxid: zxid, time: 99, type: type.rawValue), txn: txn, notifications: &events)
        }
        apply(.createSession(timeOut: 4000), .createSession)
        apply(.create(path: "/a", data: [1, 2, 3], acl: ACL.openUnsafe, ephemeral: false, parentCVersion: 1), .create)
        apply(.create(path: "/a/e", data: nil, acl: [ACL(perms: 1, id: Id(scheme: "digest", id: "u:x"))], ephemeral: true, parentCVersion: 1), .create)
        apply(.createContainer(path: "/box", data: [], acl: ACL.openUnsafe, parentCVersion: 2), .createContainer)
        apply(.createTTL(path: "/ttl", data: [], acl: ACL.openUnsafe, parentCVersion: 3, ttl: 5000), .createTTL)
        return tree
    }

    @Test func roundTrip() throws {
        let tree = Self.sampleTree()
        let bytes = SnapshotSerializer.serialize(tree)
        let restored = try Self.load(bytes, zxid: tree.lastProcessedZxid)
        #expect(restored.paths().sorted() == tree.paths().sorted())
        for path in tree.paths() {
            guard let node = tree.node(path), let other = restored.node(path) else { Issue.record("\(path) is missing"); continue }
            #expect(restored.data(of: other) == tree.data(of: node) && other.stat == node.stat, "\(path)")
            #expect(restored.childNames(of: other) == tree.childNames(of: node), "\(path)")
            #expect(restored.acl(of: other) == tree.acl(of: node), "\(path)")
        }
        #expect(restored.sessions == [0x55: 4000])
        #expect(restored.ephemerals[0x55] == ["/a/e"])
        #expect(restored.containers == ["/box"] && restored.ttlNodes == ["/ttl"])
        #expect(SnapshotSerializer.serialize(restored) == bytes, "re-serializing gives the same bytes")
    }

    /// More znodes than one read window of the loader, at several depths: every znode comes
    /// back under its path with the same children in the same order.
    @Test func largeTreesLoadAcrossBatches() throws {
        let tree = DataTree()
        var events: [WatchNotification] = []
        var zxid: Int64 = 0
        func create(_ path: String) {
            zxid += 1
            let txn = Txn.create(path: path, data: Array(path.utf8) + Array(repeating: 7, count: 300), acl: ACL.openUnsafe, ephemeral: false, parentCVersion: -1)
            _ = tree.apply(TxnHeader(clientId: 1, cxid: 0, zxid: zxid, time: 5, type: OpCode.create.rawValue), txn: txn, notifications: &events)
        }
        for parent in 0..<3 {
            create("/p\(parent)")
            for child in 0..<3_000 {
                create("/p\(parent)/c\(child)")
                if child % 500 == 0 { create("/p\(parent)/c\(child)/deep") }
            }
        }
        // One znode larger than the loader's read window.
        zxid += 1
        let big = (0..<900_000).map { UInt8(truncatingIfNeeded: $0 % 251) }
        _ = tree.apply(TxnHeader(clientId: 1, cxid: 0, zxid: zxid, time: 5, type: OpCode.create.rawValue),
                       txn: .create(path: "/p1/big", data: big, acl: ACL.openUnsafe, ephemeral: false, parentCVersion: -1),
                       notifications: &events)
        let restored = try Self.load(SnapshotSerializer.serialize(tree), zxid: zxid)
        #expect(restored.node("/p1/big").map(restored.data(of:)) == big)
        #expect(restored.nodeCount == tree.nodeCount && tree.nodeCount > 9_000)
        for path in tree.paths() {
            guard let node = tree.node(path), let other = restored.node(path) else { Issue.record("\(path) is missing"); continue }
            #expect(restored.childNames(of: other) == tree.childNames(of: node) && restored.data(of: other) == tree.data(of: node), "\(path)")
        }
    }

    /// A snapshot naming a znode whose parent it lacks is refused, not served half-linked.
    /// A sealed snapshot of znodes with the given paths (empty for the root) and no data.
    static func snapshot(of paths: [String]) -> ByteBuffer {
        var writer = JuteWriter(FileHeader.snapshot.encoded())
        writer.writeInt(0)  // sessions
        writer.writeInt(0)  // ACL lists
        for path in paths {
            writer.writeString(path)
            writer.writeBuffer(Array(path.utf8))
            writer.writeLong(-1)
            writer.write(StatPersisted())
        }
        writer.writeString("/")  // the end of the znodes, under the checksum
        var bytes = writer.buffer
        bytes.writeInteger(Adler32.checksum(Array(bytes.readableBytesView)))
        var seal = JuteWriter()
        seal.writeString("/")
        bytes.writeImmutableBuffer(seal.buffer)
        return bytes
    }

    @Test func aZnodeWithoutItsParentIsRefused() {
        #expect {
            try Self.load(Self.snapshot(of: ["", "/orphan/child"]))
        } throws: { error in
            "\(error)".contains("/orphan/child has no parent")
        }
    }

    @Test func aPathTwiceIsRefused() {
        #expect {
            try Self.load(Self.snapshot(of: ["", "/a", "/a/b", "/c", "/a/b"]))
        } throws: { error in
            "\(error)".contains("/a/b appears twice")
        }
    }

    /// ZooKeeper writes parents first, but a snapshot that does not is still a tree: every
    /// znode is linked once its parent has come, with the right child counts.
    @Test func childrenBeforeTheirParentsAreLinked() throws {
        let tree = try Self.load(Self.snapshot(of: ["/a/b/c", "", "/x", "/a/b", "/x/y", "/a", "/a/d"]))
        #expect(Set(tree.paths()) == ["/", "/a", "/a/b", "/a/b/c", "/a/d", "/x", "/x/y"])
        #expect(tree.node("/a")?.childCount == 2 && tree.node("/a/b")?.childCount == 1 && tree.node("/")?.childCount == 2)
        #expect(tree.node("/a/b/c").map(tree.data(of:)) == Array("/a/b/c".utf8))
        #expect(tree.descendantCount(of: "/a") == 3)
    }

    @Test func anyDamageIsDetected() {
        let bytes = SnapshotSerializer.serialize(Self.sampleTree())
        for offset in stride(from: 0, to: bytes.readableBytes, by: 3) {
            var damaged = bytes
            let byte = damaged.getInteger(at: offset, as: UInt8.self) ?? 0
            damaged.setInteger(byte ^ 0x01, at: offset)
            #expect(throws: SnapshotError.self, "flip at \(offset)") { try Self.load(damaged) }
        }
        for length in stride(from: 0, to: bytes.readableBytes, by: 7) {
            #expect(throws: SnapshotError.self) { try Self.load(bytes.getSlice(at: 0, length: length) ?? ByteBuffer()) }
        }
    }

    /// Between two chunks znodes not yet written are deleted, one is deleted and created again
    /// at the same path (its record may be reused by another), and new ones appear: the snapshot
    /// has each znode at most once, none of the deleted ones, and every one left untouched.
    @Test func aFuzzySnapshotSkipsWhatWasDeletedMeanwhile() throws {
        let tree = DataTree()
        var events: [WatchNotification] = []
        var zxid: Int64 = 0
        func apply(_ txn: Txn, _ type: OpCode) {
            zxid += 1
            _ = tree.apply(TxnHeader(clientId: 0, cxid: 0, zxid: zxid, time: 1, type: type.rawValue), txn: txn, notifications: &events)
        }
        func create(_ path: String) { apply(.create(path: path, data: Array(path.utf8), acl: ACL.openUnsafe, ephemeral: false, parentCVersion: -1), .create) }
        create("/p")
        for index in 0..<40 { create("/p/n\(index)") }
        create("/p/n3/deep")
        let serializer = SnapshotSerializer(tree: tree)
        let nodes = serializer.nextChunk(maximumNodes: 8)
        apply(.delete(path: "/p/n20"), .delete)
        apply(.delete(path: "/p/n3/deep"), .delete)
        apply(.delete(path: "/p/n30"), .delete)
        create("/p/n30")
        create("/p/late")
        let loaded = try Self.loadFinished(serializer, after: nodes, chunk: 8)
        let paths = Set(loaded.paths())
        #expect(loaded.paths().count == paths.count, "each znode once")
        #expect(!paths.contains("/p/n20") && !paths.contains("/p/n3/deep"))
        for index in 0..<40 where index != 20 && index != 30 {
            #expect(paths.contains("/p/n\(index)"), "/p/n\(index)")
            #expect(loaded.node("/p/n\(index)").flatMap { loaded.data(of: $0) } == Array("/p/n\(index)".utf8))
        }
    }

    @Test func fuzzySnapshotHoldsEveryACLItWrote() throws {
        let tree = Self.sampleTree()
        let serializer = SnapshotSerializer(tree: tree)
        let nodes = serializer.nextChunk(maximumNodes: 2)
        // While the snapshot is under way, /a/e goes and with it the only use of its ACL list.
        var events: [WatchNotification] = []
        _ = tree.apply(TxnHeader(clientId: 0x55, cxid: 0, zxid: 6, time: 100, type: OpCode.delete.rawValue),
                       txn: .delete(path: "/a/e"), notifications: &events)
        let loaded = try Self.loadFinished(serializer, after: nodes, chunk: 2)
        for node in loaded.paths().compactMap(loaded.node) where node.aclReference != -1 {
            #expect(loaded.aclCache.listsByReference[node.aclReference] != nil)
        }
        #expect(!tree.aclCache.listsByReference.values.contains { $0.first?.id.scheme == "digest" },
                "the deleted node's list is released once the snapshot is done")
    }
}

struct RecoveryTests {
    func directory() throws -> (DataDirectory, String) {
        let root = NSTemporaryDirectory() + "aviary-recovery-\(UUID().uuidString)"
        let directory = DataDirectory(dataDir: root)
        try directory.create()
        return (directory, root)
    }

    @Test func corruptNewestSnapshotFallsBackToTheOneBefore() throws {
        let (directory, root) = try directory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let empty = DataTree()
        _ = try SnapshotFileWriter.writeNow(SnapshotSerializer.serialize(empty), directory: directory.snapshotDirectory, zxid: 0)
        var log = TxnLogTests.log(TxnLogTests.txns)
        log.writeRepeatingByte(0, count: 1000)
        _ = FileManager.default.createFile(atPath: directory.logDirectory + "/log.1", contents: Data(log.readableBytesView))
        _ = FileManager.default.createFile(atPath: directory.snapshotDirectory + "/snapshot.3", contents: Data("garbage".utf8))
        let (tree, report) = try Recovery.recover(directory, repair: true)
        #expect(tree.lastProcessedZxid == 5 && tree.node("/n5") != nil)
        #expect(report.skippedSnapshots.count == 1)
    }

    @Test func logsWithoutSnapshotsRefuseToStart() throws {
        let (directory, root) = try directory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let log = TxnLogTests.log(Array(TxnLogTests.txns.suffix(2)))
        _ = FileManager.default.createFile(atPath: directory.logDirectory + "/log.4", contents: Data(log.readableBytesView))
        #expect(throws: RecoveryError.self) { try Recovery.recover(directory, repair: true) }
    }

    @Test func logsFromZxidOneWithoutASnapshotAreRefusedToo() throws {
        let (directory, root) = try directory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let log = TxnLogTests.log(TxnLogTests.txns)
        _ = FileManager.default.createFile(atPath: directory.logDirectory + "/log.1", contents: Data(log.readableBytesView))
        #expect(throws: RecoveryError.self) { try Recovery.recover(directory, repair: true) }
        _ = FileManager.default.createFile(atPath: directory.snapshotDirectory + "/snapshot.0", contents: Data("garbage".utf8))
        #expect(throws: RecoveryError.self) { try Recovery.recover(directory, repair: true) }
    }

    @Test func aReadErrorStopsRecoveryAndCutsNothing() throws {
        let (directory, root) = try directory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        _ = try SnapshotFileWriter.writeNow(SnapshotSerializer.serialize(DataTree()), directory: directory.snapshotDirectory, zxid: 0)
        var log = TxnLogTests.log(TxnLogTests.txns)
        log.writeRepeatingByte(0, count: 1000)
        let path = directory.logDirectory + "/log.1"
        _ = FileManager.default.createFile(atPath: path, contents: Data(log.readableBytesView))
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int
        // A disk that fails part-way through the newest log, as an EIO would.
        #expect(throws: RecoveryError.self) {
            try Recovery.recover(directory, repair: true) { path throws(SnapshotError) -> ByteBuffer in
                throw SnapshotError(description: "cannot read \(path) at offset 4096: Input/output error")
            }
        }
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int == size, "nothing was truncated")
        #expect(try Recovery.recover(directory, repair: true).0.lastProcessedZxid == 5)
    }

    @Test func readLogRefusesWhatItCannotRead() throws {
        let (directory, root) = try directory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = directory.logDirectory + "/log.1"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        #expect(throws: SnapshotError.self) { try DataDirectory.readLog(path) }
        #expect(throws: RecoveryError.self) { try Recovery.recover(directory, repair: true) }
    }

    @Test func anUnlistableDirectoryIsNotAnEmptyOne() throws {
        let (directory, root) = try directory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        _ = try SnapshotFileWriter.writeNow(SnapshotSerializer.serialize(DataTree()), directory: directory.snapshotDirectory, zxid: 0)
        // A version-2 that is a file, not a directory: listing fails.
        let broken = DataDirectory(dataDir: root + "/version-2/snapshot.0")
        #expect(throws: RecoveryError.self) { try Recovery.recover(broken, repair: true) }
        #expect(throws: RecoveryError.self) { try broken.logs() }
    }

    @Test func purgeKeepsTheNewestSnapshotsAndTheLogsTheyNeed() throws {
        let (directory, root) = try directory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        for zxid in [0, 10, 20, 30, 40] as [Int64] {
            _ = FileManager.default.createFile(atPath: directory.snapshotDirectory + "/" + DataDirectory.snapshotName(zxid), contents: Data())
        }
        for zxid in [1, 8, 19, 25, 35] as [Int64] {
            _ = FileManager.default.createFile(atPath: directory.logDirectory + "/" + DataDirectory.logName(zxid), contents: Data())
        }
        let plan = try Purge.plan(directory, retain: 3).map { ($0 as NSString).lastPathComponent }
        #expect(plan == ["log.1", "log.8", "snapshot.0", "snapshot.a"])
    }
}

struct TxnLogWriterTests {
    /// Records collected from the writer's callbacks, which run on its thread.
    final class Durable: @unchecked Sendable {
        private let lock = NSLock()
        private var zxids: [Int64] = []
        func add(_ zxid: Int64) { lock.withLock { zxids.append(zxid) } }
        var all: [Int64] { lock.withLock { zxids } }
    }

    static func record(_ zxid: Int64) -> ByteBuffer {
        var buffer = ByteBuffer()
        let header = TxnHeader(clientId: 1, cxid: Int32(zxid), zxid: zxid, time: 7, type: OpCode.setData.rawValue)
        TxnLogRecord.append(header, .setData(path: "/n", data: [UInt8(zxid)], version: Int32(zxid)), to: &buffer)
        return buffer
    }

    /// Appends land in the files in zxid order, across a roll; nothing is written after close.
    @Test func appendsLandInOrderAcrossARoll() throws {
        let root = NSTemporaryDirectory() + "aviary-log-\(UUID().uuidString)"
        let directory = DataDirectory(dataDir: root)
        try directory.create()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let durable = Durable()
        let writer = TxnLogWriter(directory: directory.logDirectory, onDurable: { durable.add($0) }, onFailure: { _ in })
        func waitFor(_ zxid: Int64) {
            let deadline = Date().addingTimeInterval(10)
            while !durable.all.contains(zxid) && Date() < deadline { usleep(1000) }
        }
        writer.append(Self.record(1), first: 1, last: 1)
        writer.append(Self.record(2), first: 2, last: 2)
        waitFor(2)
        writer.append(Self.record(3), first: 3, last: 3)
        writer.roll()
        writer.append(Self.record(4), first: 4, last: 4)
        writer.append(Self.record(5), first: 5, last: 5)
        waitFor(5)
        writer.close()
        writer.append(Self.record(6), first: 6, last: 6)
        let logs = try directory.logs()
        #expect(logs.map(\.zxid) == [1, 4])
        let zxids = try logs.flatMap { try TxnLogScan(bytes: DataDirectory.readLog($0.path)).records.map(\.header.zxid) }
        #expect(zxids == [1, 2, 3, 4, 5], "nothing after close")
        #expect(durable.all.last == 5)
    }
}

struct SnapshotFileWriterTests {
    @Test func aSlowDiskHoldsTheProducerBack() throws {
        let root = NSTemporaryDirectory() + "snapshot-backlog-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let writer = SnapshotFileWriter(directory: root, zxid: 1)
        writer.queue.suspend()  // a disk that takes nothing for now
        let chunk = ByteBuffer(repeating: 7, count: SnapshotFileWriter.backlogLimit / 3 + 1)
        for _ in 0..<3 { writer.write(chunk) }
        #expect(writer.isOverLimit)
        let resumed = NIOLockedValueBox(false)
        writer.whenBelowLimit { resumed.withLockedValue { $0 = true } }
        #expect(!resumed.withLockedValue { $0 }, "the producer waits while the backlog is over the limit")
        writer.queue.resume()
        writer.drain()
        #expect(resumed.withLockedValue { $0 })
        #expect(writer.backlogBytes == 0)
    }
}

struct TreeDigestTests {
    /// The digest kept up to date change by change equals the one computed from scratch
    /// over the same tree (a snapshot of it, loaded again).
    @Test func theRunningDigestMatchesARecomputedOne() throws {
        let tree = DataTree()
        var events: [WatchNotification] = []
        var zxid: Int64 = 0
        func apply(_ txn: Txn, _ type: OpCode, session: Int64 = 0x55) {
            zxid += 1
            _ = tree.apply(TxnHeader(clientId: session, cxid: 1, zxid: zxid, time: 1_700_000_000_000 + zxid, type: type.rawValue),
                           txn: txn, notifications: &events)
        }
        let digestACL = [ACL(perms: 31, id: Id(scheme: "digest", id: "u:abc="))]
        apply(.createSession(timeOut: 3000), .createSession)
        apply(.create(path: "/a", data: [1, 2, 3], acl: ACL.openUnsafe, ephemeral: false, parentCVersion: -1), .create)
        apply(.create(path: "/a/b", data: nil, acl: ACL.openUnsafe, ephemeral: false, parentCVersion: -1), .create2)
        apply(.create(path: "/a/e", data: [9], acl: ACL.openUnsafe, ephemeral: true, parentCVersion: -1), .create)
        apply(.createContainer(path: "/c", data: [], acl: ACL.openUnsafe, parentCVersion: -1), .createContainer)
        apply(.setData(path: "/a", data: Array(repeating: 7, count: 5000), version: 1), .setData)
        apply(.setData(path: "/", data: [1], version: 1), .setData)
        apply(.setACL(path: "/a/b", acl: digestACL, version: 1), .setACL)
        apply(.multi([TypedTxn(type: .create, txn: .create(path: "/m", data: [4], acl: ACL.openUnsafe, ephemeral: false, parentCVersion: -1)),
                      TypedTxn(type: .delete, txn: .delete(path: "/a/b"))]), .multi)
        apply(.delete(path: "/missing"), .delete)
        apply(.closeSession(paths: ["/a/e"]), .closeSession)
        apply(.setData(path: "/zookeeper/config", data: [5], version: 1), .setData)
        #expect(tree.digest != 0)
        let root = NSTemporaryDirectory() + "digest-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = try SnapshotFileWriter.writeNow(SnapshotSerializer.serialize(tree), directory: root, zxid: zxid)
        let loaded = try SnapshotLoader.load(path, zxid: zxid)
        #expect(loaded.digest == tree.digest)
    }
}

struct EpochFilesTests {
    func directory() throws -> String {
        let path = NSTemporaryDirectory() + "epochs-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func missingFilesAreCreatedFromTheLastZxid() throws {
        let root = try directory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let files = EpochFiles(directory: root)
        let loaded = try files.load(lastProcessedZxid: 0x3_0000_0007)
        #expect(loaded.currentEpoch == 3 && loaded.acceptedEpoch == 3 && loaded.notes.count == 2)
        // ZooKeeper's format: a decimal long, no newline.
        #expect(try String(contentsOfFile: root + "/currentEpoch", encoding: .utf8) == "3")
        #expect(!FileManager.default.fileExists(atPath: root + "/currentEpoch.tmp"))
        #expect(try files.load(lastProcessedZxid: 0x3_0000_0009).notes.isEmpty)
    }

    @Test func zooKeepersStartupRules() throws {
        let root = try directory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let files = EpochFiles(directory: root)
        try files.write(EpochFiles.current, 2)
        try files.write(EpochFiles.accepted, 2)
        #expect(throws: RecoveryError.self, "a current epoch older than the last zxid's") {
            try files.load(lastProcessedZxid: 0x4_0000_0001)
        }
        try "4".write(toFile: root + "/currentEpoch.tmp", atomically: false, encoding: .utf8)
        try files.write(EpochFiles.accepted, 4)
        #expect(try files.load(lastProcessedZxid: 0x4_0000_0001).currentEpoch == 4, "a crash left currentEpoch.tmp")
        try files.write(EpochFiles.accepted, 3)
        #expect(throws: RecoveryError.self, "accepted below current") { try files.load(lastProcessedZxid: 0x4_0000_0001) }
        try "4\n".write(toFile: root + "/acceptedEpoch", atomically: false, encoding: .utf8)
        #expect(try files.read(EpochFiles.accepted) == 4, "a trailing newline is read as Java's readLine reads it")
        try "four".write(toFile: root + "/acceptedEpoch", atomically: false, encoding: .utf8)
        #expect(throws: RecoveryError.self) { try files.read(EpochFiles.accepted) }
    }
}

struct SnapStreamTests {
    /// The tree a real ZooKeeper 3.8 leader streamed to a learner after SNAP
    /// (Tests/interop/golden/capture_quorum.py).
    static let captured: (zxid: Int64, bytes: [UInt8])? = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("ZooKeeperProtocolTests/Fixtures/zookeeper-3.8-quorum.txt")
        guard let text = try? String(contentsOf: url, encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("SNAPSTREAM ") }) else { return nil }
        let parts = line.split(separator: " ")
        guard parts.count == 3, let zxid = Int64(parts[1]) else { return nil }
        var bytes: [UInt8] = []
        var index = parts[2].startIndex
        while index < parts[2].endIndex {
            let next = parts[2].index(index, offsetBy: 2)
            bytes.append(UInt8(parts[2][index..<next], radix: 16) ?? 0)
            index = next
        }
        return (zxid, bytes)
    }()

    @Test func aZooKeeperLeadersStreamLoads() throws {
        let captured = try #require(Self.captured)
        let tree = try SnapStream.decode(ByteBuffer(bytes: captured.bytes), zxid: captured.zxid)
        #expect(tree.lastProcessedZxid == 1 << 32)
        #expect(tree.node("/zookeeper") != nil && tree.node("/zookeeper/quota") != nil && tree.node("/zookeeper/config") != nil)
        // Our own stream of the same tree loads back to the same znodes and digest.
        let again = try SnapStream.decode(SnapStream.encode(tree), zxid: captured.zxid)
        #expect(again.paths().sorted() == tree.paths().sorted() && again.digest == tree.digest)
    }

    @Test func aStreamWithoutItsSignatureIsRefused() throws {
        var events: [WatchNotification] = []
        let tree = DataTree()
        _ = tree.apply(TxnHeader(clientId: 1, cxid: 1, zxid: 1, time: 1, type: OpCode.create.rawValue),
                       txn: .create(path: "/a", data: [1], acl: ACL.openUnsafe, ephemeral: false, parentCVersion: -1), notifications: &events)
        var stream = SnapStream.encode(tree)
        #expect(try SnapStream.decode(stream, zxid: 1).node("/a") != nil)
        stream.moveWriterIndex(to: stream.writerIndex - 3)
        #expect(throws: SnapshotError.self) { try SnapStream.decode(stream, zxid: 1) }
        #expect(throws: SnapshotError.self) { try SnapStream.decode(ByteBuffer(bytes: [0, 0, 0, 9]), zxid: 1) }
    }
}
