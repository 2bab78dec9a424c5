import Configuration
import DataTree
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServerCore
import Storage
import ZooKeeperProtocol

/// The standalone server: NIO shells around one ``ServerCore``.
///
/// Client connections live on the core's event loop, so a request is decoded, processed
/// and answered on one thread; replies are flushed once per turn of the loop. The durable
/// log has a thread of its own (``TxnLogWriter``). HTTP endpoints and webhooks use any of
/// the group's loops; what they answer is computed on the core's loop.
public final class AviaryServer: @unchecked Sendable {
    public let configuration: ServerConfiguration
    let logger: Logger
    let group: MultiThreadedEventLoopGroup
    /// The loop that owns the core; every field below is touched only on it.
    let coreLoop: EventLoop
    var core: ServerCore
    var channels: [ConnectionID: Channel] = [:]
    /// Replies encoded in this turn of the loop and not yet written, by connection.
    var unflushed: [ConnectionID: (channel: Channel, replies: ByteBuffer)] = [:]
    /// Quorum packets written in this turn of the loop and not yet flushed.
    var quorumOutbound = QuorumOutbound()
    /// The durable log; set once storage is open.
    var log: TransactionLogStage?
    let dataDirectory: DataDirectory
    /// What the operator surface shows of the data directory, read off the loop.
    let fileFigures: OperatorFileFigures
    /// Transactions of this turn of the loop, not yet handed to the log (zxids first...last).
    var logBatch = ByteBuffer()
    var firstLogged: Int64 = -1
    var lastLogged: Int64 = -1
    var loggedInBatch = 0
    /// The ensemble member this server is, when the configuration lists servers.
    var peer: QuorumPeer?
    /// When this member last stopped serving for want of a quorum (monotonic milliseconds).
    var quorumLostAt: Int64?
    /// The settings the core was made with (its role aside).
    let coreConfiguration: ServerCoreConfiguration
    /// Whether ``endOfTurn()`` is queued on the loop.
    var endOfTurnScheduled = false
    var transactionsSinceSnapshot = 0
    var snapshotThreshold = 0
    var snapshotInProgress = false
    var purgeTask: RepeatedTask?
    /// Why the server stopped on its own, if it did (a storage failure).
    public private(set) var storageFailure: String?
    var serverChannel: Channel?
    /// The TLS client port (`secureClientPort`), when there is one.
    var secureServerChannel: Channel?
    /// TLS on the quorum and election ports (`sslQuorum`, `portUnification`), when configured;
    /// set before the quorum peer starts.
    var quorumTLS: QuorumTLS?
    /// Quorum SASL (`quorum.auth.enableSasl`), when configured; set before the quorum peer starts.
    var quorumAuth: QuorumAuthentication?
    var metricsChannel: Channel?
    var adminChannel: Channel?
    /// Operator events; created with the loops.
    let events: EventHub
    /// The audit log (`audit.enable`), under ZooKeeper's logger name.
    let auditLogger = Logger(label: "org.apache.zookeeper.audit.Log4jAuditLogger")
    /// Whether reading from clients is paused because too many requests are outstanding.
    var throttled = false
    /// Sizes of the frames sent to clients: last, smallest, largest.
    var responseSizes: (last: Int64, min: Int64, max: Int64) = (0, 0, 0)
    /// Wall-clock seconds when the server started (`process_start_time_seconds`).
    let startedAtWall = Date().timeIntervalSince1970
    var tickTask: RepeatedTask?
    /// When the server started, on the core's monotonic clock.
    let startedAt = AviaryServer.now().monotonicMillis
    /// `gtmk`/`stmk`: ZooKeeper's trace mask, kept for the words that show it.
    var traceMask: Int64 = 306
    let nextConnectionID = NIOLockedValueBox<ConnectionID>(0)

