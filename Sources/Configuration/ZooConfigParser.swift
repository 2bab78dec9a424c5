import Foundation

/// A zoo.cfg value that cannot be used.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var line: Int
    public var message: String
    /// `file:line: message`, or `file: message` for a problem of the whole file (line 0).
    public var description: String { line > 0 ? "\(file):\(line): \(message)" : "\(file): \(message)" }
}

/// Reads ZooKeeper's `zoo.cfg` (Java properties: `key=value`, `#` and `!` comments).
///
/// Keys Aviary acts on are applied; keys it knows but does not act on yet are accepted
/// with one warning each; a malformed value is an error naming its line.
public enum ZooConfigParser {
    /// Keys ZooKeeper accepts that Aviary reads but does not act on yet.
    static let acceptedNotActedOn: [String] = [
        "admin.idleTimeout", "admin.forceHttps", "admin.portUnification", "metricsProvider.exportJvmInfo",
        "syncEnabled",
        "serverCnxnFactory", "ssl.", "leaderServes", "snapSizeLimitInKb", "txnLogSizeLimitInKb",
        "zookeeper.", "jvm.", "clientCnxnSocket", "admin.enableServer", "group.", "weight.", "maxCnxns",
        "connectToLearnerMasterLimit", "multiAddress.",
    ]

