import Foundation
@testable import Server
import Testing

/// The operator log survives destinations that fail: a full disk, a directory gone at a roll.
struct RollingLogFileTests {
    func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "rolling-log-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func aFullDiskIsCountedNotFatal() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // /dev/full answers every write with ENOSPC.
        try FileManager.default.createSymbolicLink(atPath: directory + "/aviary.log", withDestinationPath: "/dev/full")
        let file = try RollingLogFile(directory: directory, file: "aviary.log", maximumSize: 1 << 20, backups: 2)
        let before = LogOutput.failures
        for n in 0..<10 { file.write("line \(n)") }
        #expect(LogOutput.failures - before >= 10)
        #expect(!file.isOnStandardError, "the file stays open: the next write may succeed")
    }

    @Test func aFailedReopenAfterARollFallsBackToStandardErrorAndRecovers() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = try RollingLogFile(directory: directory, file: "aviary.log", maximumSize: 1024, backups: 2, retryInterval: 0)
        file.write(String(repeating: "x", count: 600))
        try FileManager.default.removeItem(atPath: directory)
        file.write(String(repeating: "y", count: 600))  // rolls; the directory is gone
        #expect(file.isOnStandardError)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        file.write("back")
        #expect(!file.isOnStandardError)
        let text = try String(contentsOfFile: directory + "/aviary.log", encoding: .utf8)
        #expect(text == "back\n")
    }
}
