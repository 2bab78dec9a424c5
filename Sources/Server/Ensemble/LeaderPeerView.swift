import NIOCore
import NIOPosix

/// A learner's copy of its leader's view of every member: the leader's answer to the `peer`
/// four-letter word on its client port, fetched each tick while following, so that every
/// server can show every member's health, not only its leader's (an Apache ZooKeeper leader
/// does not answer the word, and a learner then knows only its leader).
enum LeaderPeerView {
    /// Asks `host:port` for `peer`; `done` gets the answer on `loop` (nil when there is none).
    static func fetch(host: String, port: Int, on loop: EventLoop, timeout: TimeAmount,
                      done: @escaping @Sendable (String?) -> Void) {
        let collector = NIOLoopBound(Collector(), eventLoop: loop)
        ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Reader(collector: collector.value, done: done))
                }
            }
            .connect(host: host, port: port)
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    channel.writeAndFlush(channel.allocator.buffer(string: "peer"), promise: nil)
                    loop.scheduleTask(in: timeout) { channel.close(promise: nil) }
                case .failure:
                    done(nil)
                }
            }
    }

    private final class Collector {
        var text = ""
    }

    /// Gathers what the server sends until it closes the connection.
    private final class Reader: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let collector: Collector
        let done: @Sendable (String?) -> Void
        private var finished = false

        init(collector: Collector, done: @escaping @Sendable (String?) -> Void) {
            self.collector = collector
            self.done = done
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = unwrapInboundIn(data)
            if collector.text.utf8.count < 1 << 16 { collector.text += buffer.readString(length: buffer.readableBytes) ?? "" }
        }

        func channelInactive(context: ChannelHandlerContext) {
            guard !finished else { return }
            finished = true
            done(collector.text.contains("id=") ? collector.text : nil)
        }

        func errorCaught(context: ChannelHandlerContext, error: Error) {
            context.close(promise: nil)
        }
    }
}
