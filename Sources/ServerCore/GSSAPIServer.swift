/// A Kerberos security context on the accepting side, as the GSS-API gives it (the server
/// wraps the system library; tests use a fake).
public protocol GSSAcceptorContext: AnyObject, Sendable {
    /// Takes the client's context token; gives the token for the client (possibly empty) and
    /// whether the context is established.
    func accept(_ token: [UInt8]) throws -> (token: [UInt8], established: Bool)
    /// The client's principal (`name@REALM`), once established.
    func initiator() throws -> String
    /// Integrity-protects a message for the client, and checks and opens one from it.
    func wrap(_ message: [UInt8]) throws -> [UInt8]
    func unwrap(_ message: [UInt8]) throws -> [UInt8]
}

/// SASL GSSAPI on the server side (RFC 4752), the exchange Java's `GssKrb5Server` runs for
/// ZooKeeper's `ZooKeeperSaslServer` when the JAAS `Server` section logs in with Kerberos:
///
/// 1. context tokens until the security context is established (the last one, Kerberos's
///    AP-REP for mutual authentication, goes to the client);
/// 2. the client answers that with an empty token; the server sends, wrapped, the security
///    layers it offers (only "none": ZooKeeper's default `auth` protection) and its largest
///    message size;
/// 3. the client sends, wrapped, the layer it chose, its size and an authorization id; the
///    server checks the choice and completes, answering with no token.
///
/// The `sasl` identity comes from the client's principal as ZooKeeper's
/// `SaslServerCallbackHandler` makes it: Kerberos's short name (for a principal of the default
/// realm its first component), then `/host` and `@REALM` unless
/// `zookeeper.kerberos.removeHostFromPrincipal` / `removeRealmFromPrincipal` are true; a
/// principal of another realm, which no rule shortens, stays whole.
public struct GSSAPIServer: SASLMechanism, @unchecked Sendable {
    public struct Options: Sendable, Equatable {
        public var defaultRealm: String?
        public var removeHostFromPrincipal = false
        public var removeRealmFromPrincipal = false
        public init(defaultRealm: String? = nil, removeHostFromPrincipal: Bool = false, removeRealmFromPrincipal: Bool = false) {
            self.defaultRealm = defaultRealm
            self.removeHostFromPrincipal = removeHostFromPrincipal
            self.removeRealmFromPrincipal = removeRealmFromPrincipal
        }
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    private enum Stage { case context, offering, awaitingChoice, complete, failed }

    /// The one security layer offered: none (bit 1), with the largest message Java's server
    /// announces by default.
    static let noSecurityLayer: UInt8 = 1
    static let maximumMessage = 65536

    private let context: GSSAcceptorContext
    private let options: Options
    private var stage = Stage.context
    private var principal: String?
    public private(set) var authorizationID: String?

    public init(context: GSSAcceptorContext, options: Options) {
        self.context = context
        self.options = options
    }

    public var isComplete: Bool { stage == .complete }

    public mutating func respond(to token: [UInt8]) throws -> [UInt8]? {
        do {
            switch stage {
            case .context:
                let (answer, established) = try context.accept(token)
                guard established else { return answer }
                principal = try context.initiator()
                stage = .offering
                // Kerberos's AP-REP first, when there is one; the client's empty reply asks for
                // the offer. Without one, the offer goes at once.
                if !answer.isEmpty { return answer }
                return try offer()
            case .offering:
                guard token.isEmpty else { throw Failure(description: "a token where the client's empty reply was expected") }
                return try offer()
            case .awaitingChoice:
                let choice = try context.unwrap(token)
                guard choice.count >= 4 else { throw Failure(description: "the client's choice of security layer is \(choice.count) bytes") }
                guard choice[0] & Self.noSecurityLayer != 0 else {
                    throw Failure(description: "the client chose a security layer that was not offered (0x\(String(choice[0], radix: 16)))")
                }
                guard let principal else { throw Failure(description: "no client principal") }
                authorizationID = Self.identity(of: principal, options: options)
                stage = .complete
                return nil
            case .complete, .failed:
                throw Failure(description: "a token after the exchange ended")
            }
        } catch {
            stage = .failed
            throw error
        }
    }

    private mutating func offer() throws -> [UInt8] {
        stage = .awaitingChoice
        let size = Self.maximumMessage
        return try context.wrap([Self.noSecurityLayer, UInt8(size >> 16 & 0xFF), UInt8(size >> 8 & 0xFF), UInt8(size & 0xFF)])
    }

    /// The `sasl` identity of a Kerberos principal (`primary[/host][@REALM]`).
    public static func identity(of principal: String, options: Options) -> String {
        var rest = Substring(principal)
        var realm: Substring?
        if let at = rest.lastIndex(of: "@") {
            realm = rest[rest.index(after: at)...]
            rest = rest[..<at]
        }
        var host: Substring?
        if let slash = rest.firstIndex(of: "/") {
            host = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }
        // KerberosName.getShortName with the DEFAULT rule: only the default realm's
        // principals are shortened; for any other no rule applies and the name stays whole.
        guard let realm, realm == options.defaultRealm ?? "" else { return principal }
        var identity = String(rest)
        if let host, !options.removeHostFromPrincipal { identity += "/" + host }
        if !options.removeRealmFromPrincipal { identity += "@" + realm }
        return identity
    }
}
