import Configuration
import Foundation
import NIOConcurrencyHelpers
import NIOSSL

/// A key or trust store that cannot be used, or TLS settings that do not fit together: what
/// is wrong and what to do.
struct TLSSetupError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The TLS server context of the client ports, made from the `ssl.*` settings as ZooKeeper's
/// `X509Util` makes its `SSLContext`: the key store (PEM or PKCS12) gives the server's key and
/// certificate chain, the trust store (PEM or PKCS12; the system's roots when none is set) the
/// authorities a client certificate must come from, `ssl.clientAuth` whether one is asked for.
///
/// The context is made again when a store file changes (its modification time or size, looked
/// at no more than once a second, when a connection arrives); new connections get the new
/// context, open ones keep theirs. A store that no longer loads leaves the old context in use.
final class TLSContextSource: Sendable {
    private struct State {
        var context: NIOSSLContext
        var fingerprint: [String]
        var checkedAt: Date
    }

    /// Which end of connections the context is for.
    enum Role: Sendable {
        /// Accepting: asks for client certificates as `clientAuth` says.
        case server
        /// Dialling (a learner or an election connection): presents this server's certificate
        /// and checks the peer's, and its address too when `hostnameVerification` is on.
        case client
    }

    private let settings: SSLSettings
    private let role: Role
    /// The keys' prefix, for messages: `ssl.` or `ssl.quorum.`.
    private let prefix: String
    private let state: NIOLockedValueBox<State>
    private let onReload: @Sendable (Result<Void, TLSSetupError>) -> Void

    /// Loads the stores now: a server must not start with TLS settings it cannot use.
    init(settings: SSLSettings, role: Role = .server, prefix: String = "ssl.",
         onReload: @escaping @Sendable (Result<Void, TLSSetupError>) -> Void) throws(TLSSetupError) {
        self.settings = settings
        self.role = role
        self.prefix = prefix
        self.onReload = onReload
        let context = try Self.makeContext(settings, role: role, prefix: prefix)
        state = NIOLockedValueBox(State(context: context, fingerprint: Self.fingerprint(settings), checkedAt: Date()))
    }

    /// The context for a new connection, made again first if a store file changed.
    func context() -> NIOSSLContext {
        let (current, changed) = state.withLockedValue { state -> (NIOSSLContext, Bool) in
            let now = Date()
            guard now.timeIntervalSince(state.checkedAt) >= 1 else { return (state.context, false) }
            state.checkedAt = now
            let fingerprint = Self.fingerprint(settings)
            guard fingerprint != state.fingerprint else { return (state.context, false) }
            state.fingerprint = fingerprint
            return (state.context, true)
        }
        guard changed else { return current }
        do {
            let context = try Self.makeContext(settings, role: role, prefix: prefix)
            state.withLockedValue { $0.context = context }
            onReload(.success(()))
            return context
        } catch {
            onReload(.failure(error))
            return current
        }
    }

