import Foundation

/// The client side of SASL DIGEST-MD5 (RFC 2831) as a ZooKeeper learner runs it against a
/// quorum member (`SaslQuorumAuthLearner` with the JAAS `QuorumLearner` section): answers the
/// server's challenge with the digest of its password, then checks the server's `rspauth`,
/// which proves the server knows the password too.
public struct DigestMD5Client: Sendable {
    /// Why an exchange failed; says nothing of the password.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    private let username: String
    private let password: String
    private let digestURI: String
    private let cnonce: String
    /// What the server must answer with, once the response is sent.
    private var expectedRspauth: String?

    public init(username: String, password: String, digestURI: String = DigestMD5Server.quorumDigestURI, cnonce: String) {
        self.username = username
        self.password = password
        self.digestURI = digestURI
        self.cnonce = cnonce
    }

    /// The response to the server's `challenge`.
    public mutating func respond(to challenge: [UInt8]) throws(Failure) -> [UInt8] {
        guard let text = String(validating: challenge, as: UTF8.self), let directives = DigestMD5Server.directives(text),
              let nonce = directives["nonce"] else {
            throw Failure("the server's DIGEST-MD5 challenge is malformed")
        }
        let qops = (directives["qop"] ?? "auth").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard qops.contains("auth") else { throw Failure("the server offers no qop=auth") }
        let realm = directives["realm"] ?? ""
        let nc = "00000001"
        let response = DigestMD5Server.responseValue(username: username, realm: realm, password: password, nonce: nonce, cnonce: cnonce,
                                                     nc: nc, qop: "auth", authzid: nil, a2Prefix: "AUTHENTICATE", digestURI: digestURI)
        expectedRspauth = DigestMD5Server.responseValue(username: username, realm: realm, password: password, nonce: nonce,
                                                        cnonce: cnonce, nc: nc, qop: "auth", authzid: nil, a2Prefix: "",
                                                        digestURI: digestURI)
        func quoted(_ value: String) -> String {
            "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        var parts = ["charset=utf-8", "username=\(quoted(username))"]
        if !realm.isEmpty { parts.append("realm=\(quoted(realm))") }
        parts += ["nonce=\(quoted(nonce))", "nc=\(nc)", "cnonce=\(quoted(cnonce))", "digest-uri=\(quoted(digestURI))",
                  "maxbuf=65536", "response=\(response)", "qop=auth"]
        return Array(parts.joined(separator: ",").utf8)
    }

    /// Checks the server's final message (`rspauth=...`).
    public func verify(_ final: [UInt8]) throws(Failure) {
        guard let expectedRspauth, let text = String(validating: final, as: UTF8.self),
              let directives = DigestMD5Server.directives(text), directives["rspauth"] == expectedRspauth else {
            throw Failure("the server's rspauth does not prove it knows the password")
        }
    }
}
