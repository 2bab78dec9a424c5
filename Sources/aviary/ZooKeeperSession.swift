import Foundation
import Jute
import NIOCore
import ZooKeeperProtocol

/// A short client session for the operator commands (`aviary member`, `aviary status`): it
/// connects, authenticates, sends requests one at a time and waits for each answer, then
/// closes. Works against Aviary and Apache ZooKeeper alike.
final class ZooKeeperSession {
    /// A request the server answered with an error code.
    struct Refused: Error, CustomStringConvertible {
        var code: Int32
        var error: KeeperError? { KeeperError(rawValue: code) }
        var description: String { error.map { "\($0) (\(code))" } ?? "error \(code)" }
    }

    private let socket: BlockingSocket
    private var xid: Int32 = 0
    let address: String

    /// Opens a session at `address`; each of `auth` ("scheme:credentials", e.g.
    /// "digest:super:secret") is sent as an AuthPacket.
    init(address: String, timeout: Double, auth: [String] = []) throws {
        self.address = address
        socket = try BlockingSocket(address: address, timeout: timeout)
        let connect = ConnectRequest(lastZxidSeen: 0, timeOut: Int32(max(4, timeout * 3) * 1000), sessionId: 0,
                                     passwd: [UInt8](repeating: 0, count: 16), readOnly: false)
        try send(connect.encoded())
        let answer = try frame()
        guard let response = try? ConnectResponse(decoding: ByteBuffer(bytes: answer)), response.sessionId != 0 else {
            throw BlockingSocket.Failure(description: "\(address): the server refused the session (it may not be serving)")
        }
        for item in auth {
            guard let colon = item.firstIndex(of: ":") else {
                throw BlockingSocket.Failure(description: "--auth \(item): expected scheme:credentials")
            }
            var writer = JuteWriter()
            writer.write(RequestHeader(xid: -4, type: OpCode.auth.rawValue))
            writer.write(AuthPacket(scheme: String(item[..<colon]), auth: Array(item[item.index(after: colon)...].utf8)))
            try send(writer.buffer)
            let (header, _) = try reply(xid: -4)
            if header.err != 0 { throw Refused(code: header.err) }
        }
    }

    deinit {
        var writer = JuteWriter()
        writer.write(RequestHeader(xid: xid + 1, type: OpCode.closeSession.rawValue))
        try? send(writer.buffer)
    }

    /// Sends `request` and returns the server's answer; an error code throws ``Refused``.
    func call(_ request: Request) throws -> Response {
        xid += 1
        var writer = JuteWriter()
        writer.write(RequestHeader(xid: xid, type: request.opCode.rawValue))
        request.write(to: &writer)
        try send(writer.buffer)
        let (header, body) = try reply(xid: xid)
        if header.err != 0 { throw Refused(code: header.err) }
        var reader = JuteReader(ByteBuffer(bytes: body))
        return try Response.decode(opCode: request.opCode, from: &reader)
    }

    /// A znode's data and stat.
    func getData(_ path: String) throws -> ([UInt8]?, Stat) {
        guard case .getData(let data, let stat) = try call(.getData(path: path, watch: false)) else {
            throw BlockingSocket.Failure(description: "\(address): unexpected answer to getData")
        }
        return (data, stat)
    }

    /// A reconfig; returns the configuration now in force.
    func reconfig(joining: String?, leaving: String?, newMembers: String? = nil, fromVersion: Int64 = -1) throws -> String {
        let request = ReconfigRequest(joiningServers: joining, leavingServers: leaving, newMembers: newMembers, curConfigId: fromVersion)
        guard case .getData(let data, _) = try call(.reconfig(request)) else {
            throw BlockingSocket.Failure(description: "\(address): unexpected answer to reconfig")
        }
        return String(decoding: data ?? [], as: UTF8.self)
    }

    private func send(_ body: ByteBuffer) throws {
        var frame = [UInt8]()
        withUnsafeBytes(of: Int32(body.readableBytes).bigEndian) { frame.append(contentsOf: $0) }
        frame.append(contentsOf: body.readableBytesView)
        try socket.send(frame)
    }

    private func frame() throws -> [UInt8] {
        let prefix = try socket.read(4)
        let length = Int(Int32(bigEndian: prefix.withUnsafeBytes { $0.loadUnaligned(as: Int32.self) }))
        guard length >= 0, length < 16 << 20 else { throw BlockingSocket.Failure(description: "\(address): a frame of \(length) bytes") }
        return try socket.read(length)
    }

    /// The reply to `xid`, watch events and pings passed over.
    private func reply(xid: Int32) throws -> (ReplyHeader, [UInt8]) {
        while true {
            let bytes = try frame()
            var reader = JuteReader(ByteBuffer(bytes: bytes))
            let header = try ReplyHeader(from: &reader)
            if header.xid == xid { return (header, Array(bytes.dropFirst(16))) }
        }
    }
}
