import Foundation

/// The TLS settings of one side of a server, as ZooKeeper's `X509Util` reads them: the client
/// port's under `ssl.` (`ClientX509Util`), the quorum's under `ssl.quorum.`
/// (`QuorumX509Util`); each key also as a system property with `zookeeper.` in front.
public struct SSLSettings: Sendable, Equatable {
    /// A key or trust store's file format (`KeyStoreFileType`).
    public enum StoreType: String, Sendable, CaseIterable {
        case pem = "PEM"
        case pkcs12 = "PKCS12"
        case jks = "JKS"
        case bcfks = "BCFKS"

        /// The type a file name implies, as ZooKeeper infers it when no type is given.
        public static func inferred(from path: String) -> StoreType? {
            switch (path as NSString).pathExtension.lowercased() {
            case "pem", "crt", "cer", "key": return .pem
            case "p12", "pfx", "pkcs12": return .pkcs12
            case "jks": return .jks
            case "bcfks": return .bcfks
            default: return nil
            }
        }
    }

    /// Whether a server asks its peers for certificates (`X509Util.ClientAuth`).
    public enum ClientAuth: String, Sendable {
        /// Asks for none.
        case none = "NONE"
        /// Asks, and lets a peer without one in.
        case want = "WANT"
        /// Asks, and refuses a peer without one (ZooKeeper's default).
        case need = "NEED"
    }

    public var keyStoreLocation: String?
    /// A secret: never logged or shown (see ``redacted(_:)``).
    public var keyStorePassword: String?
    /// A file holding the key store's password (`keyStore.passwordPath`); wins over the key.
    public var keyStorePasswordPath: String?
    public var keyStoreType: StoreType?
    public var trustStoreLocation: String?
    /// A secret, like ``keyStorePassword``.
    public var trustStorePassword: String?
    public var trustStorePasswordPath: String?
    public var trustStoreType: StoreType?
    public var clientAuth: ClientAuth = .need
    /// The protocol of the context (`TLSv1.2` by default in ZooKeeper 3.8): the newest version
    /// offered unless ``enabledProtocols`` names others.
    public var protocolName = "TLSv1.2"
    public var enabledProtocols: [String]?
    /// OpenSSL or IANA (Java) cipher suite names.
    public var cipherSuites: [String]?
    public var hostnameVerification = true
    /// How long a connection on a port taking both TLS and plaintext may take to send its first
    /// bytes, and a TLS handshake to finish.
    public var handshakeDetectionTimeoutMillis = 5000

    public init() {}

    /// The protocol versions to accept: ``enabledProtocols`` when set, else ``protocolName``
    /// (ZooKeeper enables the context's protocol alone).
    public var protocols: [String] { enabledProtocols ?? [protocolName] }

    /// Takes `key` (without its prefix) if it is one of these settings; false if it is not. A
    /// value that cannot be used is an error saying what is expected.
    public mutating func take(key: String, value: String) throws(SSLSettingsError) -> Bool {
        func list() -> [String] { value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
        func storeType() throws(SSLSettingsError) -> StoreType? {
            if value.isEmpty { return nil }
            guard let type = StoreType(rawValue: value.uppercased()) else {
                throw SSLSettingsError("expected one of PEM, PKCS12, JKS, BCFKS")
            }
            return type
        }
        switch key {
        case "keyStore.location": keyStoreLocation = value.isEmpty ? nil : value
        case "keyStore.password": keyStorePassword = value
        case "keyStore.passwordPath": keyStorePasswordPath = value.isEmpty ? nil : value
        case "keyStore.type": keyStoreType = try storeType()
        case "trustStore.location": trustStoreLocation = value.isEmpty ? nil : value
        case "trustStore.password": trustStorePassword = value
        case "trustStore.passwordPath": trustStorePasswordPath = value.isEmpty ? nil : value
        case "trustStore.type": trustStoreType = try storeType()
        case "clientAuth":
            if value.isEmpty { clientAuth = .need; break }
            guard let auth = ClientAuth(rawValue: value.uppercased()) else { throw SSLSettingsError("expected none, want or need") }
            clientAuth = auth
        case "protocol": protocolName = value
        case "enabledProtocols": enabledProtocols = list().isEmpty ? nil : list()
        case "ciphersuites": cipherSuites = list().isEmpty ? nil : list()
        case "hostnameVerification":
            switch value.lowercased() {
            case "true": hostnameVerification = true
            case "false": hostnameVerification = false
            default: throw SSLSettingsError("expected true or false")
            }
        case "handshakeDetectionTimeoutMillis":
            guard let millis = Int(value), millis > 0, millis <= 3_600_000 else {
                throw SSLSettingsError("expected milliseconds from 1 to 3600000")
            }
            handshakeDetectionTimeoutMillis = millis
        case "crl", "ocsp", "context.supplier.class", "sslProvider":
            return false
        default:
            return false
        }
        return true
    }

    /// The type of the key store: the one given, else the one its name implies.
    public var effectiveKeyStoreType: StoreType? { keyStoreType ?? keyStoreLocation.flatMap(StoreType.inferred(from:)) }
    /// The type of the trust store: the one given, else the one its name implies.
    public var effectiveTrustStoreType: StoreType? { trustStoreType ?? trustStoreLocation.flatMap(StoreType.inferred(from:)) }

    /// Whether `key` (a zoo.cfg key or system property) holds a secret whose value must not be
    /// shown: any password.
    public static func isSecret(key: String) -> Bool {
        key.lowercased().contains("password") && !key.lowercased().hasSuffix("passwordpath")
    }

    /// zoo.cfg text with every secret's value replaced by `********`, in comments too (an old
    /// password left in a comment is still a password).
    public static func redacted(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            var body = Substring(line.trimmingCharacters(in: .whitespaces))
            var comment = ""
            while let first = body.first, first == "#" || first == "!" {
                comment.append(first)
                body = body.dropFirst().drop(while: { $0 == " " || $0 == "\t" })
            }
            guard let separator = body.firstIndex(where: { $0 == "=" || $0 == ":" }) else { return String(line) }
            let key = body[..<separator].trimmingCharacters(in: .whitespaces)
            guard isSecret(key: key) else { return String(line) }
            return (comment.isEmpty ? "" : comment + " ") + "\(key)=********"
        }.joined(separator: "\n")
    }
}

