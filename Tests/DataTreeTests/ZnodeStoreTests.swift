@testable import DataTree
import Testing
import ZooKeeperProtocol

/// The packed store against a plain model: random creates, deletes and data changes, with
/// sizes that cross payload size classes and the large-payload limit.
struct ZnodeStoreTests {
    struct Model {
        var data: [String: [UInt8]?] = [:]
        var version: [String: Int32] = [:]
        func children(of path: String) -> Set<String> {
            Set(data.keys.filter { $0 != path && ZNodePath.parent(of: $0) == path }.map { ZNodePath.name(of: $0) })
        }
    }

    /// A small deterministic generator (xorshift), so failures repeat.
    struct Generator {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return Int(state % UInt64(bound))
        }
    }

    @Test func headersRoundTripExtremeValues() {
        let values: [Int64] = [0, 1, -1, .max, .min, 0x1_0000_0001, -0x7FFF_FFFF, 1_700_000_000_000]
        var buffer = [UInt8](repeating: 0, count: ZnodeHeader.maximumSize)
        for a in values {
            for b in values {
                var stat = StatPersisted()
                stat.czxid = a; stat.mzxid = b; stat.pzxid = a &+ b; stat.ctime = b; stat.mtime = a
                stat.version = Int32(truncatingIfNeeded: a); stat.cversion = Int32(truncatingIfNeeded: b); stat.aversion = -1
                stat.ephemeralOwner = b
                let header = ZnodeHeader(stat: stat, aclReference: a, childCount: Int(UInt32.max), dataLength: -1)
                let written = buffer.withUnsafeMutableBytes { header.encode(into: $0.baseAddress!) }
                #expect(written == header.encodedSize && written <= ZnodeHeader.maximumSize)
                let (decoded, length) = buffer.withUnsafeBytes { ZnodeHeader.decode($0.baseAddress!) }
                #expect(decoded == header && length == written)
            }
        }
    }

    @Test func randomChangesMatchAModel() {
        let tree = DataTree()
        var model = Model()
        var generator = Generator(state: 0x9E37_79B9_7F4A_7C15)
        var zxid: Int64 = 0
        var events: [WatchNotification] = []
        func apply(_ txn: Txn, _ type: OpCode) -> TxnResult {
            zxid += 1
            return tree.apply(TxnHeader(clientId: 1, cxid: 0, zxid: zxid, time: zxid, type: type.rawValue), txn: txn, notifications: &events)
        }
        let sizes = [0, 1, 7, 8, 9, 100, 127, 128, 1000, 4090, 4096, 5000, 70_000]
        func someData() -> [UInt8]? {
            let choice = generator.next(sizes.count + 1)
            if choice == sizes.count { return nil }
            return (0..<sizes[choice]).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ choice) }
        }
        var paths = ["/"]
        for _ in 0..<4_000 {
            switch generator.next(10) {
            case 0..<5:
                let parent = paths[generator.next(paths.count)]
                let path = ZNodePath.join(parent, "n\(generator.next(50))")
                let data = someData()
                let result = apply(.create(path: path, data: data, acl: ACL.openUnsafe, ephemeral: false, parentCVersion: -1), .create)
                if model.data[path] != nil {
                    #expect(result.error == .nodeExists)
                } else {
                    #expect(result.error == .ok)
                    model.data[path] = data
                    model.version[path] = 0
                    paths.append(path)
                }
            case 5..<7:
                let path = paths[generator.next(paths.count)]
                guard path != "/", model.children(of: path).isEmpty else { continue }
                #expect(apply(.delete(path: path), .delete).error == .ok)
                model.data[path] = nil
                paths.removeAll { $0 == path }
            default:
                let path = paths[generator.next(paths.count)]
                guard path != "/" else { continue }
                let data = someData()
                let version = (model.version[path] ?? 0) + 1
                #expect(apply(.setData(path: path, data: data, version: version), .setData).error == .ok)
                model.data[path] = data
                model.version[path] = version
            }
        }
        let expected = Set(model.data.keys).union(["/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"])
        #expect(Set(tree.paths()) == expected)
        #expect(tree.nodeCount == expected.count)
        for (path, data) in model.data {
            guard let node = tree.node(path) else { Issue.record("\(path) is missing"); continue }
            #expect(tree.data(of: node) == data, "\(path)")
            #expect(node.stat.version == model.version[path], "\(path)")
            #expect(Set(tree.childNames(of: node)) == model.children(of: path), "\(path)")
            #expect(node.childCount == model.children(of: path).count, "\(path)")
        }
        for n in 0..<50 { #expect((tree.node("/n\(n)") != nil) == (model.data["/n\(n)"] != nil)) }
        let dataBytes = model.data.values.reduce(0) { $0 + ($1?.count ?? 0) }
        let pathBytes = expected.reduce(0) { $0 + ($1 == "/" ? 1 : $1.utf8.count) }
        #expect(tree.approximateDataSize == dataBytes + pathBytes)
    }

    /// Deleting a znode moves later entries of its probe run back; every other path stays found.
    @Test func deletingKeepsEveryOtherPathFindable() {
        let tree = DataTree()
        var events: [WatchNotification] = []
        var zxid: Int64 = 0
        for i in 0..<2_000 {
            zxid += 1
            _ = tree.apply(TxnHeader(clientId: 1, cxid: 0, zxid: zxid, time: 0, type: OpCode.create.rawValue),
                           txn: .create(path: "/k\(i)", data: [], acl: ACL.openUnsafe, ephemeral: false, parentCVersion: -1),
                           notifications: &events)
        }
        for i in stride(from: 0, to: 2_000, by: 3) {
            zxid += 1
            _ = tree.apply(TxnHeader(clientId: 1, cxid: 0, zxid: zxid, time: 0, type: OpCode.delete.rawValue),
                           txn: .delete(path: "/k\(i)"), notifications: &events)
        }
        for i in 0..<2_000 { #expect((tree.node("/k\(i)") == nil) == (i % 3 == 0), "/k\(i)") }
        #expect(tree.node("/")?.childCount == 2_000 - 667 + 1)
    }
}
