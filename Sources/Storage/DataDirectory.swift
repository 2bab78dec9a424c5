import Foundation
import NIOCore

/// ZooKeeper's `version-2` directories: `log.<hex zxid>` and `snapshot.<hex zxid>` files
/// (`FileTxnSnapLog`, `Util.makeLogName`, `Util.makeSnapshotName`).
public struct DataDirectory: Sendable {
    /// Where snapshots live: `dataDir/version-2`.
    public let snapshotDirectory: String
    /// Where logs live: `dataLogDir/version-2`, or the snapshot directory.
    public let logDirectory: String

    public init(dataDir: String, dataLogDir: String? = nil) {
        snapshotDirectory = (dataDir as NSString).appendingPathComponent("version-2")
        logDirectory = ((dataLogDir ?? dataDir) as NSString).appendingPathComponent("version-2")
    }

    /// Creates both directories if missing.
    public func create() throws {
        for directory in [snapshotDirectory, logDirectory] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
    }

    public static func logName(_ zxid: Int64) -> String { "log." + String(UInt64(bitPattern: zxid), radix: 16) }
    public static func snapshotName(_ zxid: Int64) -> String { "snapshot." + String(UInt64(bitPattern: zxid), radix: 16) }

    /// The zxid in a file name such as `log.1a`, or nil for other files.
    public static func zxid(of name: String, prefix: String) -> Int64? {
        guard name.hasPrefix(prefix + ".") else { return nil }
        let hex = name.dropFirst(prefix.count + 1)
        guard !hex.isEmpty, hex.count <= 16, let value = UInt64(hex, radix: 16) else { return nil }
        return Int64(bitPattern: value)
    }

    /// The `prefix.<zxid>` files of a directory. A directory that cannot be listed is an
    /// error, never an empty one: starting on "no files" would serve an empty database.
    private func files(_ directory: String, prefix: String) throws(RecoveryError) -> [(zxid: Int64, path: String)] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw RecoveryError(description: "cannot list \(directory): \(error.localizedDescription)")
        }
        return names.compactMap { name in
            Self.zxid(of: name, prefix: prefix).map { ($0, (directory as NSString).appendingPathComponent(name)) }
        }
    }

    /// Snapshot files, newest first.
    public func snapshots() throws(RecoveryError) -> [(zxid: Int64, path: String)] {
        try files(snapshotDirectory, prefix: "snapshot").sorted { $0.zxid > $1.zxid }
    }

    /// Log files, oldest first.
    public func logs() throws(RecoveryError) -> [(zxid: Int64, path: String)] {
        try files(logDirectory, prefix: "log").sorted { $0.zxid < $1.zxid }
    }

    /// The logs that may hold transactions after `zxid`: the last one starting at or before
    /// it, and every later one (`FileTxnLog.getLogFiles`).
    public func logs(after zxid: Int64) throws(RecoveryError) -> [(zxid: Int64, path: String)] {
        let all = try logs()
        let firstIndex = all.lastIndex { $0.zxid <= zxid } ?? 0
        return all.isEmpty ? [] : Array(all[firstIndex...])
    }

    /// Reads a log file up to where its preallocated (sparse) tail begins: the zeros past
    /// the first hole need not be read. Without hole support the whole file is read.
    ///
    /// A read error (EIO, say) or a file that ends before its size throws: recovery must stop
    /// there, never take the bytes it could not read for a torn tail and cut them off.
    public static func readLog(_ path: String) throws(SnapshotError) -> ByteBuffer {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw SnapshotError(description: "cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw SnapshotError(description: "\(path) is not a regular file")
        }
        let size = lseek(descriptor, 0, SEEK_END)
        guard size >= 0 else { throw SnapshotError(description: "cannot size \(path): \(String(cString: strerror(errno)))") }
        let hole = lseek(descriptor, 0, 4) // SEEK_HOLE (Linux), not exported to Swift
        let length = Int(hole > 0 && hole < size ? hole : size)
        var buffer = ByteBuffer()
        buffer.reserveCapacity(min(length, 64 << 20))
        var offset = 0
        while offset < length {
            var failure: Int32 = 0
            let read = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: min(1 << 20, length - offset)) { raw in
                let count = pread(descriptor, raw.baseAddress, min(raw.count, length - offset), off_t(offset))
                if count < 0 { failure = errno }
                return max(0, count)
            }
            if failure == EINTR { continue }
            if failure != 0 {
                throw SnapshotError(description: "cannot read \(path) at offset \(offset): \(String(cString: strerror(failure)))")
            }
            if read == 0 {
                throw SnapshotError(description: "\(path) ended at offset \(offset) of \(length) while being read")
            }
            offset += read
        }
        return buffer
    }
}
