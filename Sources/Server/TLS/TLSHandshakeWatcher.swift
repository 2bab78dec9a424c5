import NIOCore
import NIOSSL
import NIOTLS
import ServerCore
import ZooKeeperProtocol

/// Watches a connection's TLS handshake, behind the NIOSSL handler: says when it completed,
/// and when it failed or has not finished within the timeout (a peer that connects and
/// stalls), then closes the connection. What each outcome means is the caller's: a client
/// port's certificate identity and `unsuccessful_handshake`, a quorum port's log line.
final class TLSHandshakeWatcher: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    typealias Completed = (ChannelHandlerContext) -> Void
    typealias Failed = (ChannelHandlerContext, _ reason: String, _ certificateRefused: Bool) -> Void

    private let completed: Completed
    private let failed: Failed
    private var deadline: ConnectionDeadline
    private var finished = false

    init(timeoutMillis: Int, completed: @escaping Completed, failed: @escaping Failed) {
        deadline = ConnectionDeadline(.milliseconds(Int64(timeoutMillis)))
        self.completed = completed
        self.failed = failed
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { startClock(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        startClock(context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline.cancel()
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline.cancel()
        context.fireChannelInactive()
    }

    private func startClock(_ context: ChannelHandlerContext) {
        guard !finished else { return }
        deadline.start(on: context) { [self] context, limit in
            fail(context, reason: "the handshake did not finish within \(limit) ms", certificateRefused: false)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted? = event as? TLSUserEvent, !finished {
            finished = true
            deadline.cancel()
            completed(context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !finished else {
            // A peer that closes its socket without TLS's close_notify, as many clients do,
            // has simply gone: the connection closes as for a plaintext peer, without a warning.
            if let error = error as? NIOSSLError, case .uncleanShutdown = error { return }
            context.fireErrorCaught(error)
            return
        }
        let (reason, certificateRefused) = Self.describe(error)
        fail(context, reason: reason, certificateRefused: certificateRefused)
    }

    private func fail(_ context: ChannelHandlerContext, reason: String, certificateRefused: Bool) {
        guard !finished else { return }
        finished = true
        deadline.cancel()
        failed(context, reason, certificateRefused)
        context.close(promise: nil)
    }

    /// A client port's identities from the certificate its client presented: its subject as
    /// `x509` (and `super` when it is `superUser`), as ZooKeeper's
    /// `X509AuthenticationProvider` adds them; none without a certificate.
    static func clientIdentities(_ context: ChannelHandlerContext, superUser: String?) -> [Id] {
        guard let certificate = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self).peerCertificate,
              let der = try? certificate.toDERBytes(), let subject = X509Subject.rfc2253(certificate: der) else { return [] }
        var identities = [Id(scheme: "x509", id: subject)]
        if let superUser, superUser == subject { identities.append(Id(scheme: "super", id: subject)) }
        return identities
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
