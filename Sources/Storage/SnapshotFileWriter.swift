import DataTree
import Foundation
import Jute
import NIOConcurrencyHelpers
import NIOCore

/// Writes one snapshot file off the request path. The znode section arrives in chunks and
/// goes to a scratch file; ``finish(prefix:completion:)`` writes the final file as
/// prefix + znodes + seal, syncs it, and renames it into place as `snapshot.<hex zxid>`.
public final class SnapshotFileWriter: @unchecked Sendable {
    public let zxid: Int64
    private let directory: String
    let queue = DispatchQueue(label: "aviary-snapshot")
    /// Bytes handed to ``write(_:)`` and not yet written, and who waits for them to drain.
    private let backlog = NIOLockedValueBox<(bytes: Int, waiter: (@Sendable () -> Void)?)>((0, nil))
    /// The most chunk bytes queued before a live snapshot waits for the disk (8 MB).
    public static let backlogLimit = 8 << 20
    // Touched only on `queue`:
    private var scratch: Int32 = -1
    private var scratchLength: Int64 = 0
    private var failure: String?

    private var scratchPath: String { (directory as NSString).appendingPathComponent(DataDirectory.snapshotName(zxid) + ".nodes.tmp") }
    private var finalPath: String { (directory as NSString).appendingPathComponent(DataDirectory.snapshotName(zxid)) }

