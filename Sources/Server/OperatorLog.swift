import Foundation
import Logging
import NIOConcurrencyHelpers
import Operations

/// Where the server's log goes, and how it looks.
public struct LogSettings: Sendable {
    /// "text" (ZooKeeper-like lines) or "json" (one object a line).
    public var format: String = "text"
    /// A directory for `file`; standard error when nil (`ZOO_LOG_DIR`, `zookeeper.log.dir`).
    public var directory: String?
    public var file: String = "aviary.log"
    /// Bytes before the file rolls over, and how many old files are kept.
    public var maximumFileSize: Int = 256 << 20
    public var maximumBackups: Int = 20
    public var level: Logger.Level = .info
    public init() {}
}

/// Writes log lines to a file descriptor with `write(2)`, which reports failure instead of
/// trapping as Foundation's `FileHandle.write(_:)` does on a full disk, EIO or a closed pipe.
/// A failed write is counted and said once on standard error; the server goes on.
enum LogOutput {
    private static let state = NIOLockedValueBox((failures: 0, told: false))

    /// Lines that could not be written, since the process started.
    static var failures: Int { state.withLockedValue { $0.failures } }

    /// Writes all of `bytes` to `fd`; false when the descriptor refused them.
    static func write(_ bytes: [UInt8], to fd: Int32) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw in
                Glibc.write(fd, raw.baseAddress.map { $0 + offset }, bytes.count - offset)
            }
            if written > 0 {
                offset += written
            } else if written < 0 && errno == EINTR {
                continue
            } else {
                return false
            }
        }
        return true
    }

    /// Counts a failed write, and says so on standard error the first time.
    static func failed(_ what: String) {
        let error = String(cString: strerror(errno))
        let first = state.withLockedValue { state -> Bool in
            state.failures += 1
            defer { state.told = true }
            return !state.told
        }
        if first {
            _ = write(Array("aviary: cannot write the log (\(what): \(error)); serving on, counting lost lines in aviary_log_write_failures\n".utf8), to: 2)
        }
    }

    /// A line for standard error.
    static func standardError(_ line: String) {
        if !write(Array((line + "\n").utf8), to: 2) { failed("standard error") }
    }
}

/// A log file that rolls over by size like log4j's RollingFileAppender:
/// `aviary.log` becomes `aviary.log.1`, `.1` becomes `.2`, ... up to the backup count.
///
/// When the file cannot be opened again after a roll, lines go to standard error (said there
/// once) and the file is tried again every `retryInterval`, so logging never stops silently.
final class RollingLogFile: @unchecked Sendable {
    private let path: String
    private let maximumSize: Int
    private let backups: Int
    private let retryInterval: TimeInterval
    private let lock = NIOLock()
    private var fd: Int32 = -1
    private var size = 0
    private var nextRetry = Date.distantPast

    init(directory: String, file: String, maximumSize: Int, backups: Int, retryInterval: TimeInterval = 10) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        path = (directory as NSString).appendingPathComponent(file)
        self.maximumSize = max(1024, maximumSize)
        self.backups = max(1, backups)
        self.retryInterval = retryInterval
        guard open() else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path, NSLocalizedDescriptionKey: String(cString: strerror(errno))])
        }
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Whether lines are going to standard error because the file could not be reopened.
    var isOnStandardError: Bool { lock.withLock { fd < 0 } }

    private func open() -> Bool {
        let opened = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard opened >= 0 else { return false }
        fd = opened
        var info = stat()
        size = fstat(fd, &info) == 0 ? Int(info.st_size) : 0
        return true
    }

    func write(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        lock.withLock {
            if fd >= 0 && size + bytes.count > maximumSize { roll() }
            if fd < 0 && Date() >= nextRetry {
                if open() {
                    LogOutput.standardError("aviary: logging to \(path) again")
                } else {
                    nextRetry = Date().addingTimeInterval(retryInterval)
                }
            }
            guard fd >= 0 else {
                LogOutput.standardError(line)
                return
            }
            if LogOutput.write(bytes, to: fd) { size += bytes.count } else { LogOutput.failed(path) }
        }
    }

    private func roll() {
        close(fd)
        fd = -1
        let manager = FileManager.default
        try? manager.removeItem(atPath: "\(path).\(backups)")
        for index in stride(from: backups - 1, through: 1, by: -1) where manager.fileExists(atPath: "\(path).\(index)") {
            try? manager.moveItem(atPath: "\(path).\(index)", toPath: "\(path).\(index + 1)")
        }
        try? manager.moveItem(atPath: path, toPath: "\(path).1")
        if !open() {
            let error = String(cString: strerror(errno))
            nextRetry = Date().addingTimeInterval(retryInterval)
            LogOutput.standardError("aviary: cannot reopen \(path) after rolling it (\(error)); logging to standard error until it can be")
        }
    }
}

/// The last warnings and errors, for the AdminServer's `/errors`.
public final class RecentErrors: @unchecked Sendable {
    public static let shared = RecentErrors()
    private let lock = NIOLock()
    private var entries: [OperatorEvent] = []
    static let capacity = 200

    func add(_ entry: OperatorEvent) {
        lock.withLock {
            entries.append(entry)
            if entries.count > Self.capacity { entries.removeFirst(entries.count - Self.capacity) }
        }
    }

    /// The entries, oldest first.
    public var all: [OperatorEvent] { lock.withLock { entries } }

    /// The entries as a JSON array, oldest first.
    public var json: String { "[" + all.map(\.json).joined(separator: ",\n") + "]\n" }
}

/// A swift-log handler writing ZooKeeper-like text or JSON lines to standard error or a
/// rolling file, and keeping warnings and errors in ``RecentErrors``.
public struct OperatorLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    let label: String
    let json: Bool
    let file: RollingLogFile?

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Installs the handler for every logger of the process.
    public static func bootstrap(_ settings: LogSettings) throws {
        let file = try settings.directory.map {
            try RollingLogFile(directory: $0, file: settings.file, maximumSize: settings.maximumFileSize, backups: settings.maximumBackups)
        }
        let json = settings.format == "json"
        LoggingSystem.bootstrap { label in
            OperatorLogHandler(logLevel: settings.level, label: label, json: json, file: file)
        }
    }

    public func log(event: LogEvent) {
        write(level: event.level, message: event.message, metadata: event.metadata, source: event.source)
    }

    public func log(level: Logger.Level, message: Logger.Message, metadata extra: Logger.Metadata?, source: String,
                    file sourceFile: String, function: String, line: UInt) {
        write(level: level, message: message, metadata: extra, source: source)
    }

    private func write(level: Logger.Level, message: Logger.Message, metadata extra: Logger.Metadata?, source: String) {
        let now = Date()
        var all = metadata
        if let extra { all.merge(extra) { $1 } }
        let text: String
        if json {
            var fields: [(String, JSONValue)] = [("time", .string(ISO8601Time.string(from: now))),
                                                 ("level", .string(level.rawValue)), ("logger", .string(label)),
                                                 ("message", .string(message.description))]
            for (key, value) in all.sorted(by: { $0.key < $1.key }) { fields.append((key, .string("\(value)"))) }
            text = JSONValue.object(fields).compact
        } else {
            let extraText = all.isEmpty ? "" : " " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            text = "\(ISO8601Time.string(from: now)) \(level.rawValue.uppercased()) [\(label)] \(message)\(extraText)"
        }
        if let file { file.write(text) } else { LogOutput.standardError(text) }
        if level >= .warning {
            RecentErrors.shared.add(OperatorEvent(time: now, server: label, kind: level.rawValue,
                                                  details: ["message": message.description, "source": source]))
        }
    }
}
