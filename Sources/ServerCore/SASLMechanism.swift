/// One connection's SASL exchange on the server side, whatever the mechanism: DIGEST-MD5
/// (``DigestMD5Server``) or GSSAPI (``GSSAPIServer``, Kerberos).
public protocol SASLMechanism: Sendable {
    /// Takes the client's token and gives the next one for it: nil for none (Java's null, which
    /// a GSSAPI client takes for the last packet); throws when the client fails to authenticate.
    mutating func respond(to token: [UInt8]) throws -> [UInt8]?
    /// Whether the client has authenticated.
    var isComplete: Bool { get }
    /// The identity the client authenticated as (its `sasl` id), once complete.
    var authorizationID: String? { get }
}

extension DigestMD5Server: SASLMechanism {
    public mutating func respond(to token: [UInt8]) throws -> [UInt8]? {
        try evaluate(token)
    }
}
