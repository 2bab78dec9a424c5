import Foundation
import ServerCore
import Testing

/// The subjects are what Java 17's `X500Principal.getName()` printed for the same certificates
/// (made with openssl), which is what ZooKeeper's X509AuthenticationProvider makes an x509 id.
struct X509SubjectTests {
    /// Subject `/C=DE/O=Comma, Inc. /OU=x+UID=42/CN= padded #1 /emailAddress=.../DC=example`:
    /// escapes, a multi-valued relative name, an attribute without an RFC 2253 keyword.
    static let oddCertificate = "MIICeTCCAh+gAwIBAgIUSp2LyWKPy/KaN05cGkckWYBUDvkwCgYIKoZIzj0EAwIwgZExCzAJBgNVBAYTAkRFMRUwEwYDVQQKDAxDb21tYSwgSW5jLiAxHDAIBgNVBAsMAXgwEAYKCZImiZPyLGQBAQwCNDIxFDASBgNVBAMMCyBwYWRkZWQgIzEgMR4wHAYJKoZIhvcNAQkBFg9vcHNAZXhhbXBsZS5jb20xFzAVBgoJkiaJk/IsZAEZFgdleGFtcGxlMB4XDTI2MTIwNjA5NDUwNVoXDTI2MTIwODA5NDUwNVowgZExCzAJBgNVBAYTAkRFMRUwEwYDVQQKDAxDb21tYSwgSW5jLiAxHDAIBgNVBAsMAXgwEAYKCZImiZPyLGQBAQwCNDIxFDASBgNVBAMMCyBwYWRkZWQgIzEgMR4wHAYJKoZIhvcNAQkBFg9vcHNAZXhhbXBsZS5jb20xFzAVBgoJkiaJk/IsZAEZFgdleGFtcGxlMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEiUkelN3wyjqlto1GhRAaEfb0b/aRFVaR3C2M8y8kuOCu9lFNAI45JO8k8q4+sZb61SUAHS+lGOt756PNIvbjDaNTMFEwHQYDVR0OBBYEFBtPaNwxBYSJ92512j8o70JYyEwzMB8GA1UdIwQYMBaAFBtPaNwxBYSJ92512j8o70JYyEwzMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIhAPaRVk0duJALBIFpVyJF2Id9c0pLvp49RKWcJDAjhn+qAiBjRGX5HrC65l5T4tBIxaHhzTHOhc5gsZQjUrTEJAwxyA=="
    static let oddSubject = ##"DC=example,1.2.840.113549.1.9.1=#160f6f7073406578616d706c652e636f6d,CN=\ padded \#1\ ,OU=x+UID=42,O=Comma\, Inc.\ ,C=DE"##

    static let clientCertificate = "MIIDYDCCAkigAwIBAgIUUzQjoYiksNtG+fheMxBesK6lddgwDQYJKoZIhvcNAQELBQAwMDEVMBMGA1UECgwMQXZpYXJ5IFRlc3RzMRcwFQYDVQQDDA5BdmlhcnkgVGVzdCBDQTAeFw0yNjEyMDYwOTQzMDBaFw0yNjEyMDgwOTQzMDBaMEsxCzAJBgNVBAYTAk5MMRUwEwYDVQQKDAxBdmlhcnkgVGVzdHMxEDAOBgNVBAsMB2ludGVyb3AxEzARBgNVBAMMCmNsaWVudCBvbmUwggEiMA0GCSqGSIb3DQEBAQUAA4IBDwAwggEKAoIBAQC9A2SnRBl8TMMhmluzYw4RKQqSHPhxdFsmLOX/C1Kn4q7bD4Yqq8EPE6jSVIYPChvD4wdF3ubOtB4N9yuoF5AqttA+RvT08Dkexr4MEdRkNBXb1jNcnQe889dt/jtEhgTcg7/QFkKhh7i+7yGh0W7600Kh+KGVUy41KSpXgb19oGj708eAkEzY9mBMhGwHXwhagAtOB0RFpm/JnQM5L+sCmGKl0UlMjAJImzG9zmvy7HuiEWV2mc/wBDu8Fm3oS7JeoHgEZYLlRaTINSPmCmAnK90SsFYUecunaaip6g9sgBthGcFnrFjNvxn+t+/w1Q/IpP6oOruCAu6k7Xiyvz95AgMBAAGjVzBVMBMGA1UdJQQMMAoGCCsGAQUFBwMCMB0GA1UdDgQWBBTmFllX50YadWveKF4YHPi4HpWLjzAfBgNVHSMEGDAWgBQmlJMljLm/4zdjny2rkccWgqIEHjANBgkqhkiG9w0BAQsFAAOCAQEAC64c7iJxOFROEEJ5TFl8PbpMP8gpugDdpeL2SnEfdlYH3a5voDSpV0SwU7ZHNmMhV+XyGldjCzRIozDUpjXHSJbKsoM9yMzgCia0rb1ighPmt0YgJCnXSffgDte1RESZokZT2+wMwG65g1fb7LD1WDBSJzM1d/uZSfVAdAnBBn+VphBDcRlwHVh2gClFcrU0nSHTPwbkjgXcDbb1H37BlmwZSO42lwOMdka0m/I6jqNl33I/7UxVZWQenJFXLma61YwULQQmH/OUO67l5e3txCCtGhLUMcY+8Q7h9GkrjcTd/dzTCsJefOnNvBFnKH3vD8UAOzqy/0fxbtmthRw+0Q=="

    @Test func subjectsAreSpelledAsJavaSpellsThem() throws {
        let odd = try #require(Data(base64Encoded: Self.oddCertificate))
        #expect(X509Subject.rfc2253(certificate: Array(odd)) == Self.oddSubject)
        let client = try #require(Data(base64Encoded: Self.clientCertificate))
        #expect(X509Subject.rfc2253(certificate: Array(client)) == "CN=client one,OU=interop,O=Aviary Tests,C=NL")
    }

    @Test func whatIsNotACertificateHasNoSubject() throws {
        let client = Array(try #require(Data(base64Encoded: Self.clientCertificate)))
        #expect(X509Subject.rfc2253(certificate: []) == nil)
        #expect(X509Subject.rfc2253(certificate: Array(client.prefix(200))) == nil, "cut short")
        #expect(X509Subject.rfc2253(certificate: Array("not a certificate".utf8)) == nil)
        var lying = client
        lying[1] = 0x84  // a length of four bytes that runs past the end
        #expect(X509Subject.rfc2253(certificate: lying) == nil)
    }

    /// The common name a hostname check falls back on: the subject's CN, unescaped.
    @Test func theCommonNameIsTheSubjectsCN() throws {
        let client = Array(try #require(Data(base64Encoded: Self.clientCertificate)))
        #expect(X509Subject.commonName(certificate: client) == "client one")
        let odd = Array(try #require(Data(base64Encoded: Self.oddCertificate)))
        #expect(X509Subject.commonName(certificate: odd) == " padded #1 ")
        #expect(X509Subject.commonName(certificate: Array(client.prefix(200))) == nil)
    }
}
