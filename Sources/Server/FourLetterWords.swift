import Configuration
import Foundation
import NIOCore
import Operations
import ServerCore

/// The four-letter words a connection may send instead of a handshake.
extension AviaryServer {
    /// The version clients and tools see.
    public static let version = "3.8.0-aviary-0.1, built on unknown"

    func fourLetterWord(_ word: String, argument: Int64?, connection id: ConnectionID) {
        coreLoop.execute { [self] in
            guard let channel = channels[id] else { return }
            let allowed = configuration.fourLetterWords.map { $0.contains(word) || $0.contains("*") }
                ?? FourLetterWords.readOnly.contains(word)
            var text = "\(word) is not executed because it is not in the whitelist.\n"
            if allowed {
                if word == "stmk", let argument { setTraceMask(argument) }
                text = FourLetterWords.answer(word, core: &core, context: operatorContext())
            }
            var buffer = channel.allocator.buffer(capacity: text.utf8.count)
            buffer.writeString(text)
            channel.writeAndFlush(buffer).whenComplete { _ in channel.close(promise: nil) }
        }
    }

    /// Changes the trace mask (`stmk`, `set_trace_mask`): a runtime configuration change.
    func setTraceMask(_ mask: Int64) {
        guard mask != traceMask else { return }
        let old = traceMask
        traceMask = mask
        events.publish("configuration_changed", ["key": "traceMask", "old": String(old), "new": String(mask)])
    }

    /// Everything the operator surface shows beyond the core.
    func operatorContext() -> ServerContext {
        let snapshotDirectory = absolute(dataDirectory.snapshotDirectory)
        let logDirectory = absolute(dataDirectory.logDirectory)
        let sync = log?.syncStatistics ?? (count: 0, nanoseconds: 0)
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        let files = fileFigures.current
        let process = ProcessInfo.processInfo
        let environment: [(String, String)] = [
            ("host.name", process.hostName),
            ("java.version", "none (Aviary runs without a JVM)"),
            ("os.name", "Linux"),
            ("os.arch", "amd64"),
            ("os.version", process.operatingSystemVersionString),
            ("user.name", process.environment["USER"] ?? NSUserName()),
            ("user.home", NSHomeDirectory()),
            ("user.dir", FileManager.default.currentDirectoryPath),
            ("os.memory.max", "\(process.physicalMemory / 1_048_576)MB"),
        ]
        // The membership in force, which a reconfig may have changed since the start.
        var shown = configuration
        if let peer {
            shown.servers = peer.membership.servers
            shown.configVersion = peer.membership.version
        }
        var context = ServerContext(
            version: Self.version, mode: mode, configuration: shown,
            snapshotDirectory: snapshotDirectory, logDirectory: logDirectory,
            snapshotDirectorySize: files.snapshotDirectorySize, logDirectorySize: files.logDirectorySize,
            startedAt: startedAt, now: Self.now(), traceMask: traceMask, environment: environment,
            openFileDescriptors: files.openFileDescriptors, maxFileDescriptors: Int64(limit.rlim_cur),
            fsyncCount: Int64(sync.count), fsyncMillis: Int64(sync.nanoseconds / 1_000_000))
        context.slowFsyncCount = Int64(log?.slowSyncCount ?? 0)
        context.logWriteFailures = Int64(LogOutput.failures)
        context.responseSizes = responseSizes
        context.initialConfiguration = SSLSettings.redacted(configuration.sourceText)
        context.lastSnapshotZxid = files.lastSnapshotZxid
        context.lastSnapshotTimestamp = files.lastSnapshotTimestamp
        context.ensemble = peer?.figures
        return context
    }

    /// The part this server plays now.
    var mode: ServerMode {
        guard let peer else { return .standalone }
        if core.readOnly { return core.serving ? .readOnly : .looking }
        switch peer.state {
        case .looking: return .looking
        case .leading: return core.serving ? .leader : .looking
        case .following: return core.serving ? .follower : .looking
        case .observing: return core.serving ? .observer : .looking
        }
    }

    private func absolute(_ path: String) -> String {
        let full = path.hasPrefix("/") ? path : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
        return (full as NSString).standardizingPath
    }
}
