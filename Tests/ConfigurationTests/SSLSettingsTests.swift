import Configuration
import Testing

struct SSLSettingsTests {
    @Test func zooCfgTakesTheClientTLSKeys() throws {
        let text = """
            clientPort=2181
            secureClientPort=2281
            secureClientPortAddress=127.0.0.1
            client.portUnification=true
            ssl.keyStore.location=/etc/zk/server.pem
            ssl.keyStore.password=s3cret
            ssl.trustStore.location=/etc/zk/ca.p12
            ssl.trustStore.type=pkcs12
            ssl.clientAuth=want
            ssl.enabledProtocols=TLSv1.2, TLSv1.3
            ssl.ciphersuites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
            ssl.handshakeDetectionTimeoutMillis=2000
            ssl.quorum.keyStore.location=/etc/zk/quorum.pem
            sslQuorum=true
            portUnification=true
            """
        let (configuration, _) = try ZooConfigParser.parse(text, readFile: { _ in nil })
        #expect(configuration.secureClientPort == 2281 && configuration.secureClientPortAddress == "127.0.0.1")
        #expect(configuration.clientPortUnification)
        let ssl = configuration.clientSSL
        #expect(ssl.keyStoreLocation == "/etc/zk/server.pem" && ssl.keyStorePassword == "s3cret")
        #expect(ssl.effectiveKeyStoreType == .pem, "inferred from the file name")
        #expect(ssl.effectiveTrustStoreType == .pkcs12, "given, in any case")
        #expect(ssl.clientAuth == .want)
        #expect(ssl.protocols == ["TLSv1.2", "TLSv1.3"])
        #expect(ssl.cipherSuites == ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"])
        #expect(ssl.handshakeDetectionTimeoutMillis == 2000)
        #expect(configuration.sslQuorum && configuration.quorumPortUnification)
        #expect(configuration.quorumSSL.keyStoreLocation == "/etc/zk/quorum.pem" && configuration.quorumSSL.clientAuth == .need)
    }

    @Test func defaultsAreZooKeepers() throws {
        let (configuration, _) = try ZooConfigParser.parse("secureClientPort=2281", readFile: { _ in nil })
        #expect(configuration.clientSSL.clientAuth == .need)
        #expect(configuration.clientSSL.protocols == ["TLSv1.2"])
        #expect(configuration.clientSSL.hostnameVerification)
        #expect(configuration.clientSSL.handshakeDetectionTimeoutMillis == 5000)
        #expect(!configuration.clientPortUnification)
    }

    @Test func badValuesNameTheirLine() {
        for line in ["ssl.clientAuth=maybe", "ssl.keyStore.type=CAB", "secureClientPort=70000", "ssl.hostnameVerification=yes"] {
            #expect(throws: ConfigurationError.self, "\(line)") {
                try ZooConfigParser.parse("tickTime=2000\n" + line, readFile: { _ in nil })
            }
            do {
                _ = try ZooConfigParser.parse("tickTime=2000\n" + line, readFile: { _ in nil })
            } catch {
                #expect(error.line == 2, "\(line): \(error)")
            }
        }
    }

    @Test func systemPropertiesWinOverZooCfg() throws {
        var (configuration, _) = try ZooConfigParser.parse("ssl.clientAuth=need", readFile: { _ in nil })
        try configuration.apply(systemProperties: [
            "zookeeper.ssl.clientAuth": "none", "zookeeper.ssl.keyStore.location": "/k.p12",
            "zookeeper.X509AuthenticationProvider.superUser": "CN=admin,O=Example",
        ])
        #expect(configuration.clientSSL.clientAuth == .none)
        #expect(configuration.clientSSL.effectiveKeyStoreType == .pkcs12)
        #expect(configuration.x509SuperUser == "CN=admin,O=Example")
        #expect(throws: ConfigurationError.self) {
            try configuration.apply(systemProperties: ["zookeeper.ssl.clientAuth": "sometimes"])
        }
    }

    @Test func secretsAreRedacted() {
        let text = "clientPort=2181\nssl.keyStore.password=s3cret\n# ssl.trustStore.password=old\nssl.quorum.trustStore.password : x"
        let shown = SSLSettings.redacted(text)
        #expect(!shown.contains("s3cret") && !shown.contains(": x") && !shown.contains("old"))
        #expect(shown.contains("ssl.keyStore.password=********") && shown.contains("clientPort=2181"))
        #expect(shown.contains("# ssl.trustStore.password=********"), "a comment's password too")
    }
}
