import ArgumentParser
import Bench
import Foundation

/// `aviary bench`: load over the ZooKeeper wire protocol, against Aviary or ZooKeeper.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Generate load over the ZooKeeper protocol and report throughput and latency.")

    @Option(help: "Servers as host:port, comma-separated; connections are spread over them.") var servers = "127.0.0.1:2181"
    @Option(help: "Connections (one session each).") var connections = 8
    @Option(help: "Requests in flight per connection.") var depth = 32
    @Option(help: "Operation mix: get, set, create, delete, exists, children, multi with weights.") var mix = "get=90,set=10"
    @Option(help: "Bytes per value.") var valueSize = 100
    @Option(help: "Keys read and written.") var keys = 1000
    @Option(help: "Seconds measured.") var duration = 10.0
    @Option(help: "Seconds of warm-up before measuring.") var warmup = 2.0
    @Option(help: "Total operations per second (open loop); 0 keeps depth requests in flight (closed loop).") var rate = 0.0
    @Option(help: "Seed for the operation and key choices.") var seed: UInt64 = 1
    @Option(help: "The znode the benchmark's keys and created znodes go under.") var root = "/aviary-bench"
    @Option(help: "Event-loop threads of the load generator.") var threads = 2
    @Option(help: "TLS: the PEM file of the authority the servers' certificates come from (connects with TLS, to a secureClientPort).") var tlsCa: String?
    @Option(help: "TLS: the client's PEM certificate, for servers that ask for one.") var tlsCertificate: String?
    @Option(help: "TLS: the client's PEM private key.") var tlsKey: String?
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        var options = BenchOptions()
        options.servers = try servers.split(separator: ",").map { part in
            let text = String(part)
            guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else {
                throw ValidationError("'\(text)' is not host:port")
            }
            return (String(text[..<colon]), port)
        }
        options.connections = connections; options.depth = depth; options.mix = mix; options.valueSize = valueSize
        options.keys = keys; options.duration = duration; options.warmup = warmup; options.rate = rate
        options.seed = seed; options.threads = threads
        if let tlsCa {
            guard (tlsCertificate == nil) == (tlsKey == nil) else { throw ValidationError("--tls-certificate and --tls-key go together") }
            options.tls = BenchTLS(trustedAuthority: tlsCa, certificate: tlsCertificate, privateKey: tlsKey)
        } else if tlsCertificate != nil || tlsKey != nil {
            throw ValidationError("--tls-certificate and --tls-key need --tls-ca")
        }
        guard root.hasPrefix("/"), root.count > 1, !root.hasSuffix("/") else { throw ValidationError("--root must be an absolute path such as /aviary-bench") }
        options.root = root
        let report: BenchReport
        do {
            report = try await BenchRunner.run(options)
        } catch {
            throw StartupError("benchmark failed: \(error)")
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(report.text, terminator: "")
        }
        if !report.failures.isEmpty { throw ExitCode(1) }
    }
}