    /// Opens the data directory (recovering the tree from its snapshot and logs) and
    /// prepares a server; call ``start()`` to listen. `threads` sizes the event-loop group;
    /// one of its loops is the core's, which every client connection uses.
    public init(configuration: ServerConfiguration, logger: Logger, threads: Int = System.coreCount) throws {
        self.configuration = configuration
        self.logger = logger
        self.dataDirectory = DataDirectory(dataDir: configuration.dataDir, dataLogDir: configuration.dataLogDir)
        self.fileFigures = OperatorFileFigures(dataDirectory: dataDirectory)
        do {
            try dataDirectory.create()
        } catch {
            throw RecoveryError(description: "cannot create \(dataDirectory.snapshotDirectory): \(error.localizedDescription)")
        }
        let started = DispatchTime.now().uptimeNanoseconds
        let (tree, report) = try Recovery.recover(dataDirectory, repair: true)
        for line in report.lines where !report.truncations.contains(line) { logger.info("recovery: \(line)") }
        for line in report.truncations { logger.warning("recovery: \(line)") }
        // A standalone ZooKeeper snapshots after every load so that the next start replays
        // nothing old; when nothing was replayed the newest snapshot already is that state. A
        // quorum peer does not (its leader or a SNAP writes one): an ensemble member joins its
        // leader without writing the whole tree first, unless it has no usable snapshot.
        var wrote = ""
        let snapshotAfterLoad = configuration.isDistributed
            ? report.snapshot == nil || !report.skippedSnapshots.isEmpty
            : report.snapshot == nil || report.replayed > 0 || !report.truncations.isEmpty || !report.skippedSnapshots.isEmpty
        if snapshotAfterLoad {
            wrote = "; wrote " + (try SnapshotFileWriter.writeNow(tree, directory: dataDirectory.snapshotDirectory))
        }
        let millis = (DispatchTime.now().uptimeNanoseconds - started) / 1_000_000
        logger.info("loaded \(tree.nodeCount) znodes and \(tree.sessions.count) sessions at zxid 0x\(String(UInt64(bitPattern: tree.lastProcessedZxid), radix: 16)) in \(millis) ms\(wrote)")
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads))
        self.coreLoop = group.next()
        let serverName = configuration.myid.map { "server.\($0)" } ?? "\(configuration.clientPortAddress ?? "0.0.0.0"):\(configuration.clientPort)"
        self.events = EventHub(server: serverName, webhooks: configuration.webhooks.compactMap(URL.init(string:)),
                               group: group, logger: logger)
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
        coreConfiguration.auditEnabled = configuration.auditEnabled
        coreConfiguration.localSessionsEnabled = configuration.isDistributed && configuration.localSessionsEnabled
        coreConfiguration.localSessionsUpgradingEnabled = configuration.localSessionsUpgradingEnabled
        do {
            try configuration.checkEnforcedAuthentication()
            if let login = try configuration.saslKerberosLogin() {
                coreConfiguration.saslGSSAPI = try KerberosAcceptor.exchanges(login: login, configuration: configuration)
                logger.info("SASL GSSAPI (Kerberos) for clients: keys of \(login.principal ?? "any principal") from \(login.keyTab), section \(configuration.saslServerSection) of \(configuration.jaasConfigFile ?? "?")")
            } else {
                coreConfiguration.saslUsers = try configuration.saslUsers()
            }
        } catch let error as JAASError {
            throw StartupFailure(description: error.description)
        } catch {
            throw StartupFailure(description: "\(error)")
        }
        coreConfiguration.saslSuperUser = configuration.saslSuperUser
        coreConfiguration.enforcedAuthSchemes = configuration.enforcedAuthSchemes
        if let users = coreConfiguration.saslUsers {
            logger.info("SASL DIGEST-MD5 for clients: \(users.count) users in section \(configuration.saslServerSection) of \(configuration.jaasConfigFile ?? "?")")
        }
        tree.digestEnabled = configuration.digestEnabled
        self.coreConfiguration = coreConfiguration
        self.core = ServerCore(configuration: coreConfiguration, tree: tree, now: Self.now())
        // A member serves clients only once it is part of a serving quorum.
        if configuration.isDistributed { core.serving = false }
        self.snapshotThreshold = nextSnapshotThreshold()
        fileFigures.refreshNow()
    }

    /// ZooKeeper snapshots after snapCount/2 plus a random share of snapCount/2 transactions,
    /// so that servers of an ensemble do not all snapshot at once.
    func nextSnapshotThreshold() -> Int {
        let half = max(1, configuration.snapCount / 2)
        return half + Int.random(in: 0..<half)
    }

    private func openLog() {
        let loop = coreLoop
        log = TxnLogWriter(
            directory: dataDirectory.logDirectory, forceSync: configuration.forceSync,
            preallocationSize: Int64(configuration.preAllocSizeKB) * 1024,
            slowSyncMillis: Int64(configuration.fsyncWarningThresholdMs),
            onSlowSync: { [self] millis in
                loop.execute {
                    self.logger.warning("fsync-ing the write ahead log took \(millis)ms which will adversely effect operation latency")
                    self.events.publish("slow_fsync", ["millis": String(millis), "threshold": String(self.configuration.fsyncWarningThresholdMs)])
                }
            },
            onDurable: { [self] zxid in loop.execute { self.durable(upTo: zxid) } },
            onFailure: { [self] reason in
                loop.execute {
                    self.logger.critical("Severe unrecoverable error writing the transaction log, exiting: \(reason)")
                    self.storageFailure = reason
                    self.serverChannel?.close(promise: nil)
                }
            })
    }

    static func now() -> Now {
        Now(monotonicMillis: Int64(NIODeadline.now().uptimeNanoseconds / 1_000_000),
            wallMillis: Int64(Date().timeIntervalSince1970 * 1000))
    }

    /// Binds the client port and starts the timers; returns the address bound.
    @discardableResult
    public func start() async throws -> SocketAddress {
        let host = configuration.clientPortAddress ?? "0.0.0.0"
        // TLS settings that cannot be used stop the start before anything else begins.
        let tls = try makeClientTLS()
        if configuration.isDistributed && (configuration.sslQuorum || configuration.quorumPortUnification) {
            do {
                quorumTLS = try QuorumTLS(configuration: configuration, logger: logger, report: quorumAuthFailed)
            } catch {
                throw StartupFailure(description: "sslQuorum: \(error)")
            }
            logger.info("quorum TLS: \(configuration.sslQuorum ? "on" : "accepted, not used to dial")\(configuration.quorumPortUnification ? ", plaintext peers accepted too (portUnification)" : "")")
        }
        if configuration.isDistributed {
            do {
                if let credentials = try configuration.quorumSASLCredentials() {
                    quorumAuth = QuorumAuthentication(credentials: credentials, serverRequired: configuration.quorumServerRequireSasl,
                                                      electionTimeLimit: .milliseconds(Int64(configuration.electionConnectionTimeoutMs)),
                                                      quorumTimeLimit: .milliseconds(Int64(configuration.tickTime * configuration.initLimit)),
                                                      logger: logger, report: quorumAuthFailed)
                    logger.info("quorum SASL: \(credentials.acceptedUsers.count) users accepted (\(configuration.quorumServerLoginContext)), \(credentials.learner == nil ? "not authenticating when dialling" : "authenticating as \(credentials.learner?.username ?? "") when dialling"), serverRequireSasl=\(configuration.quorumServerRequireSasl)")
                }
            } catch {
                throw StartupFailure(description: error.description)
            }
        }
        try await coreLoop.submit { self.openLog() }.get()
        if configuration.isDistributed, let myid = configuration.myid, let me = configuration.servers[myid] {
            let peer = try await coreLoop.submit { try QuorumPeer(server: self, myid: myid, me: me) }.get()
            try await coreLoop.submit { self.peer = peer }.get()
            try await peer.start()
        }
        // Clients share the core's loop: requests reach the core and replies reach the socket
        // without crossing threads.
        let channel = try await bindClientPort(host: host, port: configuration.clientPort,
                                               tls: configuration.clientPortUnification ? tls.map { .unified($0) } : nil)
        serverChannel = channel
        if let securePort = configuration.secureClientPort, let tls {
            let secureHost = configuration.secureClientPortAddress ?? host
            let secure = try await bindClientPort(host: secureHost, port: securePort, tls: .only(tls))
            secureServerChannel = secure
            logger.info("TLS client port bound to \(secure.localAddress?.description ?? "?") (ssl.clientAuth=\(configuration.clientSSL.clientAuth.rawValue.lowercased()))")
        }
        if configuration.metricsPort > 0 {
            let host = configuration.metricsHost ?? "0.0.0.0"
            do {
                metricsChannel = try await HTTPEndpoint.bind(group: group, host: host, port: configuration.metricsPort) { [self] path, _ in
                    coreLoop.submit { self.answerHTTP(path) }
                }
                logger.info("Prometheus metrics, /ready and /live on http://\(host):\(metricsChannel?.localAddress?.port ?? configuration.metricsPort)")
            } catch {
                logger.error("cannot serve metrics on \(host):\(configuration.metricsPort): \(error); serving clients without them")
            }
        }
        if configuration.adminEnabled {
            let host = configuration.adminHost ?? "0.0.0.0"
            do {
                adminChannel = try await HTTPEndpoint.bind(group: group, host: host, port: configuration.adminPort) { [self] path, query in
                    coreLoop.submit { self.answerAdmin(path, query: query) }
                }
                logger.info("AdminServer on http://\(host):\(adminChannel?.localAddress?.port ?? configuration.adminPort)\(configuration.adminCommandURL)")
            } catch {
                logger.error("cannot serve the AdminServer on \(host):\(configuration.adminPort): \(error); serving clients without it")
            }
        }
        try await coreLoop.submit { [self] in
            events.publish("server_started", ["version": Self.version, "clientPort": String(configuration.clientPort),
                                              "znodes": String(core.tree.nodeCount), "zxid": "0x" + String(UInt64(bitPattern: core.tree.lastProcessedZxid), radix: 16)])
            if peer == nil { events.publish("state_changed", ["state": "standalone", "serving": "true"]) }
        }.get()
        let interval = TimeAmount.milliseconds(Int64(max(10, min(configuration.tickTime / 2, 1000))))
        tickTask = coreLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [self] _ in
            process(.tick)
        }
        if configuration.purgeIntervalHours > 0 {
            let directory = dataDirectory
            let retain = configuration.snapRetainCount
            let logger = self.logger
            purgeTask = group.next().scheduleRepeatedTask(initialDelay: .zero, delay: .hours(Int64(configuration.purgeIntervalHours))) { _ in
                DispatchQueue.global().async {
                    do {
                        let removed = try Purge.run(directory, retain: retain)
                        logger.info("autopurge: removed \(removed.count) old files, keeping \(max(3, retain)) snapshots")
                    } catch {
                        logger.error("autopurge: \(error)")
                    }
                }
            }
        }
        logger.info("binding to port \(channel.localAddress?.description ?? "?")")
        if let address = channel.localAddress { return address }
        return try SocketAddress(ipAddress: host, port: configuration.clientPort)
    }

    /// Waits until the server is stopped.
    public func waitUntilClosed() async throws {
        try await serverChannel?.closeFuture.get()
    }

    /// The stop under way, once one has begun: a second call waits for it instead of stopping
    /// twice (a signal starts the stop; the command's main task waits for it to finish, so
    /// that the process does not exit while the last events are still being written).
    private let stopping = NIOLockedValueBox<Task<Void, Error>?>(nil)

    /// Stops listening, closes every connection and the event loops; returns once all of it is
    /// done, whichever call began it.
    public func stop() async throws {
        let task = stopping.withLockedValue { current -> Task<Void, Error> in
            if let current { return current }
            let task = Task { try await self.stopOnce() }
            current = task
            return task
        }
        try await task.value
    }

    private func stopOnce() async throws {
        try? await coreLoop.submit { [self] in
            events.publish("server_stopping", ["zxid": "0x" + String(UInt64(bitPattern: core.tree.lastProcessedZxid), radix: 16)])
            events.closeAll()
        }.get()
        tickTask?.cancel()
        purgeTask?.cancel()
        let peer = try? await coreLoop.submit { [self] in
            self.peer?.stop()
            return self.peer
        }.get()
        if let peer { await peer.election.close() }
        try? await serverChannel?.close()
        try? await secureServerChannel?.close()
        try? await metricsChannel?.close()
        try? await adminChannel?.close()
        let open = try await coreLoop.submit { Array(self.channels.values) }.get()
        for channel in open { try? await channel.close() }
        let log = try await coreLoop.submit { self.log }.get()
        log?.close()
        try await group.shutdownGracefully()
    }

    // MARK: Events in

    func register(_ id: ConnectionID, channel: Channel, address: String, port: Int) {
        coreLoop.execute { [self] in
            channels[id] = channel
            if throttled { channel.pipeline.fireUserInboundEventTriggered(ReadThrottle(reason: .outstandingLimit, paused: true)) }
            process(.connectionOpened(id, address: address, port: port))
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
        if case .connectionClosed(let id) = event { channels[id] = nil }
        perform(core.receive(event, now: Self.now()))
    }

    // MARK: Actions out

    /// Answers request `xid` on connection `id` with an empty body and `error` (`.ok` for success).
    func answer(_ id: ConnectionID, xid: Int32, error: KeeperError) {
        perform([.send(id, .reply(ReplyHeader(xid: xid, zxid: core.tree.lastProcessedZxid, err: error.rawValue), .empty))])
    }

    func perform(_ actions: [ServerCore.Action]) {
        for action in actions {
            switch action {
            case .send(let id, let frame):
                guard let channel = channels[id] else { continue }
                let size = Int64(queueReply(frame, to: channel, id: id))
                responseSizes = (size, responseSizes.min == 0 ? size : min(responseSizes.min, size), max(responseSizes.max, size))
            case .close(let id):
                guard let channel = channels[id] else { continue }
                // Replies already queued for the connection go out before it closes.
                let pending = unflushed.removeValue(forKey: id)?.replies ?? channel.allocator.buffer(capacity: 0)
                channel.writeAndFlush(pending).whenComplete { _ in
                    channel.close(promise: nil)
                }
            case .pauseReading(let id):
                channels[id]?.pipeline.fireUserInboundEventTriggered(ReadThrottle(reason: .sessionPending, paused: true))
            case .resumeReading(let id):
                channels[id]?.pipeline.fireUserInboundEventTriggered(ReadThrottle(reason: .sessionPending, paused: false))
            case .log(let header, let txn):
                if let leader = peer?.leader {
                    leader.propose(header, txn)
                } else {
                    appendToLog(header, txn)
                }
            case .forward(let request):
                peer?.learner?.send(request.packet)
            case .revalidate(let session, let timeout):
                peer?.learner?.send(Revalidation.request(sessionId: session, timeout: timeout))
            case .transferLeadership(let id, let xid, let target):
                if let leader = peer?.leader {
                    leader.transfer(to: target, answering: id, xid: xid)
                } else {
                    answer(id, xid: xid, error: .unimplemented)
                }
            case .warn(let message):
                logger.warning("\(message)")
            case .info(let message):
                logger.info("\(message)")
            case .event(let kind, let details):
                events.publish(kind, details)
            case .audit(let line):
                auditLogger.info("\(line)")
            }
        }
        throttleIfNeeded()
    }

    /// Queues a transaction for this turn's log batch.
    func appendToLog(_ header: TxnHeader, _ txn: Txn) {
        TxnLogRecord.append(header, txn, to: &logBatch)
        if firstLogged < 0 { firstLogged = header.zxid }
        lastLogged = header.zxid
        loggedInBatch += 1
        scheduleEndOfTurn()
    }

    /// The log is durable up to `zxid`: a learner acknowledges its proposals; otherwise the
    /// core commits its writes.
    func durable(upTo zxid: Int64) {
        if let learner = peer?.learner {
            learner.durable(upTo: zxid)
        } else if let leader = peer?.leader {
            leader.durable(upTo: zxid)
        } else if peer == nil {
            process(.logged(upTo: zxid))
        }
    }

    // MARK: Ensemble

    /// The member left its quorum: every client connection closes, and new ones are refused
    /// until it serves again (ZooKeeper closes them as its ZooKeeperServer shuts down).
    /// Closes every client connection, each after the replies already queued for it (a
    /// write committed just before this member stopped serving is still answered).
    func closeClientConnections() {
        for (id, channel) in channels {
            let pending = unflushed.removeValue(forKey: id)?.replies ?? channel.allocator.buffer(capacity: 0)
            guard pending.readableBytes > 0 else {
                channel.close(promise: nil)
                continue
            }
            channel.writeAndFlush(pending).whenComplete { _ in channel.close(promise: nil) }
        }
    }

    func stopServing() {
        coreLoop.preconditionInEventLoop()
        guard core.serving else { return }
        core.serving = false
        quorumLostAt = Self.now().monotonicMillis
        closeClientConnections()
        events.publish("state_changed", ["state": "looking", "serving": "false"])
        events.publish("quorum_lost", ["zxid": "0x" + String(UInt64(bitPattern: core.tree.lastProcessedZxid), radix: 16)])
    }

    /// Cut off from a quorum with `readonlymode.enabled`: clients that allow a read-only
    /// server are served reads from the tree as it is (`ReadOnlyZooKeeperServer.startup`).
    func startReadOnly() {
        coreLoop.preconditionInEventLoop()
        guard !core.serving else { return }
        resetCore(role: .standalone, tree: core.tree)
        core.readOnly = true
        core.serving = true
        logger.info("serving read-only clients at zxid 0x\(String(UInt64(bitPattern: core.tree.lastProcessedZxid), radix: 16)) until a quorum is back")
        events.publish("state_changed", ["state": "read-only", "serving": "true"])
    }

    /// A leader is elected: the read-only clients are disconnected (they reconnect to a
    /// server of the quorum), and what they created here is forgotten.
    func stopReadOnly() {
        coreLoop.preconditionInEventLoop()
        guard core.readOnly else { return }
        core.serving = false
        closeClientConnections()
        resetCore(role: .standalone, tree: core.tree)
        events.publish("state_changed", ["state": "looking", "serving": "false"])
    }

    /// The member is synchronized: clients are served from `tree` in `role`.
    func startServing(role: ServerCore.Role, tree: DataTree) {
        if configuration.isDistributed {
            // As QuorumPeerMain and Learner.syncWithLeader do (initConfigInZKDatabase).
            let membership = peer?.membership ?? configuration.membership
            tree.setConfiguration(Array(membership.text.utf8), version: membership.version, time: Self.now().wallMillis)
        }
        resetCore(role: role, tree: tree)
        core.serving = true
        if let lostAt = quorumLostAt {
            quorumLostAt = nil
            events.publish("quorum_regained", ["millis": String(Self.now().monotonicMillis - lostAt)])
        }
        events.publish("state_changed", ["state": role == .learner ? (peer?.isObserver == true ? "observing" : "following") : "leading",
                                          "serving": "true"])
    }

    /// A new core over `tree`, not serving: every client connection closes.
    func resetCore(role: ServerCore.Role, tree: DataTree) {
        coreLoop.preconditionInEventLoop()
        closeClientConnections()
        var settings = coreConfiguration
        settings.role = role
        core = ServerCore(configuration: settings, tree: tree, now: Self.now())
        core.serving = false
        throttled = false
    }

    /// TRUNC from the leader: the log loses what follows `zxid`, and the tree is rebuilt from
    /// disk at that zxid.
    func truncateLog(to zxid: Int64) throws -> DataTree {
        try reloadTree(truncatingTo: zxid)
    }

    /// Rebuilds the tree from the data directory, after cutting the log back to `zxid` if
    /// given: a leader that steps down takes in what it logged and did not commit, as
    /// ZooKeeper's `fastForwardDataBase` does.
    func reloadTree(truncatingTo zxid: Int64? = nil) throws -> DataTree {
        coreLoop.preconditionInEventLoop()
        endOfTurn()
        log?.close()
        log = nil
        defer { openLog() }
        if let zxid {
            for change in try LogTruncation.truncate(dataDirectory, to: zxid) { logger.warning("TRUNC to 0x\(String(UInt64(bitPattern: zxid), radix: 16)): \(change)") }
        }
        let (tree, _) = try Recovery.recover(dataDirectory, repair: true)
        tree.digestEnabled = configuration.digestEnabled
        fileFigures.invalidate()
        return tree
    }

    /// Runs ``endOfTurn()`` once the loop has handled every connection that was readable in
    /// this turn.
    func scheduleEndOfTurn() {
        guard !endOfTurnScheduled else { return }
        endOfTurnScheduled = true
        coreLoop.execute { [self] in endOfTurn() }
    }

    /// Hands this turn's transactions to the log as one batch, then writes every
    /// connection's replies with one write each.
    ///
    /// The log thread writes and syncs; the loop never waits for the disk, so pings, reads
    /// and four-letter words are answered while a fsync takes its time. (Syncing a lone small
    /// batch on the loop saved a few microseconds, and froze every client while a disk hung.)
    func endOfTurn() {
        if lastLogged >= 0, let log {
            log.append(logBatch, first: firstLogged, last: lastLogged)
            logBatch.clear()
            firstLogged = -1
            lastLogged = -1
            transactionsSinceSnapshot += loggedInBatch
            loggedInBatch = 0
            if transactionsSinceSnapshot >= snapshotThreshold { startSnapshot() }
        }
        quorumOutbound.flushAll()
        let pending = unflushed
        unflushed = [:]
        for (channel, replies) in pending.values {
            channel.writeAndFlush(replies, promise: nil)
        }
        endOfTurnScheduled = false
    }

    /// Writes a quorum packet to a leader or learner; it is flushed at the end of the turn with
    /// whatever else that connection is sent in it.
    func sendQuorum(_ packet: QuorumPacket, on channel: Channel) {
        if quorumOutbound.write(packet, on: channel) { scheduleEndOfTurn() }
    }

    /// Encodes a reply into the connection's buffer for this turn of the loop; returns its size.
    ///
    /// The buffers are written and flushed at the end of the turn (``endOfTurn()``), so one
    /// write carries every reply a burst of requests earned.
    private func queueReply(_ frame: OutboundFrame, to channel: Channel, id: ConnectionID) -> Int {
        scheduleEndOfTurn()
        let size = Self.encode(frame, into: &unflushed[id, default: (channel, channel.allocator.buffer(capacity: 256))].replies)
        // Large replies go out at once, so that NIO sees them, a client that does not read
        // turns unwritable and its reading pauses (``ClientConnectionHandler``).
        if let pending = unflushed[id], pending.replies.readableBytes >= Self.coalescingLimit {
            unflushed[id] = nil
            channel.writeAndFlush(pending.replies, promise: nil)
        }
        return size
    }

    /// The most reply bytes held back for one connection until the end of a loop turn.
    static let coalescingLimit = 64 * 1024

    private static func encode(_ frame: OutboundFrame, into buffer: inout ByteBuffer) -> Int {
        let before = buffer.writerIndex
        frame.encode(into: &buffer)
        return buffer.writerIndex - before
    }

    /// ZooKeeper's `globalOutstandingLimit`: past it, stop reading from every client until
    /// half the outstanding requests are done, so that a flood cannot grow memory without bound.
    func throttleIfNeeded() {
        let outstanding = core.outstandingRequests
        let limit = configuration.globalOutstandingLimit
        if !throttled && outstanding > limit {
            throttled = true
            for channel in channels.values { channel.pipeline.fireUserInboundEventTriggered(ReadThrottle(reason: .outstandingLimit, paused: true)) }
            logger.warning("Throttling clients: \(outstanding) requests outstanding, globalOutstandingLimit is \(limit)")
            events.publish("throttling_started", ["outstanding": String(outstanding), "limit": String(limit)])
        } else if throttled && outstanding <= limit / 2 {
            throttled = false
            for channel in channels.values { channel.pipeline.fireUserInboundEventTriggered(ReadThrottle(reason: .outstandingLimit, paused: false)) }
            events.publish("throttling_stopped", ["outstanding": String(outstanding), "limit": String(limit)])
        }
    }

    // MARK: Snapshots

    /// Starts a fuzzy snapshot: the log rolls to a new file, and the tree is written a few
    /// thousand znodes per turn of the core's loop, between requests.
    func startSnapshot() {
        guard !snapshotInProgress else { return }
        transactionsSinceSnapshot = 0
        snapshotThreshold = nextSnapshotThreshold()
        snapshotInProgress = true
        log?.roll()
        SnapshotTask(server: self).step()
    }
}