    public init(directory: String, zxid: Int64) {
        self.directory = directory
        self.zxid = zxid
        queue.async { [self] in
            scratch = open(scratchPath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            if scratch < 0 { failure = "cannot create \(scratchPath): errno \(errno)" }
        }
    }

    /// Appends a chunk of the znode section. It is queued for the writer's thread; a caller
    /// that produces chunks faster than the disk takes them waits for ``whenBelowLimit(_:)``
    /// once ``isOverLimit``, so a slow disk cannot pile the serialized tree up in memory.
    public func write(_ chunk: ByteBuffer) {
        let size = chunk.readableBytes
        backlog.withLockedValue { $0.bytes += size }
        queue.async { [self] in
            if failure == nil {
                if let error = Self.writeAll(scratch, chunk, at: scratchLength) {
                    failure = error
                } else {
                    scratchLength += Int64(size)
                }
            }
            let resume = backlog.withLockedValue { state -> (@Sendable () -> Void)? in
                state.bytes -= size
                guard state.bytes <= Self.backlogLimit / 2, let waiter = state.waiter else { return nil }
                state.waiter = nil
                return waiter
            }
            resume?()
        }
    }

    /// Bytes queued and not yet written.
    public var backlogBytes: Int { backlog.withLockedValue { $0.bytes } }

    /// Whether the producer should wait before the next chunk.
    public var isOverLimit: Bool { backlogBytes >= Self.backlogLimit }

    /// Calls `resume` (on the writer's thread) once the backlog has fallen to half the limit,
    /// or at once when it already has.
    public func whenBelowLimit(_ resume: @escaping @Sendable () -> Void) {
        let now = backlog.withLockedValue { state -> Bool in
            if state.bytes <= Self.backlogLimit / 2 { return true }
            state.waiter = resume
            return false
        }
        if now { resume() }
    }

    /// Writes the final file; `completion` gets its path or the reason it failed.
    public func finish(prefix: ByteBuffer, completion: @escaping @Sendable (Result<String, SnapshotError>) -> Void) {
        queue.async { [self] in
            defer {
                if scratch >= 0 { close(scratch) }
                unlink(scratchPath)
            }
            if let failure { completion(.failure(SnapshotError(description: failure))); return }
            let temporary = finalPath + ".tmp"
            let output = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard output >= 0 else { completion(.failure(SnapshotError(description: "cannot create \(temporary)"))); return }
            var adler = Adler32()
            prefix.withUnsafeReadableBytes { adler.update($0) }
            var offset = Int64(0)
            var error = Self.writeAll(output, prefix, at: offset)
            offset += Int64(prefix.readableBytes)
            var copied = Int64(0)
            var chunk = ByteBuffer()
            chunk.reserveCapacity(1 << 20)
            while error == nil && copied < scratchLength {
                let want = Int(min(Int64(1 << 20), scratchLength - copied))
                chunk.clear()
                let read = chunk.writeWithUnsafeMutableBytes(minimumWritableBytes: want) { raw in
                    max(0, pread(scratch, raw.baseAddress, want, off_t(copied)))
                }
                if read <= 0 { error = "cannot read back \(scratchPath)"; break }
                chunk.withUnsafeReadableBytes { adler.update($0) }
                error = Self.writeAll(output, chunk, at: offset)
                offset += Int64(read)
                copied += Int64(read)
            }
            var seal = ByteBuffer()
            SnapshotSerializer.appendSeal(adler.value, to: &seal)
            if error == nil { error = Self.writeAll(output, seal, at: offset) }
            if error == nil && fsync(output) != 0 { error = "fsync failed: errno \(errno)" }
            close(output)
            if error == nil && rename(temporary, finalPath) != 0 { error = "cannot rename \(temporary): errno \(errno)" }
            if let error {
                unlink(temporary)
                completion(.failure(SnapshotError(description: error)))
                return
            }
            if let error = Self.syncDirectory(directory) {
                completion(.failure(SnapshotError(description: error)))
                return
            }
            completion(.success(finalPath))
        }
    }

    /// Waits until every chunk handed over so far is written (back-pressure).
    public func drain() { queue.sync {} }

    /// Writes a snapshot of `tree` now, a chunk at a time (bounded memory); returns its path.
    public static func writeNow(_ tree: DataTree, directory: String) throws(SnapshotError) -> String {
        let serializer = SnapshotSerializer(tree: tree)
        let writer = SnapshotFileWriter(directory: directory, zxid: serializer.zxid)
        var chunks = 0
        while !serializer.isFinished {
            writer.write(serializer.nextChunk(maximumNodes: 8192))
            chunks += 1
            if chunks % 8 == 0 { writer.drain() }
        }
        let prefix = serializer.finish()
        return try PendingSnapshotWrite { complete in writer.finish(prefix: prefix, completion: complete) }.wait()
    }

    /// Writes a whole snapshot now (startup, tools): to a temporary name, synced, then renamed.
    public static func writeNow(_ bytes: ByteBuffer, directory: String, zxid: Int64) throws(SnapshotError) -> String {
        try writeNow(pieces: [bytes], directory: directory, zxid: zxid)
    }

    private static func writeNow(pieces: [ByteBuffer], directory: String, zxid: Int64) throws(SnapshotError) -> String {
        let path = (directory as NSString).appendingPathComponent(DataDirectory.snapshotName(zxid))
        let temporary = path + ".tmp"
        let output = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard output >= 0 else { throw SnapshotError(description: "cannot create \(temporary): errno \(errno)") }
        var error: String?
        var offset = Int64(0)
        for piece in pieces where error == nil {
            error = writeAll(output, piece, at: offset)
            offset += Int64(piece.readableBytes)
        }
        if error == nil && fsync(output) != 0 { error = "fsync failed: errno \(errno)" }
        close(output)
        if error == nil && rename(temporary, path) != 0 { error = "cannot rename \(temporary): errno \(errno)" }
        if let error {
            unlink(temporary)
            throw SnapshotError(description: error)
        }
        if let error = syncDirectory(directory) { throw SnapshotError(description: error) }
        return path
    }

    static func writeAll(_ descriptor: Int32, _ buffer: ByteBuffer, at position: Int64) -> String? {
        buffer.withUnsafeReadableBytes { raw -> String? in
            guard let base = raw.baseAddress else { return nil }
            var offset = 0
            while offset < raw.count {
                let written = pwrite(descriptor, base + offset, raw.count - offset, off_t(position) + off_t(offset))
                if written < 0 {
                    if errno == EINTR { continue }
                    return "write failed: errno \(errno)"
                }
                offset += written
            }
            return nil
        }
    }

    /// Fsyncs a directory so that names created or renamed in it survive a crash; returns
    /// why it could not, or nil.
    static func syncDirectory(_ directory: String) -> String? {
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return "cannot open \(directory) to sync it: \(String(cString: strerror(errno)))" }
        defer { close(descriptor) }
        if fsync(descriptor) != 0 { return "cannot fsync \(directory): \(String(cString: strerror(errno)))" }
        return nil
    }
}

/// A snapshot file being written on another thread (``StreamedSnapshotFile/finish()``,
/// ``SnapshotFileWriter/finish(prefix:completion:)``), so that its writer waits only for what
/// is left of the write when it needs the file.
public final class PendingSnapshotWrite: Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let outcome = NIOLockedValueBox<Result<String, SnapshotError>?>(nil)

    /// A write `start` begins, which calls its completion once, from any thread.
    init(_ start: (@escaping @Sendable (Result<String, SnapshotError>) -> Void) -> Void) {
        start { [done, outcome] result in
            outcome.withLockedValue { $0 = result }
            done.signal()
        }
    }

    /// Waits until the file is written, synced and in place; returns its path.
    public func wait() throws(SnapshotError) -> String {
        done.wait()
        done.signal()
        switch outcome.withLockedValue({ $0 }) {
        case .success(let path): return path
        case .failure(let error): throw error
        case .none: throw SnapshotError(description: "the snapshot write did not finish")
        }
    }
}
