import Foundation
import NIOCore

/// Appends log records on a thread of its own and makes them durable in groups: every
/// record queued while the previous fsync ran is written and synced together.
///
/// Files are ZooKeeper's: `log.<hex first zxid>` starting with a ``FileHeader``, grown with
/// zeros in `preallocationSize` steps; ``roll()`` makes the next record start a new file.
public final class TxnLogWriter: @unchecked Sendable {
    /// What is queued: runs of bytes in the staging buffer, and file rolls between them.
    enum Item {
        case records(length: Int, first: Int64, last: Int64)
        case roll
    }

    private let directory: String
    private let forceSync: Bool
    private let preallocationSize: Int64
    private let onDurable: @Sendable (Int64) -> Void
    private let onFailure: @Sendable (String) -> Void
    private let condition = NSCondition()
    private var queue: [Item] = []
    /// Records queued and not yet taken by the writer; it swaps this with ``writing``, so
    /// both keep their capacity and no buffer is freed on a thread other than its owner's.
    private var staging = ByteBuffer()
    private var stopping = false
    private var finished = false
    // Touched only by the writer thread:
    private var descriptor: Int32 = -1
    private var position: Int64 = 0
    private var allocated: Int64 = 0
    private var needsNewFile = true
    private var writing = ByteBuffer()
    private var taken: [Item] = []
    /// Statistics, read under the lock: fsyncs done and their total and last duration.
    private var syncCount = 0
    private var syncNanos: UInt64 = 0
    private var recentSyncMillis: [Int64] = []
    private var slowSyncs = 0

    private let slowSyncMillis: Int64
    private let onSlowSync: (@Sendable (Int64) -> Void)?

    public init(directory: String, forceSync: Bool = true, preallocationSize: Int64 = 64 << 20,
                slowSyncMillis: Int64 = 1000, onSlowSync: (@Sendable (Int64) -> Void)? = nil,
                onDurable: @escaping @Sendable (Int64) -> Void, onFailure: @escaping @Sendable (String) -> Void) {
        self.slowSyncMillis = slowSyncMillis
        self.onSlowSync = onSlowSync
        self.directory = directory
        self.forceSync = forceSync
        self.preallocationSize = max(4096, preallocationSize)
        self.onDurable = onDurable
        self.onFailure = onFailure
        let thread = Thread { [self] in run() }
        thread.name = "aviary-txnlog"
        thread.start()
    }

    /// Queues whole records (already encoded) for transactions `first...last`.
    public func append(_ records: ByteBuffer, first: Int64, last: Int64) {
        condition.lock()
        queue.append(.records(length: staging.writeImmutableBuffer(records), first: first, last: last))
        condition.signal()
        condition.unlock()
    }

    /// The next records go to a new file.
    public func roll() {
        condition.lock()
        queue.append(.roll)
        condition.signal()
        condition.unlock()
    }

    /// Writes what is queued, then stops and closes the file.
    public func close() {
        condition.lock()
        stopping = true
        condition.signal()
        while !finished { condition.wait() }
        condition.unlock()
    }

    /// Fsyncs at or over the warning threshold (`fsync.warningthresholdms`).
    public var slowSyncCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return slowSyncs
    }

    /// The durations of the most recent fsyncs, in milliseconds.
    public var recentSyncs: [Int64] {
        condition.lock()
        defer { condition.unlock() }
        return recentSyncMillis
    }

    /// (number of fsyncs, total nanoseconds in them).
    public var syncStatistics: (count: Int, nanoseconds: UInt64) {
        condition.lock()
        defer { condition.unlock() }
        return (syncCount, syncNanos)
    }

    private func run() {
        while true {
            condition.lock()
            while queue.isEmpty && !stopping { condition.wait() }
            swap(&queue, &taken)
            swap(&staging, &writing)
            let stop = stopping && taken.isEmpty
            condition.unlock()
            if stop { break }
            do {
                let last = try write(taken, from: &writing)
                taken.removeAll(keepingCapacity: true)
                writing.clear()
                if last >= 0 { onDurable(last) }
            } catch {
                onFailure("\(error)")
                condition.lock()
                queue.removeAll()
                stopping = true
                condition.unlock()
                break
            }
        }
        if descriptor >= 0 { _ = Glibc.close(descriptor) }
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    private struct WriteError: Error, CustomStringConvertible {
        var description: String
    }

    /// Writes the items' bytes from `buffer`, opening new files where rolls fall, then syncs.
    /// (Returns the last zxid written, -1 for none.)
    private func write(_ items: [Item], from buffer: inout ByteBuffer) throws -> Int64 {
        var last: Int64 = -1
        var pending = 0
        for item in items {
            switch item {
            case .roll:
                needsNewFile = true
            case .records(let length, let first, let lastZxid):
                if needsNewFile {
                    try flush(&buffer, length: pending)
                    pending = 0
                    try sync()
                    try openFile(firstZxid: first)
                }
                pending += length
                last = lastZxid
            }
        }
        try flush(&buffer, length: pending)
        try sync()
        return last
    }

    private func openFile(firstZxid: Int64) throws {
        if descriptor >= 0 { _ = Glibc.close(descriptor) }
        let path = (directory as NSString).appendingPathComponent(DataDirectory.logName(firstZxid))
        descriptor = Glibc.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw WriteError(description: "cannot create \(path): errno \(errno)") }
        position = 0
        allocated = 0
        needsNewFile = false
        var header = FileHeader.log.encoded()
        try flush(&header, length: header.readableBytes)
        // The new file's name must be durable before anything in it is acknowledged.
        if let error = SnapshotFileWriter.syncDirectory(directory) { throw WriteError(description: error) }
    }

    /// Writes the first `length` readable bytes of `buffer` at the end of the file.
    private func flush(_ buffer: inout ByteBuffer, length: Int) throws {
        guard length > 0, descriptor >= 0 else { return }
        let needed = position + Int64(length)
        if needed + 4096 > allocated {
            // FilePadding: grow in whole steps so fdatasync rarely has metadata to write.
            var size = allocated
            while needed + 4096 > size { size += preallocationSize }
            if ftruncate(descriptor, off_t(size)) != 0 { throw WriteError(description: "cannot grow the log: errno \(errno)") }
            allocated = size
        }
        try buffer.withUnsafeReadableBytes { raw in
            guard let base = raw.baseAddress else { return }
            var offset = 0
            while offset < length {
                let written = pwrite(descriptor, base + offset, length - offset, off_t(position) + off_t(offset))
                if written < 0 {
                    if errno == EINTR { continue }
                    throw WriteError(description: "cannot write the log: errno \(errno)")
                }
                offset += written
            }
        }
        position = needed
        buffer.moveReaderIndex(forwardBy: length)
    }

    private func sync() throws {
        guard forceSync, descriptor >= 0 else { return }
        let start = DispatchTime.now().uptimeNanoseconds
        if fdatasync(descriptor) != 0 { throw WriteError(description: "fdatasync failed: errno \(errno)") }
        let elapsed = DispatchTime.now().uptimeNanoseconds - start
        condition.lock()
        syncCount += 1
        syncNanos += elapsed
        if recentSyncMillis.count >= 4096 { recentSyncMillis.removeFirst(1024) }
        let millis = Int64(elapsed / 1_000_000)
        recentSyncMillis.append(millis)
        let slow = millis >= slowSyncMillis
        if slow { slowSyncs += 1 }
        condition.unlock()
        if slow { onSlowSync?(millis) }
    }
}
