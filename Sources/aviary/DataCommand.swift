import ArgumentParser
import DataTree
import Foundation
import NIOCore
import Storage
import ZooKeeperProtocol

/// `aviary data`: read, check and tidy a data directory in ZooKeeper's format.
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Inspect, verify and purge a data directory (Aviary's or Apache ZooKeeper's).",
        subcommands: [DumpLog.self, DumpSnapshot.self, Verify.self, PurgeCommand.self]
    )
}

/// One transaction, for people and for JSON.
struct TxnSummary: Codable {
    var zxid: String
    var time: Int64?
    var session: String?
    var cxid: Int32?
    var type: String
    var path: String?
    var data: String?
    var version: Int32?
    var acl: [String]?
    var ephemeral: Bool?
    var ttl: Int64?
    var timeout: Int32?
    var error: Int32?
    var ops: [TxnSummary]?

    init(header: TxnHeader?, type: Int32, txn: Txn) {
        zxid = header.map { "0x" + String(UInt64(bitPattern: $0.zxid), radix: 16) } ?? ""
        time = header?.time
        session = header.map { "0x" + String(UInt64(bitPattern: $0.clientId), radix: 16) }
        cxid = header?.cxid
        self.type = OpCode(rawValue: type)?.name ?? "type \(type)"
        switch txn {
        case .create(let p, let d, let a, let e, _): path = p; data = Self.text(d); acl = Self.acl(a); ephemeral = e
        case .createTTL(let p, let d, let a, _, let t): path = p; data = Self.text(d); acl = Self.acl(a); ttl = t
        case .createContainer(let p, let d, let a, _): path = p; data = Self.text(d); acl = Self.acl(a)
        case .delete(let p): path = p
        case .setData(let p, let d, let v): path = p; data = Self.text(d); version = v
        case .check(let p, let v): path = p; version = v
        case .setACL(let p, let a, let v): path = p; acl = Self.acl(a); version = v
        case .createSession(let t): timeout = t
        case .closeSession(let paths): acl = nil; data = paths.isEmpty ? nil : paths.joined(separator: ",")
        case .error(let e): error = e
        case .multi(let txns): ops = txns.map { TxnSummary(header: nil, type: $0.type.rawValue, txn: $0.txn) }
        }
    }

    static func text(_ bytes: [UInt8]?) -> String? {
        guard let bytes else { return nil }
        if let string = String(bytes: bytes, encoding: .utf8), !string.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\n" }) {
            return string
        }
        return "base64:" + Data(bytes).base64EncodedString()
    }

    static func acl(_ acl: [ACL]) -> [String] { acl.map { "\($0.id.scheme):\($0.id.id):\($0.perms)" } }

    var line: String {
        var parts = [zxid, type]
        if let session { parts.insert("session \(session)", at: 1) }
        if let path { parts.append(path) }
        if let data { parts.append("data=\(data)") }
        if let version { parts.append("version=\(version)") }
        if let acl { parts.append("acl=[\(acl.joined(separator: ","))]") }
        if let ephemeral, ephemeral { parts.append("ephemeral") }
        if let ttl { parts.append("ttl=\(ttl)") }
        if let timeout { parts.append("timeout=\(timeout)") }
        if let error { parts.append("error=\(error)") }
        if let ops { parts.append("{ " + ops.map(\.line).joined(separator: "; ") + " }") }
        return parts.joined(separator: " ")
    }
}

func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

struct DumpLog: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "log", abstract: "Print the transactions of a log file.")
    @Argument(help: "A log.<zxid> file.") var file: String
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let bytes: ByteBuffer
        do { bytes = try DataDirectory.readLog(file) } catch { throw ValidationError("cannot read \(file)") }
        let scan = TxnLogScan(bytes: bytes)
        let summaries = scan.records.map { TxnSummary(header: $0.header, type: $0.header.type, txn: $0.txn) }
        var endText = "clean end after \(scan.records.count) transactions"
        if case .torn(let reason) = scan.end {
            endText = "damaged after \(scan.records.count) transactions at offset \(scan.validLength): \(reason); \(scan.droppedBytes) bytes would be dropped"
        }
        if json {
            struct Output: Codable { var file: String; var transactions: [TxnSummary]; var end: String }
            try printJSON(Output(file: file, transactions: summaries, end: endText))
        } else {
            for summary in summaries { print(summary.line) }
            print(endText)
        }
        if case .torn = scan.end { throw ExitCode(2) }
    }
}