    /// Parses zoo.cfg text. `dataDirectoryMyid` reads the myid file once dataDir is known.
    public static func parse(_ text: String, file: String = "zoo.cfg",
                             readFile: (String) -> String? = { try? String(contentsOfFile: $0, encoding: .utf8) })
        throws(ConfigurationError) -> (ServerConfiguration, warnings: [String]) {
        var config = ServerConfiguration()
        config.sourceText = text
        var warnings: [String] = []
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for (index, rawLine) in lines.enumerated() {
            let lineNumber = index + 1
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix("!") { continue }
            guard let separator = line.firstIndex(where: { $0 == "=" || $0 == ":" || $0 == " " || $0 == "\t" }) else {
                throw ConfigurationError(file: file, line: lineNumber, message: "'\(line)' is not key=value")
            }
            let key = line[..<separator].trimmingCharacters(in: .whitespaces)
            var value = line[line.index(after: separator)...].trimmingCharacters(in: .whitespaces)
            if value.hasPrefix("=") || value.hasPrefix(":") { value = String(value.dropFirst()).trimmingCharacters(in: .whitespaces) }
            config.properties.append((key, value))
            func fail(_ expected: String) -> ConfigurationError {
                ConfigurationError(file: file, line: lineNumber, message: "\(key)=\(value): \(expected)")
            }
            /// A whole number in `min...max`. Every numeric key has a range, so that no value
            /// can overflow where the server later multiplies or adds it.
            func int(min: Int = 0, max: Int = Int(Int32.max)) throws(ConfigurationError) -> Int {
                guard let number = Int(value), number >= min, number <= max else {
                    throw fail("expected a whole number from \(min) to \(max)")
                }
                return number
            }
            /// A size such as 1048576, 512KB, 256MB or 1GB (log4j's notation), at most 1 TB.
            func size() throws(ConfigurationError) -> Int {
                let upper = value.uppercased()
                let limit = 1 << 40
                var digits = Substring(upper)
                var factor = 1
                for (suffix, scale) in [("KB", 1 << 10), ("MB", 1 << 20), ("GB", 1 << 30), ("B", 1)] where upper.hasSuffix(suffix) {
                    digits = upper.dropLast(suffix.count)
                    factor = scale
                    break
                }
                guard let number = Int(digits), number > 0 else { throw fail("expected a size like 256MB") }
                let (bytes, overflow) = number.multipliedReportingOverflow(by: factor)
                guard !overflow, bytes <= limit else { throw fail("expected a size of at most 1TB") }
                return bytes
            }
            func bool() throws(ConfigurationError) -> Bool {
                switch value.lowercased() {
                case "true", "yes": return true
                case "false", "no": return false
                default: throw fail("expected true or false")
                }
            }
            switch key {
            // 20 ticks (the default maxSessionTimeout) must still fit a session timeout (Int32).
            case "tickTime": config.tickTime = try int(min: 1, max: Int(Int32.max) / 20)
            case "dataDir": config.dataDir = value
            case "dataLogDir": config.dataLogDir = value
            case "clientPort": config.clientPort = try int(max: 65535)
            case "clientPortAddress": config.clientPortAddress = value
            case "maxClientCnxns": config.maxClientCnxns = try int()
            case "minSessionTimeout": config.minSessionTimeout = try int(min: -1) < 0 ? nil : Int(value)
            case "maxSessionTimeout": config.maxSessionTimeout = try int(min: -1) < 0 ? nil : Int(value)
            case "initLimit": config.initLimit = try int(min: 1, max: 100_000)
            case "syncLimit": config.syncLimit = try int(min: 1, max: 100_000)
            case "jute.maxbuffer": config.juteMaxBuffer = try int(min: 1)
            case "4lw.commands.whitelist":
                let words = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                config.fourLetterWords = Set(words)
            case "extendedTypesEnabled", "zookeeper.extendedTypesEnabled": config.extendedTypesEnabled = try bool()
            case "superDigest", "DigestAuthenticationProvider.superDigest", "zookeeper.DigestAuthenticationProvider.superDigest":
                if value.split(separator: ":").count != 2 { throw fail("expected user:base64-sha1") }
                config.superDigest = value
            case "reconfigEnabled": config.reconfigEnabled = try bool()
            case "snapCount", "zookeeper.snapCount": config.snapCount = try int(min: 2)
            case "forceSync", "zookeeper.forceSync": config.forceSync = try bool()
            case "preAllocSize", "zookeeper.preAllocSize": config.preAllocSizeKB = try int(min: 4, max: 1 << 24)
            case "autopurge.snapRetainCount":
                config.snapRetainCount = try int(min: 0)
                if config.snapRetainCount < 3 {
                    warnings.append("\(file):\(lineNumber): autopurge.snapRetainCount \(config.snapRetainCount) is below the minimum; keeping 3")
                    config.snapRetainCount = 3
                }
            case "autopurge.purgeInterval": config.purgeIntervalHours = try int(min: 0, max: 24 * 365 * 10)
            case "metricsProvider.httpPort": config.metricsPort = try int(max: 65535)
            case "metricsProvider.httpHost": config.metricsHost = value
            case "globalOutstandingLimit", "zookeeper.globalOutstandingLimit": config.globalOutstandingLimit = try int(min: 1)
            case "aviary.log.format":
                guard value == "text" || value == "json" else { throw fail("expected text or json") }
                config.logFormat = value
            case "aviary.log.dir", "zookeeper.log.dir": config.logDirectory = value
            case "aviary.log.file", "zookeeper.log.file": config.logFile = value
            case "aviary.log.maxfilesize", "zookeeper.log.maxfilesize": config.logMaximumFileSize = try size()
            case "aviary.log.maxbackupindex", "zookeeper.log.maxbackupindex": config.logMaximumBackups = try int(min: 1, max: 10_000)
            case "audit.enable", "zookeeper.audit.enable": config.auditEnabled = try bool()
            case "aviary.webhooks":
                config.webhooks = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                for url in config.webhooks where URL(string: url)?.scheme != "http" { throw fail("expected http:// URLs") }
            case "fsync.warningthresholdms", "zookeeper.fsync.warningthresholdms": config.fsyncWarningThresholdMs = try int()
            case "admin.enableServer", "zookeeper.admin.enableServer": config.adminEnabled = try bool()
            case "admin.serverAddress", "zookeeper.admin.serverAddress": config.adminHost = value
            case "admin.serverPort", "zookeeper.admin.serverPort":
                config.adminPort = try int(max: 65535)
            case "admin.commandURL", "zookeeper.admin.commandURL":
                config.adminCommandURL = value.hasPrefix("/") ? value : "/" + value
            case "metricsProvider.className":
                if value.hasSuffix("NullMetricsProvider") {
                    config.metricsPort = 0
                } else if !value.hasSuffix("PrometheusMetricsProvider") {
                    warnings.append("\(file):\(lineNumber): metricsProvider.className=\(value) is not available; serving Prometheus metrics instead")
                }
            case "standaloneEnabled": config.standaloneEnabled = try bool()
            case "peerType":
                let type = value.lowercased()
                guard type == "participant" || type == "observer" else { throw fail("expected participant or observer") }
                config.peerType = type
            case "electionAlg":
                // ZooKeeper 3.8 has only fast leader election (3).
                guard value == "3" else { throw fail("only electionAlg=3 (fast leader election) exists") }
            case "cnxTimeout", "zookeeper.cnxTimeout": config.connectTimeoutMs = try int(min: 1, max: 600_000)
            case "electionPortBindRetry", "zookeeper.electionPortBindRetry": config.electionPortBindRetry = try int(max: 1_000_000)
            case "quorumListenOnAllIPs": config.quorumListenOnAllIPs = try bool()
            case "quorumCnxnTimeoutMs", "zookeeper.quorumCnxnTimeoutMs": config.quorumCnxnTimeoutMs = try int(min: 1, max: 3_600_000)
            case "localSessionsEnabled": config.localSessionsEnabled = try bool()
            case "localSessionsUpgradingEnabled": config.localSessionsUpgradingEnabled = try bool()
            case "readonlymode.enabled", "zookeeper.readonlymode.enabled": config.readOnlyModeEnabled = try bool()
            case "leaderSilenceTimeout": config.leaderSilenceTimeoutMs = try int(max: 3_600_000)
            case "dynamicConfigFile": config.dynamicConfigFile = value
            case "digest.enabled", "zookeeper.digest.enabled": config.digestEnabled = try bool()
            case "znode.container.checkIntervalMs", "zookeeper.znode.container.checkIntervalMs":
                config.containerCheckIntervalMs = try int(min: 1)
            default:
                let tookSecurityKey: Bool
                do {
                    tookSecurityKey = try config.takeSecurityKey(key, value: value)
                } catch {
                    throw fail(error.description)
                }
                if tookSecurityKey {
                    continue
                } else if key.hasPrefix("server.") {
                    try readServer(key: key, value: value, at: "\(file):\(lineNumber)", into: &config)
                } else if key.hasPrefix("authProvider.") {
                    config.authProviders[key] = value
                    let known = ["DigestAuthenticationProvider", "IPAuthenticationProvider", "X509AuthenticationProvider",
                                 "SASLAuthenticationProvider"]
                    if !known.contains(where: { value.hasSuffix($0) }) {
                        warnings.append("\(file):\(lineNumber): \(key)=\(value) is not supported; digest, ip, x509 and sasl authentication are available")
                    }
                } else if acceptedNotActedOn.contains(where: { $0.hasSuffix(".") ? key.hasPrefix($0) : key == $0 }) {
                    warnings.append("\(file):\(lineNumber): \(key) is accepted but not acted on yet")
                } else {
                    warnings.append("\(file):\(lineNumber): unknown key \(key) ignored")
                }
            }
        }
        if let dynamic = config.dynamicConfigFile {
            try readDynamicFile(dynamic, into: &config, readFile: readFile)
        }
        if let min = config.minSessionTimeout, let max = config.maxSessionTimeout, min > max {
            throw ConfigurationError(file: file, line: 0, message: "minSessionTimeout \(min) is larger than maxSessionTimeout \(max)")
        }
        if let text = readFile((config.dataDir as NSString).appendingPathComponent("myid")) {
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard let id = Int64(trimmed), id >= 0, id < 256 else {
                throw ConfigurationError(file: "\(config.dataDir)/myid", line: 1, message: "'\(trimmed)' is not a server id (0-255)")
            }
            config.myid = id
        }
        // A client address in this server's line (a dynamic file written by reconfig) serves
        // when zoo.cfg names none (`QuorumPeerConfig.setupClientPort`).
        if let myid = config.myid, let me = config.servers[myid], let port = me.clientPort,
           !config.properties.contains(where: { $0.key == "clientPort" }) {
            config.clientPort = port
            if let address = me.clientAddress, address != "0.0.0.0" { config.clientPortAddress = address }
        }
        try EnsembleValidation.check(&config, file: file, warnings: &warnings)
        return (config, warnings)
    }
}
