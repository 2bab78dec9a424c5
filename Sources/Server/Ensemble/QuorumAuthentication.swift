import Configuration
import Foundation
import Logging
import NIOCore
import ServerCore

/// ZooKeeper's `QuorumAuthPacket` (`long magic; int status; buffer token`), the frames of
/// quorum SASL, written without a length prefix as `BinaryOutputArchive.writeRecord` does.
enum QuorumAuthPacket {
    /// `QuorumAuth.QUORUM_AUTH_MAGIC_NUMBER`: how an accepting member tells an authenticating
    /// peer from one that starts with its first quorum packet. Java's `-0xa0dbcafecafe1234L`:
    /// the literal is already a negative long, and negating it wraps (0x5f2435013501edcc).
    static let magic = Int64(bitPattern: 0 &- UInt64(0xa0db_cafe_cafe_1234))
    /// `QuorumAuth.Status`.
    enum Status: Int32 {
        case inProgress = 0
        case success = 1
        case error = -1
    }

    static func encode(_ status: Status, _ token: [UInt8]?) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(magic)
        buffer.writeInteger(status.rawValue)
        if let token {
            buffer.writeInteger(Int32(token.count))
            buffer.writeBytes(token)
        } else {
            buffer.writeInteger(Int32(-1))
        }
        return buffer
    }

    /// A malformed packet: what was wrong.
    struct Malformed: Error, CustomStringConvertible { var description: String }

    /// Takes a whole packet from the front of `buffer`, or nil when it has not all arrived.
    static func read(from buffer: inout ByteBuffer) throws -> (status: Int32, token: [UInt8])? {
        guard let magic = buffer.getInteger(at: buffer.readerIndex, as: Int64.self),
              let status = buffer.getInteger(at: buffer.readerIndex + 8, as: Int32.self),
              let length = buffer.getInteger(at: buffer.readerIndex + 12, as: Int32.self) else { return nil }
        guard magic == Self.magic else { throw Malformed(description: "not a quorum authentication packet") }
        guard length >= -1, length <= 65_536 else { throw Malformed(description: "a token of \(length) bytes") }
        let size = 16 + max(0, Int(length))
        guard buffer.readableBytes >= size else { return nil }
        buffer.moveReaderIndex(forwardBy: 16)
        let token = length > 0 ? (buffer.readBytes(length: Int(length)) ?? []) : []
        return (status, token)
    }
}

/// Quorum SASL as this member runs it (`quorum.auth.*`): the handlers it puts on accepted and
/// dialled election and quorum connections.
final class QuorumAuthentication: Sendable {
    let credentials: QuorumSASLCredentials
    let serverRequired: Bool
    let logger: Logger
    let report: QuorumAuthFailureReport
    /// How long an exchange may take on the election port and on the quorum port before the
    /// connection closes: ZooKeeper's socket timeouts there, `zookeeper.quorumCnxnTimeoutMs`
    /// or syncLimit ticks (`QuorumPeer.createCnxnManager`), and initLimit ticks
    /// (`Leader`'s acceptor, `Learner.connectToLeader`). A peer that connects and stalls
    /// holds a connection no longer than that.
    let electionTimeLimit: TimeAmount
    let quorumTimeLimit: TimeAmount

    init(credentials: QuorumSASLCredentials, serverRequired: Bool, electionTimeLimit: TimeAmount, quorumTimeLimit: TimeAmount,
         logger: Logger, report: @escaping QuorumAuthFailureReport) {
        self.credentials = credentials
        self.serverRequired = serverRequired
        self.electionTimeLimit = electionTimeLimit
        self.quorumTimeLimit = quorumTimeLimit
        self.logger = logger
        self.report = report
    }

    /// On an accepted connection; `afterElectionHeader` for the election port, where the peer's
    /// initial message comes first (`QuorumCnxManager.handleConnection`).
    func addAcceptingHandler(to pipeline: ChannelPipeline.SynchronousOperations, afterElectionHeader: Bool, port: String) throws {
        try pipeline.addHandler(QuorumAuthServerHandler(users: credentials.acceptedUsers, required: serverRequired,
                                                        skipsElectionHeader: afterElectionHeader, port: port,
                                                        timeLimit: afterElectionHeader ? electionTimeLimit : quorumTimeLimit,
                                                        logger: logger, report: report))
    }

    /// On a dialled connection; `afterElectionHeader` for the election port, where this
    /// member's initial message goes first (`QuorumCnxManager.startConnection`).
    func addDiallingHandler(to pipeline: ChannelPipeline.SynchronousOperations, afterElectionHeader: Bool, port: String) throws {
        guard let learner = credentials.learner else { return }
        try pipeline.addHandler(QuorumAuthLearnerHandler(username: learner.username, password: learner.password,
                                                         afterFirstWrite: afterElectionHeader, port: port,
                                                         timeLimit: afterElectionHeader ? electionTimeLimit : quorumTimeLimit,
                                                         logger: logger, report: report))
    }
}

