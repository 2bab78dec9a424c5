import Configuration
import Logging
import NIOCore
import NIOSSL

/// TLS on the quorum and election ports (`sslQuorum`, `ssl.quorum.*`), as ZooKeeper's
/// `QuorumX509Util` sets it up: every member presents its certificate both when it accepts
/// (asking the peer for one, `ssl.quorum.clientAuth`, need by default) and when it dials
/// (checking the peer's certificate, and its address against it unless
/// `ssl.quorum.hostnameVerification=false`), and checks an accepted peer's address against
/// its certificate too (``QuorumPeerAddressCheck``). With `portUnification`, the ports take plaintext
/// peers too, for rolling an ensemble to TLS one member at a time.
/// Reports a refused election or quorum connection: the scheme (`quorum-tls`, `quorum-sasl`),
/// the peer's address and the reason.
typealias QuorumAuthFailureReport = @Sendable (_ scheme: String, _ address: String, _ reason: String) -> Void

final class QuorumTLS: Sendable {
    private let accepting: TLSContextSource
    private let dialling: TLSContextSource
    private let unified: Bool
    /// Whether dialled connections use TLS (`sslQuorum`); with `portUnification` alone, the
    /// ports accept TLS but this member still dials in plaintext.
    private let diallsTLS: Bool
    private let handshakeTimeoutMillis: Int
    /// Whether an accepted peer's certificate must name the address it dials from
    /// (`ssl.quorum.hostnameVerification`, on by default; ``QuorumPeerAddressCheck``).
    private let checksPeerAddress: Bool
    private let logger: Logger
    private let report: QuorumAuthFailureReport

    init(configuration: ServerConfiguration, logger: Logger, report: @escaping QuorumAuthFailureReport) throws(TLSSetupError) {
        let onReload: @Sendable (Result<Void, TLSSetupError>) -> Void = { result in
            switch result {
            case .success: logger.info("quorum TLS key or trust store changed: new quorum connections use the reloaded stores")
            case .failure(let error): logger.error("quorum TLS key or trust store changed but cannot be used, keeping the previous ones: \(error)")
            }
        }
        accepting = try TLSContextSource(settings: configuration.quorumSSL, role: .server, prefix: "ssl.quorum.", onReload: onReload)
        dialling = try TLSContextSource(settings: configuration.quorumSSL, role: .client, prefix: "ssl.quorum.", onReload: onReload)
        unified = configuration.quorumPortUnification
        diallsTLS = configuration.sslQuorum
        handshakeTimeoutMillis = configuration.quorumSSL.handshakeDetectionTimeoutMillis
        checksPeerAddress = configuration.quorumSSL.hostnameVerification
        self.logger = logger
        self.report = report
    }

    /// Adds what an accepted quorum or election connection needs in front of its handlers.
    func addAcceptingHandlers(to pipeline: ChannelPipeline.SynchronousOperations, port: String) throws {
        let context = accepting.context()
        let timeout = handshakeTimeoutMillis
        let logger = self.logger
        let report = self.report
        let checksPeerAddress = self.checksPeerAddress
        let handlers: () -> [ChannelHandler] = {
            var handlers: [ChannelHandler] = [NIOSSLServerHandler(context: context),
                                              Self.watcher(port: port, timeoutMillis: timeout, logger: logger, report: report)]
            if checksPeerAddress {
                handlers.append(QuorumPeerAddressCheck { context, reason in
                    logger.warning("quorum TLS peer \(context.channel.remoteAddress?.description ?? "?") on the \(port) refused: \(reason)")
                    report("quorum-tls", context.channel.remoteAddress?.ipAddress ?? "unknown", reason)
                })
            }
            return handlers
        }
        if unified {
            try pipeline.addHandler(PortUnificationHandler(makeTLSHandlers: handlers))
        } else {
            try pipeline.addHandlers(handlers())
        }
    }

    /// Adds what a dialled quorum or election connection needs in front of its handlers.
    func addDiallingHandlers(to pipeline: ChannelPipeline.SynchronousOperations, port: String) throws {
        guard diallsTLS else { return }
        try pipeline.addHandler(try NIOSSLClientHandler(context: dialling.context(), serverHostname: nil))
        try pipeline.addHandler(Self.watcher(port: port, timeoutMillis: handshakeTimeoutMillis, logger: logger, report: report))
    }

    /// Logs a quorum or election connection's failed or stalled TLS handshake (a peer with the
    /// wrong credentials, a plaintext peer on a TLS-only port) and reports it.
    private static func watcher(port: String, timeoutMillis: Int, logger: Logger, report: @escaping QuorumAuthFailureReport)
        -> TLSHandshakeWatcher {
        TLSHandshakeWatcher(timeoutMillis: timeoutMillis, completed: { _ in }, failed: { context, reason, _ in
            let address = context.channel.remoteAddress?.ipAddress ?? "unknown"
            logger.warning("quorum TLS handshake with \(context.channel.remoteAddress?.description ?? "?") on the \(port) failed: \(reason)")
            report("quorum-tls", address, reason)
        })
    }
}

extension AviaryServer {
    /// A refused election or quorum connection: counted (`aviary_quorum_auth_failures`) and
    /// raised as an `auth_failed` event, on the core's loop.
    var quorumAuthFailed: QuorumAuthFailureReport {
        { [self] scheme, address, reason in
            coreLoop.execute { [self] in
                peer?.statistics.quorumAuthFailures += 1
                events.publish("auth_failed", ["scheme": scheme, "address": address, "reason": reason])
            }
        }
    }
}
