import Foundation
import Histogram
import Jute
import NIOCore
import NIOPosix
import NIOSSL
import Server
import ZooKeeperProtocol

/// What a benchmark run is asked to do.
public struct BenchOptions: Sendable {
    public var servers: [(host: String, port: Int)] = [("127.0.0.1", 2181)]
    public var connections = 8
    public var depth = 32
    public var mix = "get=90,set=10"
    public var valueSize = 100
    public var keys = 1000
    public var duration = 10.0
    public var warmup = 2.0
    /// Total operations per second across connections; 0 for a closed loop.
    public var rate = 0.0
    public var seed: UInt64 = 1
    public var root = "/aviary-bench"
    public var threads = 2
    /// TLS to the servers (a `secureClientPort`): PEM files of the authority to trust and,
    /// for servers that ask for one, the client's certificate and key; nil for plaintext.
    public var tls: BenchTLS?
    public init() {}
}

/// The PEM files of a benchmark's TLS connections.
public struct BenchTLS: Sendable {
    public var trustedAuthority: String
    public var certificate: String?
    public var privateKey: String?
    public init(trustedAuthority: String, certificate: String?, privateKey: String?) {
        self.trustedAuthority = trustedAuthority
        self.certificate = certificate
        self.privateKey = privateKey
    }

    /// The client context: the server's certificate must come from the authority (its host
    /// name is not checked: benchmarks dial addresses).
    func makeContext() throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(trustedAuthority))
        configuration.certificateVerification = .noHostnameVerification
        if let certificate, let privateKey {
            configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) }
            configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: privateKey, format: .pem))
        }
        return try NIOSSLContext(configuration: configuration)
    }
}

/// The outcome: throughput, latency percentiles in microseconds, errors.
public struct BenchReport: Sendable, Codable {
    public var mix: String
    public var connections: Int
    public var depth: Int
    public var rate: Double
    public var seconds: Double
    public var operations: Int
    public var opsPerSecond: Double
    public var latencyMicros: [String: UInt64]
    public var meanMicros: Double
    public var errors: [String: Int]
    public var failures: [String]

