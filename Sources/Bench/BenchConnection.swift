import Histogram
import Jute
import NIOCore
import Server
import ZooKeeperProtocol

/// What one connection measured.
public struct ConnectionResult: Sendable {
    public var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
    public var completed = 0
    public var errors: [Int32: Int] = [:]
    public var failure: String?
}

/// One benchmark connection: handshake, then keep `depth` requests in flight (closed loop)
/// or send on a schedule (open loop, latency measured from the intended send time).
final class BenchConnection: ChannelInboundHandler {
    typealias InboundIn = InboundFrame
    typealias OutboundOut = ByteBuffer

    struct Settings {
        var mix: OperationMix
        var depth: Int
        var keys: Int
        var value: [UInt8]
        var root: String
        var measureFrom: NIODeadline
        var stopAt: NIODeadline
        /// Sends per second for this connection; 0 for a closed loop.
        var rate: Double
        var seed: UInt64
        var index: Int
    }

    private let settings: Settings
    private let done: EventLoopPromise<ConnectionResult>
    private var result = ConnectionResult()
    private var random: SplitMix64
    private var connected = false
    private var xid: Int32 = 0
    private var inFlight: [Int32: NIODeadline] = [:]
    private var backlog: [NIODeadline] = []
    private var created: [String] = []
    private var createCounter = 0
    private var finished = false
    private var timer: RepeatedTask?
    /// Open loop: when the next send is due.
    private var nextDue = NIODeadline.now()

    init(settings: Settings, done: EventLoopPromise<ConnectionResult>) {
        self.settings = settings
        self.done = done
        self.random = SplitMix64(seed: settings.seed)
    }

    func channelActive(context: ChannelHandlerContext) {
        let request = ConnectRequest(lastZxidSeen: 0, timeOut: 30_000, sessionId: 0, passwd: [UInt8](repeating: 0, count: 16), readOnly: false)
        send(context, body: request.encoded())
        context.flush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !finished {
            result.failure = result.failure ?? "connection closed by the server"
            finish(context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        result.failure = "\(error)"
        context.close(promise: nil)
    }

    private func send(_ context: ChannelHandlerContext, body: ByteBuffer) {
        var frame = context.channel.allocator.buffer(capacity: body.readableBytes + 4)
        frame.writeInteger(Int32(body.readableBytes))
        frame.writeImmutableBuffer(body)
        context.write(wrapOutboundOut(frame), promise: nil)
    }

    private func key() -> String { "\(settings.root)/k\(Int.random(in: 0..<settings.keys, using: &random))" }

    private func nextRequest() -> Request {
        switch settings.mix.operation(for: Int.random(in: 0..<settings.mix.range, using: &random)) {
        case .get: return .getData(path: key(), watch: false)
        case .set: return .setData(path: key(), data: settings.value, version: -1)
        case .exists: return .exists(path: key(), watch: false)
        case .children: return .getChildren(path: settings.root, watch: false)
        case .create:
            createCounter += 1
            let path = "\(settings.root)/c\(settings.index)-\(createCounter)"
            created.append(path)
            return .create(CreateRequest(path: path, data: settings.value))
        case .delete:
            guard !created.isEmpty else { return nextRequestCreate() }
            return .delete(path: created.removeFirst(), version: -1)
        case .multi:
            return .multi([.setData(path: key(), data: settings.value, version: -1), .check(path: key(), version: -1)])
        }
    }

    private func nextRequestCreate() -> Request {
        createCounter += 1
        let path = "\(settings.root)/c\(settings.index)-\(createCounter)"
        created.append(path)
        return .create(CreateRequest(path: path, data: settings.value))
    }

    private func issue(_ context: ChannelHandlerContext, intended: NIODeadline) {
        xid &+= 1
        if xid <= 0 { xid = 1 }
        let request = nextRequest()
        var writer = JuteWriter(context.channel.allocator.buffer(capacity: 64 + settings.value.count))
        writer.write(RequestHeader(xid: xid, type: request.opCode.rawValue))
        request.write(to: &writer)
        send(context, body: writer.buffer)
        inFlight[xid] = intended
    }

    private func fill(_ context: ChannelHandlerContext) {
        let now = NIODeadline.now()
        guard now < settings.stopAt else {
            if inFlight.isEmpty { finish(context) }
            return
        }
        if settings.rate > 0 {
            while inFlight.count < settings.depth, !backlog.isEmpty { issue(context, intended: backlog.removeFirst()) }
        } else {
            while inFlight.count < settings.depth { issue(context, intended: now) }
        }
        context.flush()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .frame(var payload) = unwrapInboundIn(data) else { return }
        if !connected {
            var reader = JuteReader(payload)
            guard let response = try? ConnectResponse(from: &reader), response.timeOut > 0 else {
                result.failure = "the server refused the session"
                context.close(promise: nil)
                return
            }
            connected = true
            startSending(context)
            return
        }
        guard let xidValue = payload.readInteger(as: Int32.self), payload.readInteger(as: Int64.self) != nil,
              let err = payload.readInteger(as: Int32.self) else { return }
        guard xidValue > 0, let intended = inFlight.removeValue(forKey: xidValue) else { return }
        let now = NIODeadline.now()
        if intended >= settings.measureFrom && intended < settings.stopAt {
            _ = result.histogram.record(UInt64(max(0, (now - intended).nanoseconds / 1000)))
            result.completed += 1
            if err != 0 { result.errors[err, default: 0] += 1 }
        }
    }

    /// Refills the pipeline once per burst of replies, so that one write carries many requests.
    func channelReadComplete(context: ChannelHandlerContext) {
        if connected && !finished { fill(context) }
        context.fireChannelReadComplete()
    }

    private func startSending(_ context: ChannelHandlerContext) {
        if settings.rate > 0 {
            let interval = TimeAmount.nanoseconds(Int64(1_000_000_000 / settings.rate))
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            nextDue = NIODeadline.now()
            timer = context.eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: .milliseconds(1)) { _ in
                let (handler, context) = loopBound.value
                let now = NIODeadline.now()
                while handler.nextDue <= now && handler.nextDue < handler.settings.stopAt {
                    handler.backlog.append(handler.nextDue)
                    handler.nextDue = handler.nextDue + interval
                }
                if now >= handler.settings.stopAt && handler.inFlight.isEmpty { handler.finish(context); return }
                handler.fill(context)
            }
        } else {
            fill(context)
        }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(deadline: settings.stopAt + .seconds(10)) {
            let (handler, context) = loopBound.value
            if !handler.finished {
                handler.result.failure = "\(handler.inFlight.count) requests unanswered 10 s after the end"
                handler.finish(context)
            }
        }
    }

    private func finish(_ context: ChannelHandlerContext) {
        guard !finished else { return }
        finished = true
        timer?.cancel()
        done.succeed(result)
        context.close(promise: nil)
    }
}
