import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Operations

/// Publishes operator events: keeps the recent ones, streams them to `/events` subscribers
/// as Server-Sent Events, and posts them to the configured webhooks. Confined to the
/// server's core loop.
final class EventHub: @unchecked Sendable {
    static let historySize = 1000
    private(set) var recent: [OperatorEvent] = []
    private var subscribers: [ObjectIdentifier: Channel] = [:]
    private let webhooks: [URL]
    private let group: EventLoopGroup
    private let logger: Logger
    let server: String

    init(server: String, webhooks: [URL], group: EventLoopGroup, logger: Logger) {
        self.server = server
        self.webhooks = webhooks
        self.group = group
        self.logger = logger
    }

    func publish(_ kind: String, _ details: [String: String] = [:]) {
        let event = OperatorEvent(time: Date(), server: server, kind: kind, details: details)
        recent.append(event)
        if recent.count > Self.historySize { recent.removeFirst(recent.count - Self.historySize) }
        let frame = "event: \(kind)\ndata: \(event.json)\n\n"
        // A subscriber that stops reading misses events rather than growing the server's memory.
        for channel in subscribers.values where channel.isWritable {
            var buffer = channel.allocator.buffer(capacity: frame.utf8.count)
            buffer.writeString(frame)
            channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(buffer)), promise: nil)
        }
        for url in webhooks { WebhookSender.post(event.json, to: url, group: group, logger: logger) }
    }

    /// Streams events to `channel` until it closes.
    func subscribe(_ channel: Channel, loop: EventLoop) {
        let key = ObjectIdentifier(channel)
        subscribers[key] = channel
        var hello = channel.allocator.buffer(capacity: 16)
        hello.writeString(": subscribed\n\n")
        channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(hello)), promise: nil)
        channel.closeFuture.whenComplete { [self] _ in loop.execute { self.subscribers[key] = nil } }
    }

    /// Closes every stream (server stop).
    func closeAll() {
        for channel in subscribers.values {
            channel.writeAndFlush(HTTPServerResponsePart.end(nil)).whenComplete { _ in channel.close(promise: nil) }
        }
        subscribers.removeAll()
    }

    /// The recent events as a JSON array.
    var historyJSON: String { "[" + recent.map(\.json).joined(separator: ",\n") + "]\n" }
}

/// Posts one JSON body to an http:// URL and forgets it (errors are logged).
enum WebhookSender {
    static func post(_ body: String, to url: URL, group: EventLoopGroup, logger: Logger) {
        guard url.scheme == "http", let host = url.host else {
            logger.warning("webhook \(url) skipped: only http:// URLs are supported")
            return
        }
        let port = url.port ?? 80
        let path = url.path.isEmpty ? "/" : url.path
        ClientBootstrap(group: group)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in channel.pipeline.addHTTPClientHandlers() }
            .connect(host: host, port: port)
            .whenComplete { result in
                switch result {
                case .failure(let error):
                    logger.warning("webhook \(url) failed: \(error)")
                case .success(let channel):
                    var headers = HTTPHeaders()
                    headers.add(name: "Host", value: "\(host):\(port)")
                    headers.add(name: "Content-Type", value: "application/json")
                    headers.add(name: "Content-Length", value: "\(body.utf8.count)")
                    headers.add(name: "Connection", value: "close")
                    var buffer = channel.allocator.buffer(capacity: body.utf8.count)
                    buffer.writeString(body)
                    channel.write(HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: .POST, uri: path, headers: headers)), promise: nil)
                    channel.write(HTTPClientRequestPart.body(.byteBuffer(buffer)), promise: nil)
                    channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
                    channel.eventLoop.scheduleTask(in: .seconds(10)) { channel.close(promise: nil) }
                }
            }
    }
}
