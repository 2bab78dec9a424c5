import Jute
import NIOCore
import ZooKeeperProtocol

/// Quorum packets written in one turn of the core's loop and not yet flushed, by channel.
///
/// A leader sends every PROPOSAL and COMMIT to each learner and a follower an ACK for every
/// PROPOSAL; flushed one by one, each is a system call and a wake-up of the peer. Held to the
/// end of the turn (``AviaryServer/endOfTurn()``), a burst of them goes out in one write per
/// connection, as ZooKeeper's `LearnerHandler` and `Learner` flush only when their queue is
/// empty. Order on a connection is kept: NIO writes what it is given in order.
struct QuorumOutbound {
    private var pending: [ObjectIdentifier: (channel: Channel, bytes: Int)] = [:]

    /// Bytes held back for one connection before they are flushed within the turn, so that a
    /// DIFF of many transactions starts out while it is still being queued.
    static let flushThreshold = 64 * 1024

    /// Writes `packet` on `channel` without flushing; returns whether the caller must schedule
    /// the end of the turn (nothing was pending before).
    mutating func write(_ packet: QuorumPacket, on channel: Channel) -> Bool {
        var writer = JuteWriter(channel.allocator.buffer(capacity: 64 + (packet.data?.count ?? 0)))
        writer.write(packet)
        let size = writer.buffer.readableBytes
        channel.write(writer.buffer, promise: nil)
        let key = ObjectIdentifier(channel)
        let wasEmpty = pending.isEmpty
        let bytes = (pending[key]?.bytes ?? 0) + size
        if bytes >= Self.flushThreshold {
            pending[key] = nil
            channel.flush()
        } else {
            pending[key] = (channel, bytes)
        }
        return wasEmpty && !pending.isEmpty
    }

    /// Flushes every connection written to since the last call.
    mutating func flushAll() {
        guard !pending.isEmpty else { return }
        let channels = pending.values
        pending = [:]
        for (channel, _) in channels { channel.flush() }
    }
}
