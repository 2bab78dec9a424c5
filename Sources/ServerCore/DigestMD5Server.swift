import Crypto
import Foundation

/// The server side of SASL DIGEST-MD5 (RFC 2831) as ZooKeeper's `SaslServer` runs it for
/// clients: protocol `zookeeper`, server name and realm `zk-sasl-md5`, `qop=auth` only (no
/// integrity or privacy layer), passwords from the JAAS `Server` section's `user_<name>` options.
///
/// A pure state machine: the client's first token is empty and gets the challenge; its digest
/// response gets `rspauth=...` and completes the exchange with the client's identity; anything
/// else is a failure that ends it.
public struct DigestMD5Server: Sendable {
    /// The client port's realm and digest-uri (`zookeeper`, `zk-sasl-md5`).
    public static let realm = "zk-sasl-md5"
    public static let digestURI = "zookeeper/zk-sasl-md5"
    /// The quorum's (`QuorumAuth`: protocol `zookeeper-quorum`, server `zk-quorum-sasl-md5`).
    public static let quorumRealm = "zk-quorum-sasl-md5"
    public static let quorumDigestURI = "zookeeper-quorum/zk-quorum-sasl-md5"

    private let realm: String
    private let digestURI: String

    /// Why an exchange failed; says nothing of the password.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    private enum Stage: Sendable { case start, challenged, complete, failed }

    private let users: [String: String]
    private let nonce: String
    private var stage = Stage.start
    /// The client's authorization id (its user name unless it named another), once complete.
    public private(set) var authorizationID: String?

    /// `users` maps user names to passwords; `nonce` must be unpredictable (random bytes in
    /// base64, as Java's server makes it).
    public init(users: [String: String], nonce: String, realm: String = DigestMD5Server.realm,
                digestURI: String = DigestMD5Server.digestURI) {
        self.users = users
        self.nonce = nonce
        self.realm = realm
        self.digestURI = digestURI
    }

    /// A nonce: 32 random bytes in base64, as Java's server makes one. The shell's source of
    /// nonces (``ServerCoreConfiguration/saslNonce``); the core itself draws no randomness.
    public static func randomNonce() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString()
    }

    /// Whether the client has been authenticated.
    public var isComplete: Bool { stage == .complete }

    /// The server's answer to the client's `token`.
    public mutating func evaluate(_ token: [UInt8]) throws(Failure) -> [UInt8] {
        switch stage {
        case .start:
            guard token.isEmpty else { try fail("the first DIGEST-MD5 message is the server's") }
            stage = .challenged
            return Array(#"realm="\#(realm)",nonce="\#(nonce)",qop="auth",charset=utf-8,algorithm=md5-sess"#.utf8)
        case .challenged:
            return try answer(token)
        case .complete, .failed:
            try fail("the DIGEST-MD5 exchange is over")
        }
    }

    private mutating func fail(_ reason: String) throws(Failure) -> Never {
        stage = .failed
        throw Failure(reason)
    }

    private mutating func answer(_ token: [UInt8]) throws(Failure) -> [UInt8] {
        guard token.count <= 4096, let text = String(validating: token, as: UTF8.self),
              let directives = Self.directives(text) else {
            try fail("the client's DIGEST-MD5 response is malformed")
        }
        guard let username = directives["username"], let response = directives["response"],
              let cnonce = directives["cnonce"], let nc = directives["nc"] else {
            try fail("the client's DIGEST-MD5 response lacks username, cnonce, nc or response")
        }
        guard directives["nonce"] == nonce else { try fail("the client's DIGEST-MD5 response answers another nonce") }
        guard nc.count == 8, UInt32(nc, radix: 16) == 1 else { try fail("nonce count \(nc) is not 00000001") }
        let qop = directives["qop"] ?? "auth"
        guard qop == "auth" else { try fail("qop \(qop) is not offered (only auth)") }
        guard directives["digest-uri"] == digestURI else {
            try fail("digest-uri \(directives["digest-uri"] ?? "(none)") is not \(digestURI)")
        }
        let clientRealm = directives["realm"] ?? ""
        guard clientRealm.isEmpty || clientRealm == realm else { try fail("realm \(clientRealm) is not \(realm)") }
        guard let password = users[username] else { try fail("no such user: \(username)") }
        let authzid = directives["authzid"]
        let expected = Self.responseValue(username: username, realm: clientRealm, password: password, nonce: nonce, cnonce: cnonce,
                                          nc: nc, qop: qop, authzid: authzid, a2Prefix: "AUTHENTICATE", digestURI: digestURI)
        guard expected == response.lowercased() else { try fail("wrong password for user \(username)") }
        stage = .complete
        authorizationID = authzid ?? username
        let rspauth = Self.responseValue(username: username, realm: clientRealm, password: password, nonce: nonce, cnonce: cnonce,
                                         nc: nc, qop: qop, authzid: authzid, a2Prefix: "", digestURI: digestURI)
        return Array("rspauth=\(rspauth)".utf8)
    }

    /// The `response` (or, with an empty prefix, `rspauth`) value of RFC 2831 section 2.1.2.1
    /// for `md5-sess` and `qop=auth`.
    static func responseValue(username: String, realm: String, password: String, nonce: String, cnonce: String,
                              nc: String, qop: String, authzid: String?, a2Prefix: String,
                              digestURI: String = DigestMD5Server.digestURI) -> String {
        let secret = Insecure.MD5.hash(data: Array("\(username):\(realm):\(password)".utf8))
        var a1 = Array(secret)
        a1 += Array(":\(nonce):\(cnonce)".utf8)
        if let authzid { a1 += Array(":\(authzid)".utf8) }
        let a2 = "\(a2Prefix):\(digestURI)"
        let ha1 = hex(Insecure.MD5.hash(data: a1))
        let ha2 = hex(Insecure.MD5.hash(data: Array(a2.utf8)))
        return hex(Insecure.MD5.hash(data: Array("\(ha1):\(nonce):\(nc):\(cnonce):\(qop):\(ha2)".utf8)))
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        digest.map { String(format: "%02x", $0) }.joined()
    }

    /// The `name=value` directives of a digest message: values bare or quoted (with `\`
    /// escapes), separated by commas; nil if malformed or a directive repeats.
    static func directives(_ text: String) -> [String: String]? {
        var result: [String: String] = [:]
        var index = text.startIndex
        func skipSpace() { while index < text.endIndex, text[index] == " " || text[index] == "\t" || text[index] == "," { index = text.index(after: index) } }
        skipSpace()
        while index < text.endIndex {
            guard let equals = text[index...].firstIndex(of: "=") else { return nil }
            let name = text[index..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            guard !name.isEmpty else { return nil }
            index = text.index(after: equals)
            var value = ""
            if index < text.endIndex, text[index] == "\"" {
                index = text.index(after: index)
                var closed = false
                while index < text.endIndex {
                    let character = text[index]
                    index = text.index(after: index)
                    if character == "\\" {
                        guard index < text.endIndex else { return nil }
                        value.append(text[index])
                        index = text.index(after: index)
                    } else if character == "\"" {
                        closed = true
                        break
                    } else {
                        value.append(character)
                    }
                }
                guard closed else { return nil }
            } else {
                let end = text[index...].firstIndex(of: ",") ?? text.endIndex
                value = text[index..<end].trimmingCharacters(in: .whitespaces)
                index = end
            }
            guard result.updateValue(value, forKey: name) == nil else { return nil }
            skipSpace()
        }
        return result
    }
}
