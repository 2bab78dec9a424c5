import Foundation

/// A JAAS login configuration file, as Java reads one (`ConfigFile`) and ZooKeeper users write
/// it: named sections, each a list of login modules with a control flag and `key=value`
/// options, `//` and `/* */` comments.
///
///     Server {
///         org.apache.zookeeper.server.auth.DigestLoginModule required
///         user_super="adminsecret"
///         user_bob="bobsecret";
///     };
public struct JAASConfiguration: Sendable, Equatable {
    /// One login module of a section.
    public struct LoginModule: Sendable, Equatable {
        public var className: String
        public var flag: String
        public var options: [String: String]
    }

    /// The sections by name.
    public var sections: [String: [LoginModule]]

    /// Parses the text of a JAAS file; the error says where it stopped making sense.
    public init(parsing text: String) throws(JAASError) {
        var tokens = try Self.tokens(text)
        tokens.reverse()
        var sections: [String: [LoginModule]] = [:]
        func next(_ expected: String) throws(JAASError) -> Token {
            guard let token = tokens.popLast() else { throw JAASError("the file ends where \(expected) was expected") }
            return token
        }
        while !tokens.isEmpty {
            let name = try next("a section name").text
            guard try next("{").is("{") else { throw JAASError("expected { after section \(name)") }
            var modules: [LoginModule] = []
            while let token = tokens.last, !token.is("}") {
                let className = try next("a login module").text
                let flag = try next("a control flag (required, requisite, sufficient or optional)").text
                guard ["required", "requisite", "sufficient", "optional"].contains(flag.lowercased()) else {
                    throw JAASError("section \(name): \(flag) is not a control flag (required, requisite, sufficient or optional)")
                }
                var options: [String: String] = [:]
                while true {
                    let key = try next("an option or ;")
                    if key.is(";") { break }
                    guard try next("=").is("=") else { throw JAASError("section \(name): option \(key.text) has no =") }
                    options[key.text] = try next("the value of \(key.text)").text
                }
                modules.append(LoginModule(className: className, flag: flag.lowercased(), options: options))
            }
            guard try next("}").is("}") else { throw JAASError("section \(name) does not end with }") }
            if tokens.last?.is(";") == true { tokens.removeLast() }
            sections[name] = modules
        }
        self.sections = sections
    }

    /// The `user_<name>` passwords of a section's `DigestLoginModule` (ZooKeeper's digest users
    /// for SASL DIGEST-MD5); empty when the section has none.
    public func digestUsers(section: String) -> [String: String] {
        var users: [String: String] = [:]
        for module in sections[section] ?? [] where module.className.hasSuffix("DigestLoginModule") {
            for (key, value) in module.options where key.hasPrefix("user_") {
                users[String(key.dropFirst("user_".count))] = value
            }
        }
        return users
    }

    /// A word, a quoted value (never punctuation, whatever it holds), or one of `{};=`.
    private struct Token {
        var text: String
        var quoted = false
        func `is`(_ punctuation: String) -> Bool { !quoted && text == punctuation }
    }

    private static func tokens(_ text: String) throws(JAASError) -> [Token] {
        var tokens: [Token] = []
        let characters = Array(text)
        var index = 0
        var word = ""
        func flush() {
            if !word.isEmpty { tokens.append(Token(text: word)); word = "" }
        }
        while index < characters.count {
            let character = characters[index]
            if character == "/" && index + 1 < characters.count && characters[index + 1] == "/" {
                flush()
                while index < characters.count && characters[index] != "\n" { index += 1 }
                continue
            }
            if character == "/" && index + 1 < characters.count && characters[index + 1] == "*" {
                flush()
                index += 2
                while index + 1 < characters.count && !(characters[index] == "*" && characters[index + 1] == "/") { index += 1 }
                guard index + 1 < characters.count else { throw JAASError("a /* comment is not closed") }
                index += 2
                continue
            }
            if character == "\"" {
                flush()
                index += 1
                var value = ""
                while index < characters.count && characters[index] != "\"" {
                    if characters[index] == "\\" && index + 1 < characters.count { index += 1 }
                    value.append(characters[index])
                    index += 1
                }
                guard index < characters.count else { throw JAASError("a quoted value is not closed") }
                tokens.append(Token(text: value, quoted: true))
                index += 1
                continue
            }
            if "{};=".contains(character) {
                flush()
                tokens.append(Token(text: String(character)))
            } else if character.isWhitespace {
                flush()
            } else {
                word.append(character)
            }
            index += 1
        }
        flush()
        return tokens
    }
}

/// A JAAS file that cannot be read: where and why (never a password).
public struct JAASError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

extension ServerConfiguration {
    /// The JAAS file (`java.security.auth.login.config`) read and parsed now, with its path;
    /// nil when none is configured. Errors say which file and where, never a password.
    func jaasFile(readFile: (String) -> String?) throws(JAASError) -> (path: String, jaas: JAASConfiguration)? {
        guard let path = jaasConfigFile else { return nil }
        guard let text = readFile(path) else { throw JAASError("cannot read the JAAS file \(path) (java.security.auth.login.config)") }
        do {
            return (path, try JAASConfiguration(parsing: text))
        } catch {
            throw JAASError("the JAAS file \(path): \(error.description)")
        }
    }

