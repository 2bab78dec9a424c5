import NIOCore
import NIOSSL
import NIOTLS
import ServerCore
import ZooKeeperProtocol

/// Watches a client connection's TLS handshake, behind the `NIOSSLServerHandler`: when it
/// completes, the client certificate's subject becomes the connection's `x509` identity (and
/// `super` when it is the configured super user's, as ZooKeeper's `X509AuthenticationProvider`
/// does); when it fails, or has not finished within the handshake timeout (a client that
/// connects and stalls), the core hears of it (`unsuccessful_handshake`, an `auth_failed`
/// event, a log line) and the connection is closed.
final class TLSHandshakeWatcher: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let server: AviaryServer
    private let id: ConnectionID
    private let timeout: TimeAmount
    private let superUser: String?
    private var deadline: Scheduled<Void>?
    private var finished = false

    init(server: AviaryServer, id: ConnectionID, timeoutMillis: Int, superUser: String?) {
        self.server = server
        self.id = id
        self.timeout = .milliseconds(Int64(timeoutMillis))
        self.superUser = superUser
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { startClock(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        startClock(context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        context.fireChannelInactive()
    }

    private func startClock(_ context: ChannelHandlerContext) {
        guard deadline == nil, !finished else { return }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: timeout) {
            let (watcher, context) = loopBound.value
            watcher.fail(context, reason: "the handshake did not finish within \(watcher.timeout.nanoseconds / 1_000_000) ms",
                         certificateRefused: false)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event, !finished {
            finished = true
            deadline?.cancel()
            if let certificate = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self).peerCertificate,
               let der = try? certificate.toDERBytes(), let subject = X509Subject.rfc2253(certificate: der) {
                var identities = [Id(scheme: "x509", id: subject)]
                if let superUser, superUser == subject { identities.append(Id(scheme: "super", id: subject)) }
                server.submit(.connectionAuthenticated(id, identities))
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !finished else {
            context.fireErrorCaught(error)
            return
        }
        let (reason, certificateRefused) = Self.describe(error)
        fail(context, reason: reason, certificateRefused: certificateRefused)
    }

    private func fail(_ context: ChannelHandlerContext, reason: String, certificateRefused: Bool) {
        guard !finished else { return }
        finished = true
        deadline?.cancel()
        server.submit(.handshakeFailed(id, reason: reason, certificateRefused: certificateRefused))
        context.close(promise: nil)
    }

    /// BoringSSL's reason code with what it means for an operator, and whether it was the
    /// client's certificate that was refused.
    static func describe(_ error: any Error) -> (reason: String, certificateRefused: Bool) {
        if let error = error as? NIOSSLError, case .uncleanShutdown = error {
            return ("the client closed the connection during the handshake", false)
        }
        let text = "\(error)"
        guard let marker = text.range(of: "OPENSSL_internal:") else { return (text, false) }
        let code = String(text[marker.upperBound...].prefix { $0 != ":" && $0 != " " && $0 != "," && $0 != ")" })
        let meaning = explanations[code].map { "\(code): \($0)" } ?? code
        return (meaning, ["CERTIFICATE_VERIFY_FAILED", "PEER_DID_NOT_RETURN_A_CERTIFICATE"].contains(code))
    }

    private static let explanations: [String: String] = [
        "WRONG_VERSION_NUMBER": "the client does not speak TLS (a plaintext client on a TLS port?)",
        "HTTP_REQUEST": "the client sent HTTP, not TLS",
        "CERTIFICATE_VERIFY_FAILED": "the client's certificate is not from a trusted authority, has expired or is not valid yet",
        "PEER_DID_NOT_RETURN_A_CERTIFICATE": "the client sent no certificate and ssl.clientAuth=need",
        "TLSV1_ALERT_UNKNOWN_CA": "the client does not trust this server's certificate",
        "SSLV3_ALERT_BAD_CERTIFICATE": "the client refused this server's certificate",
        "SSLV3_ALERT_CERTIFICATE_EXPIRED": "the client says this server's certificate has expired",
        "NO_SHARED_CIPHER": "no cipher suite both sides allow (ssl.ciphersuites)",
        "UNSUPPORTED_PROTOCOL": "no TLS version both sides allow (ssl.enabledProtocols)",
        "TLSV1_ALERT_PROTOCOL_VERSION": "no TLS version both sides allow (ssl.enabledProtocols)",
    ]
}
