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

/// A log file that rolls over by size like log4j's RollingFileAppender:
/// `aviary.log` becomes `aviary.log.1`, `.1` becomes `.2`, ... up to the backup count.
final class RollingLogFile: @unchecked Sendable {
    private let path: String
    private let maximumSize: Int
    private let backups: Int
    private let lock = NIOLock()
    private var handle: FileHandle?
    private var size = 0

    init(directory: String, file: String, maximumSize: Int, backups: Int) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        path = (directory as NSString).appendingPathComponent(file)
        self.maximumSize = max(1024, maximumSize)
        self.backups = max(1, backups)
        try open()
    }

    private func open() throws {
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        size = Int(try handle?.seekToEnd() ?? 0)
    }

    func write(_ line: String) {
        lock.withLock {
            let data = Data((line + "\n").utf8)
            if size + data.count > maximumSize { roll() }
            handle?.write(data)
            size += data.count
        }
    }

    private func roll() {
        try? handle?.close()
        let manager = FileManager.default
        try? manager.removeItem(atPath: "\(path).\(backups)")
        for index in stride(from: backups - 1, through: 1, by: -1) where manager.fileExists(atPath: "\(path).\(index)") {
            try? manager.moveItem(atPath: "\(path).\(index)", toPath: "\(path).\(index + 1)")
        }
        try? manager.moveItem(atPath: path, toPath: "\(path).1")
        try? open()
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
        if let file { file.write(text) } else { FileHandle.standardError.write(Data((text + "\n").utf8)) }
        if level >= .warning {
            RecentErrors.shared.add(OperatorEvent(time: now, server: label, kind: level.rawValue,
                                                  details: ["message": message.description, "source": source]))
        }
    }
}
