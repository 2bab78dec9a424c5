import Foundation
import NIOCore
import ServerCore

/// The four-letter words a connection may send instead of a handshake.
extension AviaryServer {
    /// The version string clients and tools see.
    public static let version = "3.8.0-aviary-0.1"

    func fourLetterWord(_ word: String, connection id: ConnectionID) {
        coreLoop.execute { [self] in
            guard let channel = channels[id] else { return }
            let allowed = configuration.fourLetterWords.map { $0.contains(word) || $0.contains("*") } ?? true
            let text = allowed ? fourLetterAnswer(word) : "\(word) is not executed because it is not in the whitelist.\n"
            var buffer = channel.allocator.buffer(capacity: text.utf8.count)
            buffer.writeString(text)
            channel.writeAndFlush(buffer).whenComplete { _ in channel.close(promise: nil) }
        }
    }

    func fourLetterAnswer(_ word: String) -> String {
        let tree = core.tree
        switch word {
        case "ruok":
            return "imok"
        case "isro":
            return "rw"
        case "srvr", "stat":
            var lines = ["Zookeeper version: \(Self.version), built on unknown"]
            if word == "stat" { lines.append("Clients:"); lines.append("") }
            lines += [
                "Latency min/avg/max: 0/0.0/0",
                "Received: \(packetsReceived)",
                "Sent: \(packetsSent)",
                "Connections: \(core.connectionCount)",
                "Outstanding: 0",
                "Zxid: 0x\(String(UInt64(bitPattern: tree.lastProcessedZxid), radix: 16))",
                "Mode: standalone",
                "Node count: \(tree.nodes.count)",
            ]
            return lines.joined(separator: "\n") + "\n"
        default:
            return "\(word) is not available in this Aviary release yet.\n"
        }
    }
}