    public var text: String {
        var lines = ["mix \(mix), \(connections) connections × \(depth) in flight" + (rate > 0 ? ", open loop at \(Int(rate)) ops/s" : ", closed loop")]
        lines.append(String(format: "%.0f ops/s (%d operations in %.1f s)", opsPerSecond, operations, seconds))
        let order = ["p50", "p90", "p99", "p999", "max"]
        lines.append("latency µs: " + order.map { "\($0) \(latencyMicros[$0] ?? 0)" }.joined(separator: "  ") + String(format: "  mean %.1f", meanMicros))
        lines.append(errors.isEmpty ? "errors: none" : "errors: " + errors.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: ", "))
        for failure in failures { lines.append("connection failure: \(failure)") }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Creates the key space, runs the connections, merges their measurements.
public enum BenchRunner {
    public static func run(_ options: BenchOptions) async throws -> BenchReport {
        try validate(options)
        let mix = try OperationMix(options.mix)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, options.threads))
        do {
            let report = try await run(options, mix: mix, group: group)
            try? await group.shutdownGracefully()
            return report
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    static func run(_ options: BenchOptions, mix: OperationMix, group: EventLoopGroup) async throws -> BenchReport {
        let value = [UInt8](repeating: UInt8(ascii: "v"), count: options.valueSize)
        try await setUp(options, value: value, group: group)
        let start = NIODeadline.now() + .milliseconds(200)
        let measureFrom = start + .nanoseconds(Int64(options.warmup * 1e9))
        let stopAt = measureFrom + .nanoseconds(Int64(options.duration * 1e9))
        var futures: [EventLoopFuture<ConnectionResult>] = []
        let tlsContext = try options.tls?.makeContext()
        for index in 0..<options.connections {
            let server = options.servers[index % options.servers.count]
            let loop = group.next()
            let promise = loop.makePromise(of: ConnectionResult.self)
            let settings = BenchConnection.Settings(
                mix: mix, depth: options.depth, keys: options.keys, value: value, root: options.root,
                measureFrom: measureFrom, stopAt: stopAt, rate: options.rate / Double(options.connections),
                seed: options.seed &+ UInt64(index) &* 7919, index: index)
            let connect = ClientBootstrap(group: loop)
                .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tlsContext {
                            try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tlsContext, serverHostname: nil))
                        }
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(maximumLength: 16 << 20)))
                        try channel.pipeline.syncOperations.addHandler(BenchConnection(settings: settings, done: promise))
                    }
                }
                .connect(host: server.host, port: server.port)
            connect.whenFailure { promise.fail($0) }
            futures.append(promise.futureResult)
        }
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        var operations = 0
        var errors: [String: Int] = [:]
        var failures: [String] = []
        for future in futures {
            do {
                let result = try await future.get()
                histogram.add(result.histogram)
                operations += result.completed
                for (code, count) in result.errors {
                    errors[KeeperError(rawValue: code).map { "\($0)" } ?? "\(code)", default: 0] += count
                }
                if let failure = result.failure { failures.append(failure) }
            } catch {
                failures.append("\(error)")
            }
        }
        let percentiles: [String: UInt64] = operations == 0 ? [:] : [
            "p50": histogram.valueAtPercentile(50), "p90": histogram.valueAtPercentile(90),
            "p99": histogram.valueAtPercentile(99), "p999": histogram.valueAtPercentile(99.9), "max": histogram.max,
        ]
        return BenchReport(mix: mix.description, connections: options.connections, depth: options.depth, rate: options.rate,
                           seconds: options.duration, operations: operations, opsPerSecond: Double(operations) / options.duration,
                           latencyMicros: percentiles, meanMicros: operations == 0 ? 0 : histogram.mean, errors: errors,
                           failures: failures)
    }

    /// Rejects options that cannot make a run (they would trap or never finish).
    static func validate(_ options: BenchOptions) throws(BenchError) {
        if options.servers.isEmpty { throw BenchError("no servers given") }
        if options.connections < 1 || options.depth < 1 || options.keys < 1 || options.threads < 1 {
            throw BenchError("connections, depth, keys and threads must each be at least 1")
        }
        if options.valueSize < 0 || options.valueSize > 1 << 20 { throw BenchError("value size must be 0...1048576 bytes") }
        if !(options.duration > 0) || options.warmup < 0 || options.rate < 0 {
            throw BenchError("duration must be positive; warm-up and rate must not be negative")
        }
    }

    /// Creates the root and the keys (existing ones are fine).
    static func setUp(_ options: BenchOptions, value: [UInt8], group: EventLoopGroup) async throws {
        let server = options.servers[0]
        let done = group.next().makePromise(of: Void.self)
        let paths = [options.root] + (0..<options.keys).map { "\(options.root)/k\($0)" }
        let tlsContext = try options.tls?.makeContext()
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tlsContext {
                        try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tlsContext, serverHostname: nil))
                    }
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(maximumLength: 16 << 20)))
                    try channel.pipeline.syncOperations.addHandler(SetupConnection(paths: paths, value: value, done: done))
                }
            }
            .connect(host: server.host, port: server.port).get()
        try await done.futureResult.get()
        try? await channel.close()
    }
}

/// Creates paths in order over one session, then reports.
final class SetupConnection: ChannelInboundHandler {
    typealias InboundIn = InboundFrame
    typealias OutboundOut = ByteBuffer
    let paths: [String]
    let value: [UInt8]
    let done: EventLoopPromise<Void>
    var connected = false
    var answered = 0

    init(paths: [String], value: [UInt8], done: EventLoopPromise<Void>) {
        self.paths = paths; self.value = value; self.done = done
    }

    func write(_ context: ChannelHandlerContext, _ body: ByteBuffer) {
        var frame = context.channel.allocator.buffer(capacity: body.readableBytes + 4)
        frame.writeInteger(Int32(body.readableBytes))
        frame.writeImmutableBuffer(body)
        context.write(wrapOutboundOut(frame), promise: nil)
    }

    func channelActive(context: ChannelHandlerContext) {
        write(context, ConnectRequest(lastZxidSeen: 0, timeOut: 30_000, sessionId: 0, passwd: [UInt8](repeating: 0, count: 16), readOnly: false).encoded())
        context.flush()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .frame(var payload) = unwrapInboundIn(data) else { return }
        if !connected {
            connected = true
            for (index, path) in paths.enumerated() {
                var writer = JuteWriter(context.channel.allocator.buffer(capacity: 64 + value.count))
                writer.write(RequestHeader(xid: Int32(index + 1), type: OpCode.create.rawValue))
                Request.create(CreateRequest(path: path, data: index == 0 ? [] : value)).write(to: &writer)
                write(context, writer.buffer)
            }
            context.flush()
            return
        }
        _ = payload.readInteger(as: Int32.self)
        answered += 1
        if answered == paths.count { done.succeed(()) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        done.fail(BenchError("the setup connection closed after \(answered) of \(paths.count) creates"))
    }
}
