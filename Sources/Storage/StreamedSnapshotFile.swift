import CAviaryWriteback
import Foundation
import Jute
import NIOCore

/// The snapshot file a learner writes from its leader's SNAP stream as the stream arrives.
///
/// The stream's body (sessions, ACL cache, znodes) is a snapshot file's body, so the file is
/// the header, the body's bytes as they came and the seal: nothing is encoded again, and the
/// writing (checksum included) happens on its own thread while the learner decodes. The file
/// is written under a temporary name and renamed into place as `snapshot.<hex zxid>` only by
/// ``finish()``, once synced; ``abandon()`` removes it.
public final class StreamedSnapshotFile: @unchecked Sendable {
    public let zxid: Int64
    private let directory: String
    private let queue = DispatchQueue(label: "aviary-snap-stream")
    // Touched only on `queue`:
    private var descriptor: Int32 = -1
    private var length: Int64 = 0
    private var adler = Adler32()
    private var failure: String?
    /// Where the bytes not yet handed to the disk's writeback begin.
    private var writebackFrom: Int64 = 0
    /// Every this many bytes, the disk starts writing what came (so the final fsync, which the
    /// learner waits for before it acknowledges NEWLEADER, has little left to flush).
    public static let writebackStep: Int64 = 8 << 20

    private var finalPath: String { (directory as NSString).appendingPathComponent(DataDirectory.snapshotName(zxid)) }
    private var temporaryPath: String { finalPath + ".tmp" }

    /// Starts the file for the SNAP at `zxid` in `directory`, with its header.
    public init(directory: String, zxid: Int64) {
        self.directory = directory
        self.zxid = zxid
        queue.async { [self] in
            descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else {
                failure = "cannot create \(temporaryPath): \(String(cString: strerror(errno)))"
                return
            }
            var header = JuteWriter(ByteBuffer())
            header.write(FileHeader.snapshot)
            write(header.buffer)
        }
    }

    /// Appends the next bytes of the stream's body.
    public func append(_ bytes: ByteBuffer) {
        guard bytes.readableBytes > 0 else { return }
        queue.async { [self] in write(bytes) }
    }

    private func write(_ bytes: ByteBuffer) {
        guard failure == nil else { return }
        bytes.withUnsafeReadableBytes { adler.update($0) }
        if let error = SnapshotFileWriter.writeAll(descriptor, bytes, at: length) { failure = error }
        length += Int64(bytes.readableBytes)
        if length - writebackFrom >= Self.writebackStep {
            _ = aviary_start_writeback(descriptor, writebackFrom, length - writebackFrom)
            writebackFrom = length
        }
    }

    /// Seals, syncs and renames the file into place on the writer's thread; the result waits
    /// for that and gives the file's path.
    public func finish() -> PendingSnapshotWrite {
        PendingSnapshotWrite { complete in
            queue.async { [self] in
                var seal = ByteBuffer()
                SnapshotSerializer.appendSeal(adler.value, to: &seal)
                write(seal)
                if failure == nil && fsync(descriptor) != 0 { failure = "fsync failed: \(String(cString: strerror(errno)))" }
                if descriptor >= 0 { close(descriptor) }
                descriptor = -1
                if failure == nil && rename(temporaryPath, finalPath) != 0 {
                    failure = "cannot rename \(temporaryPath): \(String(cString: strerror(errno)))"
                }
                if let failure {
                    unlink(temporaryPath)
                    complete(.failure(SnapshotError(description: failure)))
                } else if let error = SnapshotFileWriter.syncDirectory(directory) {
                    complete(.failure(SnapshotError(description: error)))
                } else {
                    complete(.success(finalPath))
                }
            }
        }
    }

    /// Gives the file up (the stream broke off): closes and removes it.
    public func abandon() {
        queue.async { [self] in
            failure = failure ?? "abandoned"
            if descriptor >= 0 { close(descriptor) }
            descriptor = -1
            unlink(temporaryPath)
        }
    }
}
