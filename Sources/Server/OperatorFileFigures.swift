import Foundation
import NIOConcurrencyHelpers
import Storage

/// What the operator surface shows of the file system (directory sizes, the newest snapshot,
/// open descriptors), read off the core's loop and kept for a moment.
///
/// Four-letter words, scrapes and dashboard polls read the cached figures; a refresh runs on
/// a background queue at most once per `maximumAge`, so neither a busy scraper nor a hung disk
/// (a `stat` that blocks) can hold up the loop that serves clients.
final class OperatorFileFigures: @unchecked Sendable {
    struct Figures: Sendable {
        var snapshotDirectorySize: Int64 = 0
        var logDirectorySize: Int64 = 0
        var openFileDescriptors: Int64 = 0
        var lastSnapshotZxid: Int64 = 0
        var lastSnapshotTimestamp: Int64 = 0
    }

    private struct State {
        var figures = Figures()
        var refreshedAt: UInt64 = 0
        var refreshing = false
    }

    private let dataDirectory: DataDirectory
    private let maximumAge: UInt64
    private let state = NIOLockedValueBox(State())
    private let queue = DispatchQueue(label: "aviary-operator-files")

    init(dataDirectory: DataDirectory, maximumAgeMillis: UInt64 = 2000) {
        self.dataDirectory = dataDirectory
        self.maximumAge = maximumAgeMillis * 1_000_000
    }

    /// The figures as last read; starts a refresh when they are older than `maximumAge`.
    var current: Figures {
        let now = DispatchTime.now().uptimeNanoseconds
        let (figures, stale) = state.withLockedValue { state -> (Figures, Bool) in
            let stale = !state.refreshing && now - state.refreshedAt >= maximumAge
            if stale { state.refreshing = true }
            return (state.figures, stale)
        }
        if stale { queue.async { self.refreshNow() } }
        return figures
    }

    /// Reads the figures on the calling thread (at start, and after a snapshot on the queue).
    func refreshNow() {
        let figures = read()
        state.withLockedValue { state in
            state.figures = figures
            state.refreshedAt = DispatchTime.now().uptimeNanoseconds
            state.refreshing = false
        }
    }

    /// Marks the figures out of date: the next read starts a refresh.
    func invalidate() {
        state.withLockedValue { state in state.refreshedAt = 0 }
    }

    private func read() -> Figures {
        var figures = Figures()
        figures.snapshotDirectorySize = Self.size(of: dataDirectory.snapshotDirectory)
        figures.logDirectorySize = Self.size(of: dataDirectory.logDirectory)
        figures.openFileDescriptors = Int64((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0)
        if let newest = try? dataDirectory.snapshots().first {
            figures.lastSnapshotZxid = newest.zxid
            let attributes = try? FileManager.default.attributesOfItem(atPath: newest.path)
            figures.lastSnapshotTimestamp = Int64((attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)
        }
        return figures
    }

    /// Bytes in the files of a directory (ZooKeeper's `dataDirSize`).
    static func size(of directory: String) -> Int64 {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.reduce(Int64(0)) { total, name in
            let attributes = try? FileManager.default.attributesOfItem(atPath: (directory as NSString).appendingPathComponent(name))
            return total + ((attributes?[.size] as? NSNumber)?.int64Value ?? 0)
        }
    }
}