    /// The SASL DIGEST-MD5 users of the JAAS file's server section, read now; nil when no JAAS
    /// file is configured, or it has no `Server` section and no other was named. A file that
    /// cannot be read or parsed, or that lacks a section named on purpose, is an error.
    public func saslUsers(readFile: (String) -> String? = { try? String(contentsOfFile: $0, encoding: .utf8) })
        throws(JAASError) -> [String: String]? {
        guard let (path, jaas) = try jaasFile(readFile: readFile) else { return nil }
        guard jaas.sections[saslServerSection] != nil else {
            // As ZooKeeper's configureSaslLogin: a file without the default section (one for
            // the quorum only) means no client SASL; a section named on purpose must be there.
            if saslServerSection == "Server" { return nil }
            throw JAASError("the JAAS file \(path) has no section \(saslServerSection) (zookeeper.sasl.serverconfig) for client SASL")
        }
        return jaas.digestUsers(section: saslServerSection)
    }

    /// The Kerberos login of the JAAS file's server section, when it logs in with
    /// `Krb5LoginModule` (ZooKeeper then offers SASL GSSAPI instead of DIGEST-MD5); nil
    /// otherwise. A Kerberos login without a keytab is an error: a server cannot type a password.
    public func saslKerberosLogin(readFile: (String) -> String? = { try? String(contentsOfFile: $0, encoding: .utf8) })
        throws(JAASError) -> KerberosLogin? {
        guard let (path, jaas) = try jaasFile(readFile: readFile),
              let module = jaas.sections[saslServerSection]?.first(where: { $0.className.hasSuffix("Krb5LoginModule") }) else { return nil }
        guard let keyTab = module.options["keyTab"], !keyTab.isEmpty else {
            throw JAASError("the JAAS file \(path): section \(saslServerSection) logs in with Kerberos but names no keyTab (useKeyTab=true keyTab=\"...\")")
        }
        return KerberosLogin(keyTab: keyTab, principal: module.options["principal"])
    }

    /// Whether the enforced-authentication settings can be used, as ZooKeeper's
    /// `AuthenticationHelper` checks them at start; the error says what to change.
    public func checkEnforcedAuthentication() throws(JAASError) {
        guard let schemes = enforcedAuthSchemes else { return }
        guard !schemes.isEmpty else { throw JAASError("enforce.auth.enabled is true: enforce.auth.schemes must be configured") }
        for scheme in schemes where !["digest", "ip", "x509", "sasl"].contains(scheme) {
            throw JAASError("enforce.auth.schemes: authentication scheme \(scheme) is not available (digest, ip, x509, sasl)")
        }
        if schemes == ["sasl"] && jaasConfigFile == nil {
            throw JAASError("enforce.auth.schemes=sasl needs a JAAS file (-Djava.security.auth.login.config) with a \(saslServerSection) section")
        }
    }
}

/// A Kerberos login from a JAAS section (`Krb5LoginModule`): where the keys are and whose.
public struct KerberosLogin: Sendable, Equatable {
    public var keyTab: String
    public var principal: String?
    public init(keyTab: String, principal: String?) {
        self.keyTab = keyTab
        self.principal = principal
    }
}

/// What a member needs for quorum SASL: the users it accepts and the credentials it presents.
public struct QuorumSASLCredentials: Sendable, Equatable {
    /// The `QuorumServer` section's users (`user_<name>`).
    public var acceptedUsers: [String: String]
    /// The `QuorumLearner` section's `username` and `password`; nil when this member does not
    /// authenticate when it dials.
    public var learner: (username: String, password: String)?

    public static func == (a: Self, b: Self) -> Bool {
        a.acceptedUsers == b.acceptedUsers && a.learner?.username == b.learner?.username && a.learner?.password == b.learner?.password
    }
}

extension ServerConfiguration {
    /// The quorum SASL credentials from the JAAS file, read now; nil unless
    /// `quorum.auth.enableSasl`. The sections a member needs must be there.
    public func quorumSASLCredentials(readFile: (String) -> String? = { try? String(contentsOfFile: $0, encoding: .utf8) })
        throws(JAASError) -> QuorumSASLCredentials? {
        guard quorumSaslEnabled else { return nil }
        guard let (path, jaas) = try jaasFile(readFile: readFile) else {
            throw JAASError("quorum.auth.enableSasl needs a JAAS file (-Djava.security.auth.login.config) with \(quorumServerLoginContext) and \(quorumLearnerLoginContext) sections")
        }
        guard jaas.sections[quorumServerLoginContext] != nil else {
            throw JAASError("the JAAS file \(path) has no section \(quorumServerLoginContext) (quorum.auth.server.saslLoginContext)")
        }
        for section in [quorumServerLoginContext, quorumLearnerLoginContext]
        where jaas.sections[section]?.contains(where: { $0.className.hasSuffix("Krb5LoginModule") }) == true {
            throw JAASError("the JAAS file \(path): section \(section) logs in with Kerberos, and Aviary does not do quorum SASL with Kerberos (GSSAPI) yet; use DigestLoginModule sections (DIGEST-MD5) between members")
        }
        var learner: (String, String)?
        if quorumLearnerRequireSasl {
            guard let module = jaas.sections[quorumLearnerLoginContext]?.first(where: { $0.className.hasSuffix("DigestLoginModule") }),
                  let username = module.options["username"], let password = module.options["password"] else {
                throw JAASError("the JAAS file \(path) has no \(quorumLearnerLoginContext) section with a DigestLoginModule username and password (quorum.auth.learnerRequireSasl)")
            }
            learner = (username, password)
        }
        return QuorumSASLCredentials(acceptedUsers: jaas.digestUsers(section: quorumServerLoginContext), learner: learner)
    }
}
