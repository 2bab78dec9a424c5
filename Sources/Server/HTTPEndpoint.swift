import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// A response from one of the server's HTTP endpoints.
public struct HTTPAnswer: Sendable {
    public var status: HTTPResponseStatus
    public var contentType: String
    public var body: String
    /// For a stream (Server-Sent Events): called with the channel once the head is sent;
    /// the callee writes body parts to it for as long as it likes.
    public var stream: (@Sendable (Channel) -> Void)?
    public init(_ status: HTTPResponseStatus, _ contentType: String, _ body: String,
                stream: (@Sendable (Channel) -> Void)? = nil) {
        self.status = status; self.contentType = contentType; self.body = body; self.stream = stream
    }
}

/// A small HTTP/1.1 listener for GET endpoints (metrics, health). Each request's answer is
/// computed by `route` on the caller's chosen loop; the handler only frames bytes.
final class HTTPEndpoint {
    typealias Route = @Sendable (_ path: String, _ query: [String: String]) -> EventLoopFuture<HTTPAnswer>

    static func bind(group: EventLoopGroup, host: String, port: Int, route: @escaping Route) async throws -> Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(Handler(route: route))
                    }
                }
            }
            .bind(host: host, port: port)
            .get()
    }

    final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let route: Route
        var head: HTTPRequestHead?

        init(route: @escaping Route) { self.route = route }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head): self.head = head
            case .body: break
            case .end:
                guard let head else { return }
                self.head = nil
                let parts = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
                let path = String(parts.first ?? "/")
                var query: [String: String] = [:]
                if parts.count == 2 {
                    for pair in parts[1].split(separator: "&") {
                        let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                        query[String(kv[0]).removingPercentEncoding ?? String(kv[0])] =
                            kv.count == 2 ? (String(kv[1]).removingPercentEncoding ?? String(kv[1])) : ""
                    }
                }
                let keepAlive = head.isKeepAlive
                let answer: EventLoopFuture<HTTPAnswer> = head.method == .GET
                    ? route(path, query)
                    : context.eventLoop.makeSucceededFuture(HTTPAnswer(.methodNotAllowed, "text/plain", "only GET\n"))
                let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                answer.hop(to: context.eventLoop).whenSuccess { answer in
                    let (handler, context) = loopBound.value
                    handler.respond(answer, keepAlive: keepAlive, context: context)
                }
            }
        }

        func respond(_ answer: HTTPAnswer, keepAlive: Bool, context: ChannelHandlerContext) {
            if let stream = answer.stream {
                var headers = HTTPHeaders()
                headers.add(name: "Content-Type", value: answer.contentType)
                headers.add(name: "Cache-Control", value: "no-cache")
                headers.add(name: "Transfer-Encoding", value: "chunked")
                context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: answer.status, headers: headers))), promise: nil)
                stream(context.channel)
                return
            }
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: answer.contentType)
            headers.add(name: "Content-Length", value: "\(answer.body.utf8.count)")
            headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: answer.status, headers: headers))), promise: nil)
            var buffer = context.channel.allocator.buffer(capacity: answer.body.utf8.count)
            buffer.writeString(answer.body)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
            let channel = context.channel
            let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
            if !keepAlive { done.whenComplete { _ in channel.close(promise: nil) } }
        }
    }
}
