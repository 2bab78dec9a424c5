import Jute
import Logging
import NIOCore
import ServerCore
import ZooKeeperProtocol

/// Sent down a client channel to pause or resume reading.
struct ReadThrottle: Sendable {
    enum Reason: Sendable {
        /// Too many requests outstanding server-wide (`globalOutstandingLimit`).
        case outstandingLimit
        /// The connection's session is being created (the core's ``ServerCore/Action/pauseReading(_:)``).
        case sessionPending
    }
    var reason: Reason
    var paused: Bool
}

/// Turns one client connection's frames into server-core events. Thin: decoding only.
///
/// Reading pauses while the server is throttled or while replies to this client pile up
/// unread (the channel is not writable), so neither can grow memory without bound.
final class ClientConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = InboundFrame

    private let server: AviaryServer
    private let id: ConnectionID
    private let logger: Logger
    private var handshakeDone = false
    private let maximumLength: Int
    private var throttled = false
    private var sessionPending = false

    init(server: AviaryServer, id: ConnectionID, maximumLength: Int, logger: Logger) {
        self.server = server
        self.id = id
        self.maximumLength = maximumLength
        self.logger = logger
    }

    func channelActive(context: ChannelHandlerContext) {
        let address = context.channel.remoteAddress?.ipAddress ?? "unknown"
        server.register(id, channel: context.channel, address: address, port: context.channel.remoteAddress?.port ?? 0)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        server.submit(.connectionClosed(id))
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .fourLetterWord(let word, let argument):
            server.fourLetterWord(word, argument: argument, connection: id)
        case .frame(let payload):
            var reader = JuteReader(payload, maximumLength: maximumLength)
            if !handshakeDone {
                do {
                    let request = try ConnectRequest(from: &reader)
                    handshakeDone = true
                    context.pipeline.syncOperations.removeHandler(name: HandshakeActivityHandler.name).whenComplete { _ in }
                    server.submit(.connect(id, request))
                } catch {
                    logger.warn("Closing connection \(id): malformed handshake: \(error)")
                    context.close(promise: nil)
                }
                return
            }
            let header: RequestHeader
            do {
                header = try RequestHeader(from: &reader)
            } catch {
                logger.warn("Closing connection \(id): frame of \(payload.readableBytes) bytes has no request header")
                context.close(promise: nil)
                return
            }
            do {
                let request = try Request.decode(opCode: header.type, from: &reader)
                server.submit(.request(id, header, request))
            } catch let error as KeeperError {
                server.submit(.undecodableRequest(id, header, error))
            } catch {
                server.submit(.undecodableRequest(id, header, .marshallingError))
            }
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        updateReading(context)
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let throttle = event as? ReadThrottle {
            switch throttle.reason {
            case .outstandingLimit: throttled = throttle.paused
            case .sessionPending: sessionPending = throttle.paused
            }
            updateReading(context)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    private func updateReading(_ context: ChannelHandlerContext) {
        let read = !throttled && !sessionPending && context.channel.isWritable
        context.channel.setOption(ChannelOptions.autoRead, value: read).whenComplete { _ in }
        if read { context.read() }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let error = error as? FrameLengthError {
            logger.warn("Closing connection \(id) from \(context.channel.remoteAddress?.description ?? "?"): \(error)")
        } else if !(error is IOError) {
            logger.warn("Closing connection \(id): \(error)")
        }
        context.close(promise: nil)
    }
}

extension Logger {
    func warn(_ message: @autoclosure () -> String) { warning("\(message())") }
}