/// One fuzzy snapshot being written; its steps run on the core's loop.
final class SnapshotTask: @unchecked Sendable {
    let server: AviaryServer
    let serializer: SnapshotSerializer
    let writer: SnapshotFileWriter
    let started = DispatchTime.now().uptimeNanoseconds

    init(server: AviaryServer) {
        self.server = server
        serializer = SnapshotSerializer(tree: server.core.tree)
        writer = SnapshotFileWriter(directory: server.dataDirectory.snapshotDirectory, zxid: serializer.zxid)
    }

    func step() {
        writer.write(serializer.nextChunk(maximumNodes: 4096))
        guard serializer.isFinished else {
            let loop = server.coreLoop
            if writer.isOverLimit {
                // The disk is behind: the next chunk waits until half the backlog is written.
                writer.whenBelowLimit { loop.execute { self.step() } }
            } else {
                loop.execute { self.step() }
            }
            return
        }
        writer.finish(prefix: serializer.finish()) { result in
            self.server.coreLoop.execute { self.done(result) }
        }
    }

    private func done(_ result: Result<String, SnapshotError>) {
        server.snapshotInProgress = false
        server.fileFigures.invalidate()
        let millis = (DispatchTime.now().uptimeNanoseconds - started) / 1_000_000
        switch result {
        case .success(let path): server.logger.info("snapshot of \(serializer.nodeCount) znodes written to \(path) in \(millis) ms")
        case .failure(let error): server.logger.error("snapshot failed: \(error)")
        }
    }
}