struct DumpSnapshot: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "snapshot", abstract: "Print the znodes and sessions of a snapshot.")
    @Argument(help: "A snapshot.<zxid> file.") var file: String
    @Flag(help: "Print JSON.") var json = false

    struct Node: Codable {
        var path: String
        var data: String?
        var czxid: String, mzxid: String, pzxid: String
        var ctime: Int64, mtime: Int64
        var version: Int32, cversion: Int32, aversion: Int32
        var ephemeralOwner: String
        var acl: [String]
    }

    func run() throws {
        let tree: DataTree
        do {
            let zxid = DataDirectory.zxid(of: (file as NSString).lastPathComponent, prefix: "snapshot") ?? 0
            tree = try SnapshotLoader.load(file, zxid: zxid)
        } catch {
            throw ValidationError("\(file) is not a usable snapshot: \(error)")
        }
        let hex = { (value: Int64) in "0x" + String(UInt64(bitPattern: value), radix: 16) }
        let nodes = tree.paths().sorted().compactMap { path -> Node? in
            guard let node = tree.node(path) else { return nil }
            return Node(path: path, data: TxnSummary.text(tree.data(of: node)), czxid: hex(node.stat.czxid),
                        mzxid: hex(node.stat.mzxid), pzxid: hex(node.stat.pzxid), ctime: node.stat.ctime,
                        mtime: node.stat.mtime, version: node.stat.version, cversion: node.stat.cversion,
                        aversion: node.stat.aversion, ephemeralOwner: hex(node.stat.ephemeralOwner),
                        acl: TxnSummary.acl(tree.acl(of: node)))
        }
        let sessions = tree.sessions.sorted { $0.key < $1.key }.map { ["id": hex($0.key), "timeout": String($0.value)] }
        if json {
            struct Output: Codable { var file: String; var digest: Int64; var sessions: [[String: String]]; var nodes: [Node] }
            try printJSON(Output(file: file, digest: tree.digest, sessions: sessions, nodes: nodes))
            return
        }
        for node in nodes {
            print("\(node.path)  czxid=\(node.czxid) mzxid=\(node.mzxid) pzxid=\(node.pzxid) version=\(node.version) cversion=\(node.cversion) aversion=\(node.aversion) owner=\(node.ephemeralOwner) acl=[\(node.acl.joined(separator: ","))]" + (node.data.map { " data=\($0)" } ?? ""))
        }
        for session in sessions { print("session \(session["id"] ?? "") timeout \(session["timeout"] ?? "")") }
        print("\(nodes.count) znodes, \(sessions.count) sessions, tree digest \(tree.digest)")
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check that a data directory recovers, without changing it; exits 2 if anything would be dropped.")
    @Argument(help: "The dataDir (holding version-2).") var dataDir: String
    @Option(help: "The dataLogDir, when logs live elsewhere.") var logDir: String?

    func run() throws {
        let directory = DataDirectory(dataDir: dataDir, dataLogDir: logDir)
        do {
            let (tree, report) = try Recovery.recover(directory, repair: false)
            for line in report.lines { print(line) }
            print("ok: \(tree.nodeCount) znodes, \(tree.sessions.count) sessions, last zxid 0x\(String(UInt64(bitPattern: tree.lastProcessedZxid), radix: 16))")
            if !report.truncations.isEmpty || !report.skippedSnapshots.isEmpty { throw ExitCode(2) }
        } catch let error as RecoveryError {
            print("cannot recover: \(error)")
            throw ExitCode(1)
        }
    }
}

struct PurgeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purge", abstract: "Remove old snapshots and logs, keeping the newest snapshots and the logs they need.")
    @Argument(help: "The dataDir (holding version-2).") var dataDir: String
    @Option(help: "The dataLogDir, when logs live elsewhere.") var logDir: String?
    @Option(name: [.short, .long], help: "Snapshots to keep (at least 3).") var count = 3
    @Flag(help: "List what would go without removing it.") var dryRun = false

    func run() throws {
        let directory = DataDirectory(dataDir: dataDir, dataLogDir: logDir)
        let files = dryRun ? try Purge.plan(directory, retain: count) : try Purge.run(directory, retain: count)
        for file in files { print((dryRun ? "would remove " : "removed ") + file) }
        print("\(files.count) files \(dryRun ? "to remove" : "removed"); keeping \(max(3, count)) snapshots")
    }
}
