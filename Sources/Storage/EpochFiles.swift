import Foundation
import NIOCore

/// The `currentEpoch` and `acceptedEpoch` files of `dataDir/version-2` (`QuorumPeer`): each a
/// decimal long with no newline, replaced atomically (written to `<name>.tmp`, fsynced, renamed,
/// the directory fsynced), as ZooKeeper's `AtomicFileWritingIdiom` writes them.
///
/// The accepted epoch is the newest a leader proposed and this server agreed to (written at
/// ACKEPOCH); the current epoch the newest whose NEWLEADER it acknowledged.
public struct EpochFiles: Sendable {
    public static let current = "currentEpoch"
    public static let accepted = "acceptedEpoch"

    /// `dataDir/version-2`.
    public let directory: String

    public init(directory: String) { self.directory = directory }

    /// The epochs a server starts with, and what was done to get them.
    public struct Loaded: Sendable, Equatable {
        public var currentEpoch: Int64
        public var acceptedEpoch: Int64
        public var notes: [String]
    }

    private func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }

    /// The value in `name`, or nil when the file does not exist.
    public func read(_ name: String) throws(RecoveryError) -> Int64? {
        let path = path(name)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RecoveryError(description: "cannot read \(path)")
        }
        // Java's readLine then Long.parseLong: the first line, exactly a number.
        let line = String(decoding: data, as: UTF8.self).split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let text = line.hasSuffix("\r") ? line.dropLast() : line
        guard let value = Int64(text) else { throw RecoveryError(description: "Found \(text) in \(path)") }
        return value
    }

    /// Replaces `name` with `value`, durably.
    public func write(_ name: String, _ value: Int64) throws(RecoveryError) {
        try AtomicFile.replace(path(name), with: Array(String(value).utf8))
    }

    /// The value in `name`; a missing file is created holding `value` ("should only happen when
    /// you are upgrading your installation", as ZooKeeper logs it).
    private func readOrCreate(_ name: String, default value: Int64, notes: inout [String]) throws(RecoveryError) -> Int64 {
        if let existing = try read(name) { return existing }
        try write(name, value)
        notes.append("\(name) not found: created with the last zxid's epoch, \(value)")
        return value
    }

    /// Reads both epochs as ZooKeeper does at start (`QuorumPeer.loadDataBase`): a missing file
    /// is created from the epoch of the last zxid; a current epoch older than the last zxid's
    /// is taken from `currentEpoch.tmp` if a crash left one, else the start fails; an accepted
    /// epoch below the current one fails the start.
    public func load(lastProcessedZxid: Int64) throws(RecoveryError) -> Loaded {
        let epochOfZxid = lastProcessedZxid >> 32
        var notes: [String] = []
        var current = try readOrCreate(Self.current, default: epochOfZxid, notes: &notes)
        if epochOfZxid > current {
            guard let pending = try read(Self.current + ".tmp") else {
                throw RecoveryError(description: "The current epoch, \(current), is older than the last zxid, 0x\(String(UInt64(bitPattern: lastProcessedZxid), radix: 16))")
            }
            try write(Self.current, pending)
            notes.append("\(Self.current).tmp found: current epoch set to \(pending)")
            current = pending
        }
        let accepted = try readOrCreate(Self.accepted, default: epochOfZxid, notes: &notes)
        if accepted < current {
            throw RecoveryError(description: "The accepted epoch, \(accepted), is less than the current epoch, \(current)")
        }
        return Loaded(currentEpoch: current, acceptedEpoch: accepted, notes: notes)
    }
}
