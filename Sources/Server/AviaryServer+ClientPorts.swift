import Configuration
import NIOCore
import NIOPosix
import NIOSSL
import ServerCore

/// What a client port does about TLS.
enum ClientPortTLS {
    /// TLS only (`secureClientPort`).
    case only(TLSContextSource)
    /// TLS or plaintext, by the client's first byte (`client.portUnification`).
    case unified(TLSContextSource)
}

extension AviaryServer {
    /// The client ports' TLS context, when a TLS port is configured; a store that cannot be
    /// used stops the start with a message saying what is wrong.
    func makeClientTLS() throws -> TLSContextSource? {
        guard configuration.secureClientPort != nil || configuration.clientPortUnification else { return nil }
        let logger = self.logger
        do {
            return try TLSContextSource(settings: configuration.clientSSL) { result in
                switch result {
                case .success: logger.info("TLS key or trust store changed: new client connections use the reloaded stores")
                case .failure(let error): logger.error("TLS key or trust store changed but cannot be used, keeping the previous ones: \(error)")
                }
            }
        } catch {
            throw StartupFailure(description: "TLS client port: \(error)")
        }
    }

    /// Binds a client port on the core's loop, with TLS handlers as `tls` says.
    func bindClientPort(host: String, port: Int, tls: ClientPortTLS?) async throws -> Channel {
        let maximumLength = configuration.juteMaxBuffer
        let logger = self.logger
        let handshakeTimeout = configuration.clientSSL.handshakeDetectionTimeoutMillis
        let superUser = configuration.x509SuperUser
        return try await ServerBootstrap(group: coreLoop)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [self] channel in
                let id = nextConnectionID.withLockedValue { $0 += 1; return $0 }
                return channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    func tlsHandlers(_ source: TLSContextSource) -> [ChannelHandler] {
                        let watcher = TLSHandshakeWatcher(timeoutMillis: handshakeTimeout, completed: { context in
                            let identities = TLSHandshakeWatcher.clientIdentities(context, superUser: superUser)
                            if !identities.isEmpty { self.submit(.connectionAuthenticated(id, identities)) }
                        }, failed: { _, reason, certificateRefused in
                            self.submit(.handshakeFailed(id, reason: reason, certificateRefused: certificateRefused))
                        })
                        return [NIOSSLServerHandler(context: source.context()), watcher]
                    }
                    switch tls {
                    case .only(let source): try pipeline.addHandlers(tlsHandlers(source))
                    case .unified(let source): try pipeline.addHandler(PortUnificationHandler { tlsHandlers(source) })
                    case nil: break
                    }
                    try pipeline.addHandler(HandshakeActivityHandler(server: self, id: id), name: HandshakeActivityHandler.name)
                    try pipeline.addHandler(ByteToMessageHandler(FrameDecoder(maximumLength: maximumLength)))
                    try pipeline.addHandler(ClientConnectionHandler(server: self, id: id, maximumLength: maximumLength, logger: logger))
                }
            }
            .bind(host: host, port: port)
            .get()
    }
}

/// A server that cannot start as configured: what is wrong, in words for the operator.
public struct StartupFailure: Error, CustomStringConvertible {
    public var description: String
}