/// The accepting side (`SaslQuorumAuthServer`): a peer whose first bytes are an authentication
/// packet goes through DIGEST-MD5 against the `QuorumServer` users; one that does not
/// authenticate, or fails, is refused when authentication is required and let through (with
/// a warning) otherwise. Then it steps aside, passing on what it held (an election peer's
/// initial message) and what follows.
final class QuorumAuthServerHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum Stage { case header, detect, exchanging, done }

    private let required: Bool
    private let port: String
    private let logger: Logger
    private let report: QuorumAuthFailureReport
    private var stage: Stage
    private var pending = ByteBuffer()
    private var deadline: ConnectionDeadline
    /// The election peer's initial message, passed on only once it has authenticated, so that
    /// nothing of the election is written to the connection during the exchange.
    private var header: ByteBuffer?
    private var exchange: DigestMD5Server

    init(users: [String: String], required: Bool, skipsElectionHeader: Bool, port: String, timeLimit: TimeAmount,
         logger: Logger, report: @escaping QuorumAuthFailureReport) {
        self.required = required
        self.port = port
        deadline = ConnectionDeadline(timeLimit)
        self.logger = logger
        self.report = report
        stage = skipsElectionHeader ? .header : .detect
        exchange = DigestMD5Server(users: users, nonce: DigestMD5Server.randomNonce(), realm: DigestMD5Server.quorumRealm,
                                   digestURI: DigestMD5Server.quorumDigestURI)
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

    /// A peer that has not authenticated (or shown it will not) in time is treated as one that
    /// failed to: refused where authentication is required, else let through.
    private func startClock(_ context: ChannelHandlerContext) {
        deadline.start(on: context) { [self] context, limit in
            guard stage != .done else { return }
            failed(context, "no answer within \(limit) ms")
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        pending.writeBuffer(&bytes)
        advance(context)
    }

    private func advance(_ context: ChannelHandlerContext) {
        let peer = context.channel.remoteAddress?.description ?? "?"
        while stage != .done {
            switch stage {
            case .header:
                // protocol version (negative), sid, address length and address; or, from an
                // old peer, its sid alone.
                guard let first = pending.getInteger(at: pending.readerIndex, as: Int64.self) else { return }
                var length = 8
                if first < 0 {
                    guard let addressLength = pending.getInteger(at: pending.readerIndex + 16, as: Int32.self) else { return }
                    guard addressLength >= 0, addressLength <= 4096 else { return refuse(context, "a malformed initial message from \(peer)") }
                    length = 20 + Int(addressLength)
                }
                guard pending.readableBytes >= length, let initial = pending.readSlice(length: length) else { return }
                header = initial
                stage = .detect
            case .detect:
                guard let first = pending.getInteger(at: pending.readerIndex, as: Int64.self) else { return }
                if first == QuorumAuthPacket.magic {
                    stage = .exchanging
                } else if required {
                    report("quorum-sasl", context.channel.remoteAddress?.ipAddress ?? "unknown", "did not authenticate on the \(port)")
                    return refuse(context, "\(peer) on the \(port) did not authenticate and quorum.auth.serverRequireSasl is true")
                } else {
                    return stepAside(context)
                }
            case .exchanging:
                let packet: (status: Int32, token: [UInt8])?
                do {
                    packet = try QuorumAuthPacket.read(from: &pending)
                } catch {
                    return failed(context, "\(error)")
                }
                guard let packet else { return }
                do {
                    let answer = try exchange.evaluate(packet.token)
                    if exchange.isComplete {
                        context.writeAndFlush(wrapOutboundOut(QuorumAuthPacket.encode(.success, answer)), promise: nil)
                        logger.info("quorum SASL: \(exchange.authorizationID ?? "?") at \(peer) authenticated on the \(port)")
                        return stepAside(context)
                    }
                    context.writeAndFlush(wrapOutboundOut(QuorumAuthPacket.encode(.inProgress, answer)), promise: nil)
                } catch {
                    return failed(context, error.description)
                }
            case .done:
                return
            }
        }
    }

    private func failed(_ context: ChannelHandlerContext, _ reason: String) {
        let peer = context.channel.remoteAddress?.description ?? "?"
        report("quorum-sasl", context.channel.remoteAddress?.ipAddress ?? "unknown", reason)
        context.writeAndFlush(wrapOutboundOut(QuorumAuthPacket.encode(.error, [])), promise: nil)
        if required {
            refuse(context, "quorum SASL authentication of \(peer) on the \(port) failed: \(reason)")
        } else {
            logger.warning("quorum SASL authentication of \(peer) on the \(port) failed: \(reason); let through (quorum.auth.serverRequireSasl is false)")
            stepAside(context)
        }
    }

    private func refuse(_ context: ChannelHandlerContext, _ reason: String) {
        stage = .done
        deadline.cancel()
        logger.warning("\(reason); connection closed")
        context.close(promise: nil)
    }

    private func stepAside(_ context: ChannelHandlerContext) {
        stage = .done
        deadline.cancel()
        if let header {
            self.header = nil
            context.fireChannelRead(wrapInboundOut(header))
        }
        if pending.readableBytes > 0 {
            let rest = pending
            pending = ByteBuffer()
            context.fireChannelRead(wrapInboundOut(rest))
        }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}

/// The dialling side (`SaslQuorumAuthLearner`): authenticates with the `QuorumLearner`
/// credentials before anything else of the connection goes out (on the election port, after
/// this member's initial message), holding the connection's own writes until the peer says
/// SUCCESS; an ERROR, or a peer that cannot prove it knows the password, closes it.
final class QuorumAuthLearnerHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum Stage { case beforeHeader, awaitingChallenge, awaitingResult, done }

    private let port: String
    private let logger: Logger
    private let report: QuorumAuthFailureReport
    private var client: DigestMD5Client
    private var stage: Stage
    private var started = false
    private var held: [(ByteBuffer, EventLoopPromise<Void>?)] = []
    private var pending = ByteBuffer()
    private var deadline: ConnectionDeadline

    init(username: String, password: String, afterFirstWrite: Bool, port: String, timeLimit: TimeAmount,
         logger: Logger, report: @escaping QuorumAuthFailureReport) {
        self.port = port
        deadline = ConnectionDeadline(timeLimit)
        self.logger = logger
        self.report = report
        client = DigestMD5Client(username: username, password: password, cnonce: DigestMD5Server.randomNonce())
        stage = afterFirstWrite ? .beforeHeader : .awaitingChallenge
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive {
            startClock(context)
            begin(context)
        }
    }

    func channelActive(context: ChannelHandlerContext) {
        startClock(context)
        begin(context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline.cancel()
    }

    /// A peer that does not finish the exchange in time is one this member cannot trust.
    private func startClock(_ context: ChannelHandlerContext) {
        deadline.start(on: context) { [self] context, limit in
            guard stage != .done else { return }
            fail(context, "no answer within \(limit) ms")
        }
    }

    /// DIGEST-MD5 has no initial response: the first packet carries an empty token.
    private func begin(_ context: ChannelHandlerContext) {
        guard !started, stage == .awaitingChallenge else { return }
        started = true
        context.writeAndFlush(wrapOutboundOut(QuorumAuthPacket.encode(.inProgress, [])), promise: nil)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch stage {
        case .done:
            context.write(data, promise: promise)
        case .beforeHeader:
            context.write(data, promise: promise)
            stage = .awaitingChallenge
            begin(context)
        case .awaitingChallenge, .awaitingResult:
            held.append((unwrapOutboundIn(data), promise))
        }
    }

    func flush(context: ChannelHandlerContext) {
        if stage == .done || stage == .beforeHeader { context.flush() }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        guard stage != .done else {
            context.fireChannelRead(data)
            return
        }
        pending.writeBuffer(&bytes)
        let peer = context.channel.remoteAddress?.description ?? "?"
        while stage != .done {
            let packet: (status: Int32, token: [UInt8])?
            do {
                packet = try QuorumAuthPacket.read(from: &pending)
            } catch {
                return fail(context, "\(peer) answered with \(error)")
            }
            guard let packet else { return }
            switch (stage, QuorumAuthPacket.Status(rawValue: packet.status)) {
            case (.awaitingChallenge, .inProgress?):
                do {
                    let response = try client.respond(to: packet.token)
                    context.writeAndFlush(wrapOutboundOut(QuorumAuthPacket.encode(.inProgress, response)), promise: nil)
                    stage = .awaitingResult
                } catch {
                    return fail(context, error.description)
                }
            case (.awaitingResult, .success?):
                do {
                    try client.verify(packet.token)
                } catch {
                    return fail(context, error.description)
                }
                logger.info("quorum SASL: authenticated to \(peer) on the \(port)")
                finish(context)
            case (_, .error?):
                return fail(context, "\(peer) refused this member's credentials (QuorumLearner)")
            default:
                return fail(context, "\(peer) answered out of turn (status \(packet.status))")
            }
        }
    }

    private func finish(_ context: ChannelHandlerContext) {
        stage = .done
        deadline.cancel()
        for (buffer, promise) in held { context.write(wrapOutboundOut(buffer), promise: promise) }
        held.removeAll()
        context.flush()
        if pending.readableBytes > 0 {
            let rest = pending
            pending = ByteBuffer()
            context.fireChannelRead(wrapInboundOut(rest))
        }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    private func fail(_ context: ChannelHandlerContext, _ reason: String) {
        stage = .done
        deadline.cancel()
        report("quorum-sasl", context.channel.remoteAddress?.ipAddress ?? "unknown", reason)
        logger.warning("quorum SASL authentication on the \(port) failed: \(reason); connection closed")
        for (_, promise) in held { promise?.fail(ChannelError.ioOnClosedChannel) }
        held.removeAll()
        context.close(promise: nil)
    }
}
