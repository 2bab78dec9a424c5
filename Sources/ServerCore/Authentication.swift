import Crypto
import Foundation
import ZooKeeperProtocol

/// The authentication schemes ZooKeeper registers by default (digest and ip), x509 (a TLS
/// client's certificate subject, see ``X509Subject``), sasl (a SASL identity, see
/// ``DigestMD5Server``), the super user, and ACL checks (`ZooKeeperServer.checkACL`, `PrepRequestProcessor.fixupACL`).
public enum Authentication {
    /// `user:base64(sha1(user:password))` for `user:password`
    /// (`DigestAuthenticationProvider.generateDigest`).
    public static func digest(_ userPassword: String) -> String {
        let user = userPassword.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        let hash = Insecure.SHA1.hash(data: Array(userPassword.utf8))
        return user + ":" + Data(hash).base64EncodedString()
    }

    /// The identities an auth packet adds, or nil when the scheme is unknown (AuthFailed).
    public static func authenticate(scheme: String, auth: [UInt8], clientAddress: String, superDigest: String?) -> [Id]? {
        switch scheme {
        case "digest":
            let id = digest(String(decoding: auth, as: UTF8.self))
            var ids = [Id(scheme: "digest", id: id)]
            if let superDigest, superDigest == id { ids.insert(Id(scheme: "super", id: ""), at: 0) }
            return ids
        case "ip":
            return [Id(scheme: "ip", id: clientAddress)]
        default:
            return nil
        }
    }

    /// Whether `id` is well formed for its scheme (`AuthenticationProvider.isValid`).
    static func isValid(_ id: Id) -> Bool {
        switch id.scheme {
        case "digest": return id.id.split(separator: ":", omittingEmptySubsequences: false).count == 2
        case "ip": return IPAddressMask(id.id) != nil
        case "x509", "sasl": return !id.id.isEmpty
        default: return false
        }
    }

    /// Validates an ACL a client sent and expands `auth` entries into the caller's ids.
    public static func fixup(_ acl: [ACL], authInfo: [Id]) throws(KeeperError) -> [ACL] {
        if acl.isEmpty { throw .invalidACL }
        var result: [ACL] = []
        for entry in uniqued(acl) {
            if entry.id.scheme == "world" && entry.id.id == "anyone" {
                result.append(entry)
            } else if entry.id.scheme == "auth" {
                // The schemes whose providers say they authenticate (`isAuthenticated`).
                let authenticated = authInfo.filter { ["digest", "x509", "sasl"].contains($0.scheme) }
                if authenticated.isEmpty { throw .invalidACL }
                for id in authenticated { result.append(ACL(perms: entry.perms, id: id)) }
            } else if isValid(entry.id) {
                result.append(entry)
            } else {
                throw .invalidACL
            }
        }
        return uniqued(result)
    }

    private static func uniqued(_ acl: [ACL]) -> [ACL] {
        var seen = Set<ACL>()
        return acl.filter { seen.insert($0).inserted }
    }

    /// Whether `authInfo` grants `permission` under `acl`.
    public static func permits(_ acl: [ACL], _ permission: Permissions, authInfo: [Id]) -> Bool {
        if acl.isEmpty { return true }
        if authInfo.contains(where: { $0.scheme == "super" }) { return true }
        for entry in acl where entry.perms & permission.rawValue != 0 {
            if entry.id.scheme == "world" && entry.id.id == "anyone" { return true }
            for id in authInfo where id.scheme == entry.id.scheme {
                switch id.scheme {
                case "digest", "x509", "sasl": if id.id == entry.id.id { return true }
                case "ip": if IPAddressMask(entry.id.id)?.contains(id.id) == true { return true }
                default: break
                }
            }
        }
        return false
    }

    /// The `whoAmI` view of an identity: digest ids show only the user name.
    public static func clientInfo(_ id: Id) -> ClientInfo {
        if id.scheme == "digest", let user = id.id.split(separator: ":", maxSplits: 1).first {
            return ClientInfo(authScheme: id.scheme, user: String(user))
        }
        return ClientInfo(authScheme: id.scheme, user: id.id)
    }
}

/// An `ip` ACL id: an address with an optional prefix length (`IPAuthenticationProvider`).
struct IPAddressMask {
    let bytes: [UInt8]
    let prefixBits: Int

    init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let bytes = Self.parse(String(parts[0])) else { return nil }
        self.bytes = bytes
        if parts.count == 2 {
            guard let bits = Int(parts[1]), bits >= 0, bits <= bytes.count * 8 else { return nil }
            prefixBits = bits
        } else {
            prefixBits = bytes.count * 8
        }
    }

    func contains(_ address: String) -> Bool {
        guard let other = Self.parse(address), other.count == bytes.count else { return false }
        var remaining = prefixBits
        for index in 0..<bytes.count where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if bytes[index] & mask != other[index] & mask { return false }
            remaining -= bits
        }
        return true
    }

    /// An IPv4 address: ZooKeeper 3.8's provider reads no other (an IPv6 ACL is InvalidACL
    /// and an IPv6 client matches no `ip` ACL), and Aviary keeps the same ACL language.
    static func parse(_ text: String) -> [UInt8]? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var result: [UInt8] = []
        for octet in octets {
            guard let value = UInt8(octet) else { return nil }
            result.append(value)
        }
        return result
    }
}
