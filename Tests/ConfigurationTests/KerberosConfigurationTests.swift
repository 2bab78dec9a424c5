import Configuration
import Testing

/// What SASL GSSAPI reads from the configuration: the Kerberos login of the JAAS `Server`
/// section, the realm of krb5.conf, and the principal rules from system properties.
struct KerberosConfigurationTests {
    static let jaas = """
        Server {
            com.sun.security.auth.module.Krb5LoginModule required
            useKeyTab=true
            keyTab="/etc/zookeeper/zk.keytab"
            storeKey=true
            principal="zookeeper/zk1.example.com@EXAMPLE.COM";
        };
        """

    @Test func aKrb5LoginModuleSectionIsAKerberosLogin() throws {
        var (configuration, _) = try ZooConfigParser.parse("dataDir=/data\n", readFile: { _ in nil })
        try configuration.apply(systemProperties: ["java.security.auth.login.config": "/etc/jaas.conf",
                                                   "java.security.krb5.conf": "/etc/krb5-zk.conf",
                                                   "zookeeper.kerberos.removeRealmFromPrincipal": "true"])
        let login = try configuration.saslKerberosLogin(readFile: { _ in Self.jaas })
        #expect(login == KerberosLogin(keyTab: "/etc/zookeeper/zk.keytab", principal: "zookeeper/zk1.example.com@EXAMPLE.COM"))
        #expect(configuration.krb5ConfigFile == "/etc/krb5-zk.conf")
        #expect(configuration.kerberosRemoveRealmFromPrincipal && !configuration.kerberosRemoveHostFromPrincipal)
        // A digest section is no Kerberos login.
        let digest = "Server { org.apache.zookeeper.server.auth.DigestLoginModule required user_bob=\"x\"; };"
        #expect(try configuration.saslKerberosLogin(readFile: { _ in digest }) == nil)
        // A Kerberos login without a keytab cannot serve.
        let noKeytab = "Server { com.sun.security.auth.module.Krb5LoginModule required useTicketCache=true; };"
        #expect(throws: JAASError.self) { try configuration.saslKerberosLogin(readFile: { _ in noKeytab }) }
    }

    @Test func theDefaultRealmComesFromLibdefaults() {
        let text = """
            # comment
            [libdefaults]
                dns_lookup_kdc = false
                default_realm = EXAMPLE.COM
            [realms]
                OTHER.ORG = {
                    default_realm = NOT.THIS
                }
            """
        #expect(Krb5Configuration.defaultRealm(in: text) == "EXAMPLE.COM")
        #expect(Krb5Configuration.defaultRealm(in: "[realms]\n default_realm = X\n") == nil)
    }
}
