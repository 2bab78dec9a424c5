import Foundation
import NIOCore

/// A small file replaced whole and durably, as ZooKeeper's `AtomicFileWritingIdiom` does: the
/// bytes go to `<path>.tmp`, are fsynced, and the temporary file is renamed over `path`, then
/// the directory is synced. A reader sees the old file or the new one, never a part.
public enum AtomicFile {
    public static func replace(_ path: String, with bytes: [UInt8]) throws(RecoveryError) {
        let temporary = path + ".tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw RecoveryError(description: "cannot create \(temporary): \(String(cString: strerror(errno)))") }
        var failure: String?
        if SnapshotFileWriter.writeAll(descriptor, ByteBuffer(bytes: bytes), at: 0) != nil || fsync(descriptor) != 0 {
            failure = "cannot write \(temporary): \(String(cString: strerror(errno)))"
        }
        close(descriptor)
        if failure == nil && rename(temporary, path) != 0 { failure = "cannot rename \(temporary): \(String(cString: strerror(errno)))" }
        if let failure {
            unlink(temporary)
            throw RecoveryError(description: failure)
        }
        if let error = SnapshotFileWriter.syncDirectory((path as NSString).deletingLastPathComponent) {
            throw RecoveryError(description: error)
        }
    }
}
