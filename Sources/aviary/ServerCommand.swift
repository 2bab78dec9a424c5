import ArgumentParser
import CAviaryMalloc
import Configuration
import Foundation
import Logging
import NIOCore
import NIOPosix
import Server

/// A failure to start that is not a usage mistake: printed without the usage text.
struct StartupError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// `aviary server [zoo.cfg]`.
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Run a server: standalone, or a member of the ensemble its zoo.cfg lists.",
        discussion: "With no argument: 127.0.0.1:2181 and ./aviary-data. With a path: a ZooKeeper zoo.cfg."
    )

    @Argument(help: "A ZooKeeper zoo.cfg file.")
    var configFile: String?

    func run() async throws {
        var configuration = ServerConfiguration.embeddedDefault
        var warnings: [String] = []
        if let configFile {
            guard let text = try? String(contentsOfFile: configFile, encoding: .utf8) else {
                throw StartupError("cannot read \(configFile)")
            }
            do {
                (configuration, warnings) = try ZooConfigParser.parse(text, file: configFile)
            } catch {
                throw StartupError("\(error)")
            }
            configuration.filePath = URL(fileURLWithPath: configFile).standardizedFileURL.path
        }
        do {
            try configuration.apply(systemProperties: JVMFlags.properties(ProcessInfo.processInfo.environment))
        } catch {
            throw StartupError("\(error)")
        }
        var settings = LogSettings()
        settings.format = configuration.logFormat
        settings.directory = configuration.logDirectory ?? ProcessInfo.processInfo.environment["ZOO_LOG_DIR"]
        settings.file = configuration.logFile
        settings.maximumFileSize = configuration.logMaximumFileSize
        settings.maximumBackups = configuration.logMaximumBackups
        do {
            // A closed pipe on standard error or the log must fail the write, not kill the server.
            signal(SIGPIPE, SIG_IGN)
            try OperatorLogHandler.bootstrap(settings)
        } catch {
            throw StartupError("cannot open the log in \(settings.directory ?? "?"): \(error)")
        }
        let logger = Logger(label: "aviary")
        logger.debug("malloc arenas limited to \(aviary_malloc_arena_limit())")
        for warning in warnings { logger.warning("\(warning)") }
        for directory in [configuration.dataDir, configuration.dataLogDir].compactMap({ $0 }) {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw StartupError("cannot create data directory \(directory): \(error.localizedDescription)")
            }
        }
        let server: AviaryServer
        do {
            server = try AviaryServer(configuration: configuration, logger: logger)
        } catch let failure as StartupFailure {
            throw StartupError(failure.description)
        } catch {
            throw StartupError("cannot open the data directory: \(error)")
        }
        do {
            try await server.start()
        } catch let failure as StartupFailure {
            throw StartupError(failure.description)
        } catch {
            throw StartupError("cannot listen on \(configuration.clientPortAddress ?? "0.0.0.0"):\(configuration.clientPort): \(error)")
        }
        logger.info("Aviary \(AviaryServer.version) serving; data directory \(configuration.dataDir)")
        let signals = [SIGINT, SIGTERM].map { signalNumber -> DispatchSourceSignal in
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber)
            source.setEventHandler {
                logger.info("shutting down on signal \(signalNumber)")
                Task { try? await server.stop() }
            }
            source.resume()
            return source
        }
        try await server.waitUntilClosed()
        // Use the signal sources after the wait: the optimiser ends a local's lifetime at its
        // last use, and a released source never fires (SIGTERM was ignored in release builds).
        for source in signals { source.cancel() }
        // Whatever closed the listener, the stop finishes before the process exits (a signal's
        // stop is joined, not repeated): the last events reach their subscribers.
        try? await server.stop()
        if let reason = server.storageFailure { throw StartupError("stopped: \(reason)") }
    }
}
