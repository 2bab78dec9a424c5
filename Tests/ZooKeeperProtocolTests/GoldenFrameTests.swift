import Foundation
import Jute
import NIOCore
import Testing
import ZooKeeperProtocol

/// Frames captured from Apache ZooKeeper 3.8 and its clients (Tests/interop/golden/capture.py)
/// decode with our records and encode back to the same bytes.
struct GoldenFrameTests {
    struct Frame: CustomStringConvertible, Sendable {
        var kind: String
        var opCode: Int32?
        var bytes: [UInt8]
        var description: String { "\(kind) \(opCode.map(String.init) ?? "")" }
    }

    static let frames: [Frame] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/zookeeper-3.8-frames.txt")
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line -> Frame? in
            if line.hasPrefix("#") { return nil }
            let parts = line.split(separator: " ")
            let hex = String(parts[parts.count - 1])
            let op = parts.count == 3 ? Int32(parts[1]) : nil
            return Frame(kind: String(parts[0]), opCode: op, bytes: bytes(fromHex: hex))
        }
    }()

    static func bytes(fromHex hex: String) -> [UInt8] {
        var result: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            result.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        return result
    }

    @Test func fixtureCoversTheClientProtocol() {
        let ops = Set(Self.frames.compactMap(\.opCode))
        #expect(Self.frames.count >= 60)
        for op: OpCode in [.create, .delete, .exists, .getData, .setData, .getACL, .setACL, .getChildren2,
                           .sync, .multi, .createContainer, .createTTL, .removeWatches, .auth, .getEphemerals,
                           .getAllChildrenNumber, .addWatch, .whoAmI, .closeSession] {
            #expect(ops.contains(op.rawValue), "no captured frame for \(op)")
        }
        #expect(Self.frames.contains { $0.kind == "EVENT" })
    }

    @Test(arguments: frames)
    func decodesAndReencodesByteForByte(frame: Frame) throws {
        var reader = JuteReader(ByteBuffer(bytes: frame.bytes))
        var writer = JuteWriter()
        switch frame.kind {
        case "CONNECT_REQ":
            writer.write(try ConnectRequest(from: &reader))
        case "CONNECT_RESP":
            writer.write(try ConnectResponse(from: &reader))
        case "REQ":
            let header = try RequestHeader(from: &reader)
            let request = try Request.decode(opCode: header.type, from: &reader)
            writer.write(header)
            request.write(to: &writer)
        case "REPLY":
            let header = try ReplyHeader(from: &reader)
            var body = Response.empty
            if header.err == 0, let op = frame.opCode.flatMap(OpCode.init(rawValue:)) {
                body = try Response.decode(opCode: op, from: &reader)
            }
            var buffer = ByteBuffer()
            OutboundFrame.reply(header, body).encode(into: &buffer)
            buffer.moveReaderIndex(forwardBy: 4)
            writer = JuteWriter(buffer)
        case "EVENT":
            let header = try ReplyHeader(from: &reader)
            writer.write(header)
            writer.write(try WatcherEvent(from: &reader))
        default:
            Issue.record("unknown frame kind \(frame.kind)")
        }
        #expect(reader.remaining == 0, "bytes left over decoding \(frame)")
        #expect(Array(writer.buffer.readableBytesView) == frame.bytes, "\(frame) did not re-encode byte for byte")
    }
}
