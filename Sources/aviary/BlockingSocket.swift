import Foundation

/// A TCP connection with send and receive timeouts, for the operator commands' short
/// exchanges with a server (four-letter words, a client session of a few requests).
final class BlockingSocket {
    struct Failure: Error, CustomStringConvertible { var description: String }

    private let descriptor: Int32
    let address: String

    /// Connects to `host:port` (IPv6 hosts in brackets) within `timeout` seconds.
    init(address: String, timeout: Double) throws {
        guard let colon = address.lastIndex(of: ":"), let port = UInt16(address[address.index(after: colon)...]) else {
            throw Failure(description: "\(address): expected host:port")
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
        var limit = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1_000_000))
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        guard connect(descriptor, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            close(descriptor)
            throw Failure(description: "\(address): connection refused or timed out")
        }
        self.descriptor = descriptor
        self.address = address
    }

    deinit { close(descriptor) }

    /// Sends all of `bytes`.
    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Foundation.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw Failure(description: "\(address): the connection closed while sending") }
            offset += sent
        }
    }

    /// Reads exactly `count` bytes.
    func read(_ count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            let received = bytes[offset...].withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            guard received > 0 else { throw Failure(description: "\(address): the connection closed or timed out") }
            offset += received
        }
        return bytes
    }

    /// Reads until the server closes the connection (or the timeout passes).
    func readToEnd() -> [UInt8] {
        var answer = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(descriptor, &chunk, chunk.count, 0)
            if count <= 0 { break }
            answer += chunk[0..<count]
        }
        return answer
    }
}

/// Sends a four-letter word and reads the answer until the server closes.
enum FourLetterClient {
    static func ask(_ word: String, at address: String, timeout: Double) throws -> String {
        let socket = try BlockingSocket(address: address, timeout: timeout)
        try socket.send(Array(word.utf8))
        return String(decoding: socket.readToEnd(), as: UTF8.self)
    }
}