/// A TLS setting's value that cannot be used: what is expected instead.
public struct SSLSettingsError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension ServerConfiguration {
    /// Takes a key of client TLS or authentication, from zoo.cfg or a system property (with or
    /// without `zookeeper.` in front, as ZooKeeper turns zoo.cfg keys it does not know into
    /// system properties); false if `key` is not one. `ssl.quorum.*` and `sslQuorum` are the
    /// quorum's.
    public mutating func takeSecurityKey(_ key: String, value: String) throws(SSLSettingsError) -> Bool {
        let bare = key.hasPrefix("zookeeper.") ? String(key.dropFirst("zookeeper.".count)) : key
        func bool() throws(SSLSettingsError) -> Bool {
            switch value.lowercased() {
            case "true": return true
            case "false": return false
            default: throw SSLSettingsError("expected true or false")
            }
        }
        switch bare {
        case "java.security.auth.login.config":
            jaasConfigFile = value.isEmpty ? nil : value
            return true
        case "sasl.serverconfig":
            saslServerSection = value.isEmpty ? "Server" : value
            return true
        case "superUser":
            saslSuperUser = value.isEmpty ? nil : value
            return true
        case "java.security.krb5.conf":
            krb5ConfigFile = value.isEmpty ? nil : value
            return true
        case "kerberos.removeHostFromPrincipal":
            // Java's "true".equals: anything else is false.
            kerberosRemoveHostFromPrincipal = value == "true"
            return true
        case "kerberos.removeRealmFromPrincipal":
            kerberosRemoveRealmFromPrincipal = value == "true"
            return true
        case "enforce.auth.enabled":
            enforceAuthEnabled = try bool()
            return true
        case "enforce.auth.schemes":
            enforceAuthSchemes = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            return true
        case "sessionRequireClientSASLAuth":
            sessionRequireClientSASLAuth = try bool()
            return true
        case "secureClientPort":
            guard let port = Int(value), port >= 0, port <= 65535 else { throw SSLSettingsError("expected a port from 0 to 65535") }
            secureClientPort = port
            return true
        case "secureClientPortAddress":
            secureClientPortAddress = value.isEmpty ? nil : value
            return true
        case "client.portUnification":
            switch value.lowercased() {
            case "true": clientPortUnification = true
            case "false": clientPortUnification = false
            default: throw SSLSettingsError("expected true or false")
            }
            return true
        case "quorum.auth.enableSasl":
            quorumSaslEnabled = try bool()
            return true
        case "quorum.auth.learnerRequireSasl":
            quorumLearnerRequireSasl = try bool()
            return true
        case "quorum.auth.serverRequireSasl":
            quorumServerRequireSasl = try bool()
            return true
        case "quorum.auth.learner.saslLoginContext":
            quorumLearnerLoginContext = value.isEmpty ? "QuorumLearner" : value
            return true
        case "quorum.auth.server.saslLoginContext":
            quorumServerLoginContext = value.isEmpty ? "QuorumServer" : value
            return true
        case "quorum.auth.kerberos.servicePrincipal", "quorum.cnxn.threads.size":
            return true  // Kerberos is not supported; connections are not served by threads
        case "sslQuorum":
            sslQuorum = try bool()
            return true
        case "portUnification":
            quorumPortUnification = try bool()
            return true
        case "sslQuorumReloadCertFiles":
            return true  // store files are always read again when they change
        case "X509AuthenticationProvider.superUser":
            x509SuperUser = value.isEmpty ? nil : value
            return true
        default:
            if bare.hasPrefix("ssl.quorum.") {
                return try quorumSSL.take(key: String(bare.dropFirst("ssl.quorum.".count)), value: value)
            }
            guard bare.hasPrefix("ssl.") else { return false }
            return try clientSSL.take(key: String(bare.dropFirst("ssl.".count)), value: value)
        }
    }
}
