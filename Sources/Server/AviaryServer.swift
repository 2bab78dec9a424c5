import Configuration
import DataTree
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServerCore
import ZooKeeperProtocol

/// The standalone server: NIO shells around one ``ServerCore``.
///
/// Connections decode on their own event loops and hand events to the core's loop; the
/// core's actions are performed there (replies are written back to each channel, which
/// NIO hops onto the channel's own loop).
public final class AviaryServer: @unchecked Sendable {
    public let configuration: ServerConfiguration
    let logger: Logger
    let group: MultiThreadedEventLoopGroup
    /// The loop that owns the core; every field below is touched only on it.
    let coreLoop: EventLoop
    var core: ServerCore
    var channels: [ConnectionID: Channel] = [:]
    let log: TransactionLogStage
    var syncInFlight = false
    var syncWanted = false
    var serverChannel: Channel?
    var tickTask: RepeatedTask?
    let startTime = Date()
    var packetsReceived = 0
    var packetsSent = 0
    private let nextConnectionID = NIOLockedValueBox<ConnectionID>(0)

    /// Creates a server; call ``start()`` to listen.
    public init(configuration: ServerConfiguration, logger: Logger, log: TransactionLogStage = InMemoryTransactionLog(),
                threads: Int = System.coreCount) {
        self.configuration = configuration
        self.logger = logger
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads))
        self.coreLoop = group.next()
        self.log = log
        var coreConfiguration = ServerCoreConfiguration()
        coreConfiguration.tickTime = Int64(configuration.tickTime)
        coreConfiguration.minSessionTimeout = configuration.minSessionTimeout.map { Int32(clamping: $0) }
        coreConfiguration.maxSessionTimeout = configuration.maxSessionTimeout.map { Int32(clamping: $0) }
        coreConfiguration.serverId = configuration.myid ?? 1
        coreConfiguration.extendedTypesEnabled = configuration.extendedTypesEnabled
        coreConfiguration.superDigest = configuration.superDigest
        coreConfiguration.maxClientConnections = configuration.maxClientCnxns
        coreConfiguration.containerCheckInterval = Int64(configuration.containerCheckIntervalMs)
        coreConfiguration.reconfigEnabled = configuration.reconfigEnabled
        self.core = ServerCore(configuration: coreConfiguration, tree: DataTree(), now: Self.now())
    }

    static func now() -> Now {
        Now(monotonicMillis: Int64(NIODeadline.now().uptimeNanoseconds / 1_000_000),
            wallMillis: Int64(Date().timeIntervalSince1970 * 1000))
    }

    /// Binds the client port and starts the timers; returns the address bound.
    @discardableResult
    public func start() async throws -> SocketAddress {
        let host = configuration.clientPortAddress ?? "0.0.0.0"
        let maximumLength = configuration.juteMaxBuffer
        let logger = self.logger
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [self] channel in
                let id = nextConnectionID.withLockedValue { $0 += 1; return $0 }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(maximumLength: maximumLength)))
                    try channel.pipeline.syncOperations.addHandler(
                        ClientConnectionHandler(server: self, id: id, maximumLength: maximumLength, logger: logger))
                }
            }
            .bind(host: host, port: configuration.clientPort)
            .get()
        serverChannel = channel
        let interval = TimeAmount.milliseconds(Int64(max(10, min(configuration.tickTime / 2, 1000))))
        tickTask = coreLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [self] _ in
            process(.tick)
        }
        logger.info("binding to port \(channel.localAddress?.description ?? "?")")
        if let address = channel.localAddress { return address }
        return try SocketAddress(ipAddress: host, port: configuration.clientPort)
    }

    /// Waits until the server is stopped.
    public func waitUntilClosed() async throws {
        try await serverChannel?.closeFuture.get()
    }

    /// Stops listening, closes every connection and the event loops.
    public func stop() async throws {
        tickTask?.cancel()
        try? await serverChannel?.close()
        let open = try await coreLoop.submit { Array(self.channels.values) }.get()
        for channel in open { try? await channel.close() }
        try await group.shutdownGracefully()
    }

    // MARK: Events in

    func register(_ id: ConnectionID, channel: Channel, address: String) {
        coreLoop.execute { [self] in
            channels[id] = channel
            process(.connectionOpened(id, address: address))
        }
    }

    func submit(_ event: ServerCore.Event) {
        if coreLoop.inEventLoop {
            process(event)
        } else {
            coreLoop.execute { [self] in process(event) }
        }
    }

    func process(_ event: ServerCore.Event) {
        coreLoop.preconditionInEventLoop()
        switch event {
        case .request, .connect, .undecodableRequest: packetsReceived += 1
        case .connectionClosed(let id): channels[id] = nil
        default: break
        }
        perform(core.receive(event, now: Self.now()))
    }

    // MARK: Actions out

    func perform(_ actions: [ServerCore.Action]) {
        var touched: [ConnectionID: Channel] = [:]
        var logged = false
        for action in actions {
            switch action {
            case .send(let id, let frame):
                guard let channel = channels[id] else { continue }
                var buffer = channel.allocator.buffer(capacity: 64)
                frame.encode(into: &buffer)
                channel.write(buffer, promise: nil)
                touched[id] = channel
                packetsSent += 1
            case .close(let id):
                guard let channel = channels[id] else { continue }
                touched[id] = nil
                channel.writeAndFlush(channel.allocator.buffer(capacity: 0)).whenComplete { _ in
                    channel.close(promise: nil)
                }
            case .log(let header, let txn):
                log.append(header, txn)
                logged = true
            case .warn(let message):
                logger.warning("\(message)")
            case .info(let message):
                logger.info("\(message)")
            }
        }
        for channel in touched.values { channel.flush() }
        if logged { requestSync() }
    }

    /// Group commit: one sync at a time; whatever is appended meanwhile rides the next one.
    private func requestSync() {
        if syncInFlight { syncWanted = true; return }
        syncInFlight = true
        log.sync { [self] zxid in
            coreLoop.execute { [self] in
                syncInFlight = false
                process(.logged(upTo: zxid))
                if syncWanted {
                    syncWanted = false
                    requestSync()
                }
            }
        }
    }
}