    /// What shows that a store file changed: each one's size and modification time.
    private static func fingerprint(_ settings: SSLSettings) -> [String] {
        [settings.keyStoreLocation, settings.trustStoreLocation, settings.keyStorePasswordPath, settings.trustStorePasswordPath]
            .map { path -> String in
                guard let path, let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return "-" }
                let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
                return "\(attributes[.size] ?? 0)@\(modified)"
            }
    }

    /// The context `settings` describe for `role`; messages name the keys with `prefix`.
    static func makeContext(_ settings: SSLSettings, role: Role = .server, prefix: String = "ssl.") throws(TLSSetupError) -> NIOSSLContext {
        do {
            return try makeContext(settings, role: role)
        } catch {
            // Keys are named as the operator wrote them: ssl.quorum.* for the quorum's.
            throw TLSSetupError(error.description.replacingOccurrences(of: "ssl.", with: prefix))
        }
    }

    private static func makeContext(_ settings: SSLSettings, role: Role) throws(TLSSetupError) -> NIOSSLContext {
        guard let keyStore = settings.keyStoreLocation else {
            throw TLSSetupError("ssl.keyStore.location is not set: TLS needs this server's key and certificate")
        }
        let keyPassword = try password(settings.keyStorePassword, path: settings.keyStorePasswordPath, of: "ssl.keyStore")
        let (chain, key) = try loadKeyStore(keyStore, type: settings.effectiveKeyStoreType, password: keyPassword)
        var configuration: TLSConfiguration
        switch role {
        case .server:
            configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) },
                                                                     privateKey: .privateKey(key))
            switch settings.clientAuth {
            case .need: configuration.certificateVerification = .noHostnameVerification
            case .want: configuration.certificateVerification = .optionalVerification
            case .none: configuration.certificateVerification = .none
            }
        case .client:
            configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateChain = chain.map { .certificate($0) }
            configuration.privateKey = .privateKey(key)
            configuration.certificateVerification = settings.hostnameVerification ? .fullVerification : .noHostnameVerification
        }
        if let trustStore = settings.trustStoreLocation {
            let trustPassword = try password(settings.trustStorePassword, path: settings.trustStorePasswordPath, of: "ssl.trustStore")
            configuration.trustRoots = .certificates(try loadTrustStore(trustStore, type: settings.effectiveTrustStoreType, password: trustPassword))
        } else {
            configuration.trustRoots = .default
        }
        let versions = try settings.protocols.map { name throws(TLSSetupError) -> TLSVersion in
            guard let version = tlsVersions[name] else {
                throw TLSSetupError("ssl.enabledProtocols / ssl.protocol: \(name) is not a TLS version (TLSv1, TLSv1.1, TLSv1.2, TLSv1.3)")
            }
            return version
        }
        if let lowest = versions.min(by: { rank($0) < rank($1) }), let highest = versions.max(by: { rank($0) < rank($1) }) {
            configuration.minimumTLSVersion = lowest
            configuration.maximumTLSVersion = highest
        }
        if let suites = settings.cipherSuites, let list = try openSSLCipherList(suites) {
            configuration.cipherSuites = list
        }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSSetupError("cannot make a TLS context from ssl.* settings: \(error)")
        }
    }

    private static let tlsVersions: [String: TLSVersion] = [
        "TLSv1": .tlsv1, "TLSv1.1": .tlsv11, "TLSv1.2": .tlsv12, "TLSv1.3": .tlsv13, "TLS": .tlsv13,
    ]

    private static func rank(_ version: TLSVersion) -> Int {
        switch version {
        case .tlsv1: return 0
        case .tlsv11: return 1
        case .tlsv12: return 2
        case .tlsv13: return 3
        }
    }

    /// Java's (IANA) cipher suite names as OpenSSL's, so that a ZooKeeper `ssl.ciphersuites`
    /// works unchanged; OpenSSL names pass through. TLS 1.3 suites are not configurable here
    /// (BoringSSL always offers its own), as with most TLS 1.3 stacks; nil when only those are
    /// named.
    static func openSSLCipherList(_ names: [String]) throws(TLSSetupError) -> String? {
        var openSSL: [String] = []
        for name in names {
            if name.hasPrefix("TLS_AES_") || name.hasPrefix("TLS_CHACHA20_") { continue }
            if name.hasPrefix("TLS_") {
                guard let mapped = ianaToOpenSSL[name] else {
                    throw TLSSetupError("ssl.ciphersuites: \(name) is not a cipher suite Aviary knows; use an ECDHE suite with AES-GCM, AES-CBC or ChaCha20")
                }
                openSSL.append(mapped)
            } else {
                openSSL.append(name)
            }
        }
        return openSSL.isEmpty ? nil : openSSL.joined(separator: ":")
    }

    private static let ianaToOpenSSL: [String: String] = [
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": "ECDHE-RSA-AES128-GCM-SHA256",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": "ECDHE-RSA-AES256-GCM-SHA384",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-ECDSA-CHACHA20-POLY1305",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-RSA-CHACHA20-POLY1305",
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256": "ECDHE-ECDSA-AES128-SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256": "ECDHE-RSA-AES128-SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": "ECDHE-ECDSA-AES128-SHA",
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": "ECDHE-RSA-AES128-SHA",
        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": "ECDHE-ECDSA-AES256-SHA",
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": "ECDHE-RSA-AES256-SHA",
        "TLS_RSA_WITH_AES_128_GCM_SHA256": "AES128-GCM-SHA256",
        "TLS_RSA_WITH_AES_256_GCM_SHA384": "AES256-GCM-SHA384",
        "TLS_RSA_WITH_AES_128_CBC_SHA": "AES128-SHA",
        "TLS_RSA_WITH_AES_256_CBC_SHA": "AES256-SHA",
    ]

    /// The store's password: the file's (`passwordPath`, its content less one final line end,
    /// as ZooKeeper's `SecretUtils.readSecret`) when one is named, else the key's; nil for none.
    private static func password(_ value: String?, path: String?, of store: String) throws(TLSSetupError) -> String? {
        if let path {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw TLSSetupError("\(store).passwordPath: cannot read \(path)")
            }
            return text.hasSuffix("\n") ? String(text.dropLast()) : text
        }
        return value.flatMap { $0.isEmpty ? nil : $0 }
    }

    private static func unsupported(_ type: SSLSettings.StoreType, _ path: String, _ key: String) -> TLSSetupError {
        TLSSetupError("""
            \(key) \(path) is a \(type.rawValue) store, which Aviary cannot read; convert it to PKCS12 \
            (keytool -importkeystore -srckeystore \(path) -destkeystore store.p12 -deststoretype PKCS12) \
            or PEM, and set \(key.replacingOccurrences(of: ".location", with: ".type")) accordingly
            """)
    }

    /// Checks that a store file can be read and is of a type Aviary reads; opens it when it is
    /// PKCS12 (nil for PEM, which the caller reads). `key` is the setting that names it.
    private static func pkcs12Store(_ path: String, type: SSLSettings.StoreType?, password: String?, key: String)
        throws(TLSSetupError) -> PKCS12Store? {
        guard FileManager.default.isReadableFile(atPath: path) else { throw TLSSetupError("\(key): cannot read \(path)") }
        switch type ?? .pem {
        case .jks, .bcfks: throw unsupported(type ?? .jks, path, key)
        case .pem: return nil
        case .pkcs12:
            do {
                return try PKCS12Store(path: path, password: password ?? "")
            } catch {
                throw TLSSetupError("\(key): \(error)")
            }
        }
    }

    private static func loadKeyStore(_ path: String, type: SSLSettings.StoreType?, password: String?)
        throws(TLSSetupError) -> ([NIOSSLCertificate], NIOSSLPrivateKey) {
        if let store = try pkcs12Store(path, type: type, password: password, key: "ssl.keyStore.location") {
            guard let key = store.privateKey, !store.certificates.isEmpty else {
                throw TLSSetupError("ssl.keyStore.location: \(path) holds no private key and certificate (is it a trust store?)")
            }
            return (store.certificates, key)
        }
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMFile(path)
        } catch {
            throw TLSSetupError("ssl.keyStore.location: \(path) holds no PEM certificate (\(error))")
        }
        guard !certificates.isEmpty else { throw TLSSetupError("ssl.keyStore.location: \(path) holds no PEM certificate") }
        do {
            let key: NIOSSLPrivateKey
            if let password {
                let bytes = Array(password.utf8)
                key = try NIOSSLPrivateKey(file: path, format: .pem) { (setter: NIOSSLPassphraseSetter<[UInt8]>) in setter(bytes) }
            } else {
                key = try NIOSSLPrivateKey(file: path, format: .pem)
            }
            return (certificates, key)
        } catch {
            throw TLSSetupError("ssl.keyStore.location: \(path) holds no PEM private key that ssl.keyStore.password opens (\(error))")
        }
    }

    private static func loadTrustStore(_ path: String, type: SSLSettings.StoreType?, password: String?)
        throws(TLSSetupError) -> [NIOSSLCertificate] {
        if let store = try pkcs12Store(path, type: type, password: password, key: "ssl.trustStore.location") {
            guard !store.certificates.isEmpty else { throw TLSSetupError("ssl.trustStore.location: \(path) holds no certificate") }
            return store.certificates
        }
        do {
            let certificates = try NIOSSLCertificate.fromPEMFile(path)
            guard !certificates.isEmpty else { throw TLSSetupError("no certificate") }
            return certificates
        } catch {
            throw TLSSetupError("ssl.trustStore.location: \(path) holds no PEM certificate (\(error))")
        }
    }
}
