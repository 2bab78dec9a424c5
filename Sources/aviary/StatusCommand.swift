import ArgumentParser
import Foundation
import Operations

/// `aviary status HOST:PORT[,HOST:PORT...]`: the state of every server in one table, read
/// with the `srvr` four-letter word, so it works against Apache ZooKeeper servers too.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show state, zxid, lag, latency, connections and znodes of each server.")

    @Argument(help: "Servers as host:port, comma-separated (a ZooKeeper connect string).")
    var servers: String
    @Flag(help: "Print JSON.") var json = false
    @Option(help: "Seconds to wait for each server.") var timeout = 3.0

    func run() throws {
        let addresses = servers.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !addresses.isEmpty else { throw ValidationError("no servers given") }
        let statuses = ServerStatus.withLag(addresses.map { address in
            do {
                return ServerStatus(address: address, srvr: try FourLetterClient.ask("srvr", at: address, timeout: timeout))
            } catch {
                return ServerStatus(address: address, error: "\(error)")
            }
        })
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(statuses), as: UTF8.self))
        } else {
            print(ServerStatus.table(statuses), terminator: "")
        }
        if statuses.contains(where: { !$0.reachable }) { throw ExitCode(1) }
    }
}

/// Sends a four-letter word and reads the answer until the server closes.
enum FourLetterClient {
    struct Failure: Error, CustomStringConvertible { var description: String }

    static func ask(_ word: String, at address: String, timeout: Double) throws -> String {
        guard let colon = address.lastIndex(of: ":"), let port = UInt16(address[address.index(after: colon)...]) else {
            throw Failure(description: "expected host:port")
        }
        let host = String(address[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let info = list else {
            throw Failure(description: "cannot resolve \(host)")
        }
        defer { freeaddrinfo(list) }
        let descriptor = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
        guard descriptor >= 0 else { throw Failure(description: "no socket") }
        defer { close(descriptor) }
        var limit = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1_000_000))
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        guard connect(descriptor, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            throw Failure(description: "connection refused or timed out")
        }
        _ = word.withCString { send(descriptor, $0, 4, Int32(MSG_NOSIGNAL)) }
        var answer = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(descriptor, &chunk, chunk.count, 0)
            if count <= 0 { break }
            answer += chunk[0..<count]
        }
        return String(decoding: answer, as: UTF8.self)
    }
}
