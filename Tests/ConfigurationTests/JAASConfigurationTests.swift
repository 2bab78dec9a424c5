import Configuration
import Testing

struct JAASConfigurationTests {
    @Test func readsSectionsModulesAndOptionsAsJavaDoes() throws {
        let jaas = try JAASConfiguration(parsing: """
            /* servers */
            Server {
                org.apache.zookeeper.server.auth.DigestLoginModule required
                user_super="admin secret"
                user_bob="p;w{}=\\"x";   // punctuation inside quotes is a value
            };
            Client { org.apache.zookeeper.server.auth.DigestLoginModule required username="bob" password=plain; };
            QuorumServer {
                org.apache.zookeeper.server.auth.DigestLoginModule sufficient user_test="t";
            };
            """)
        #expect(jaas.digestUsers(section: "Server") == ["super": "admin secret", "bob": #"p;w{}="x"#])
        #expect(jaas.sections["Client"]?.first?.options == ["username": "bob", "password": "plain"])
        #expect(jaas.sections["QuorumServer"]?.first?.flag == "sufficient")
        #expect(jaas.digestUsers(section: "Missing").isEmpty)
    }

    @Test func malformedFilesSayWhere() {
        for text in ["Server {", "Server { m required user_a=\"x\" ", "Server { m mandatory; };", "Server { m required a; };",
                     "Server { m required a=\"open", "/* open"] {
            #expect(throws: JAASError.self, "\(text)") { try JAASConfiguration(parsing: text) }
        }
    }

    @Test func theServerSectionAndEnforcementAreChecked() throws {
        var (configuration, _) = try ZooConfigParser.parse("enforce.auth.enabled=true", readFile: { _ in nil })
        #expect(throws: JAASError.self) { try configuration.checkEnforcedAuthentication() }
        try configuration.apply(systemProperties: [
            "java.security.auth.login.config": "/etc/jaas.conf", "zookeeper.enforce.auth.schemes": "sasl, digest",
        ])
        try configuration.checkEnforcedAuthentication()
        #expect(configuration.enforcedAuthSchemes == ["sasl", "digest"])
        let users = try configuration.saslUsers(readFile: { _ in #"Server { x.DigestLoginModule required user_bob="pw"; };"# })
        #expect(users == ["bob": "pw"])
        configuration.saslServerSection = "Other"
        #expect(throws: JAASError.self) { try configuration.saslUsers(readFile: { _ in "Server { x.DigestLoginModule required; };" }) }
        #expect(throws: JAASError.self) { try configuration.saslUsers(readFile: { _ in nil }) }
    }
}

struct QuorumSASLCredentialsTests {
    static let jaas = """
        QuorumServer { org.apache.zookeeper.server.auth.DigestLoginModule required user_member="pw"; };
        QuorumLearner { org.apache.zookeeper.server.auth.DigestLoginModule required username="member" password="pw"; };
        """

    @Test func theSectionsAMemberNeedsAreRead() throws {
        var (configuration, _) = try ZooConfigParser.parse(
            "quorum.auth.enableSasl=true\nquorum.auth.learnerRequireSasl=true\nquorum.auth.serverRequireSasl=true", readFile: { _ in nil })
        #expect(configuration.quorumSaslEnabled && configuration.quorumLearnerRequireSasl && configuration.quorumServerRequireSasl)
        #expect(throws: JAASError.self, "no JAAS file") { try configuration.quorumSASLCredentials(readFile: { _ in Self.jaas }) }
        configuration.jaasConfigFile = "/etc/jaas.conf"
        let credentials = try configuration.quorumSASLCredentials(readFile: { _ in Self.jaas })
        #expect(credentials?.acceptedUsers == ["member": "pw"] && credentials?.learner?.username == "member")
        #expect(throws: JAASError.self, "no QuorumLearner section") {
            try configuration.quorumSASLCredentials(readFile: { _ in #"QuorumServer { x.DigestLoginModule required user_a="b"; };"# })
        }
        // Without learnerRequireSasl a member does not authenticate when it dials.
        configuration.quorumLearnerRequireSasl = false
        #expect(try configuration.quorumSASLCredentials(readFile: { _ in Self.jaas })?.learner == nil)
        // A JAAS file for the quorum alone means no client SASL, as in ZooKeeper.
        #expect(try configuration.saslUsers(readFile: { _ in Self.jaas }) == nil)
    }

    /// Kerberos between members is not done: a Kerberos quorum section stops the start with
    /// that said, rather than with every learner failing DIGEST-MD5.
    @Test func aKerberosQuorumSectionIsRefusedPlainly() throws {
        var (configuration, _) = try ZooConfigParser.parse("quorum.auth.enableSasl=true\n", readFile: { _ in nil })
        configuration.jaasConfigFile = "/etc/jaas.conf"
        let kerberos = """
            QuorumServer { com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true keyTab="/k" principal="zkquorum/h@R"; };
            QuorumLearner { org.apache.zookeeper.server.auth.DigestLoginModule required username="member" password="pw"; };
            """
        do {
            _ = try configuration.quorumSASLCredentials(readFile: { _ in kerberos })
            Issue.record("a Kerberos QuorumServer section was taken")
        } catch {
            #expect(error.description.contains("QuorumServer logs in with Kerberos"))
        }
    }
}
