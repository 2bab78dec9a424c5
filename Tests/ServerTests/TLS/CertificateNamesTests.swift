import NIOCore
import Testing

@testable import Server

/// How an accepted quorum peer's address is matched against the names its certificate gives
/// (``QuorumPeerAddressCheck``), as ZooKeeper's `ZKHostnameVerifier` matches them.
struct CertificateNamesTests {
    @Test func anIPAlternativeNameMatchesThatAddressOnly() throws {
        let names = CertificateNames(addresses: [[127, 0, 0, 2], [127, 0, 0, 3]], dnsNames: [], commonName: "member")
        #expect(names.matches(address: try SocketAddress(ipAddress: "127.0.0.3", port: 4000)))
        #expect(!names.matches(address: try SocketAddress(ipAddress: "127.0.0.4", port: 4000)))
        // An IPv4 peer on a dual-stack socket.
        #expect(names.matches(address: try SocketAddress(ipAddress: "::ffff:127.0.0.2", port: 4000)))
        #expect(!names.mayMatchByName, "IP names only: the common name is not consulted")
        #expect(names.description == "it names IP 127.0.0.2, 127.0.0.3")
    }

    @Test func anIPv6AlternativeNameMatchesItsAddress() throws {
        let loopback: [UInt8] = Array(repeating: 0, count: 15) + [1]
        let names = CertificateNames(addresses: [loopback], dnsNames: [], commonName: nil)
        #expect(names.matches(address: try SocketAddress(ipAddress: "::1", port: 1)))
        #expect(!names.matches(address: try SocketAddress(ipAddress: "127.0.0.1", port: 1)))
    }

    @Test func dnsNamesMatchCaseInsensitivelyWithOneLabelWildcards() {
        let names = CertificateNames(addresses: [], dnsNames: ["zk1.example.com", "*.members.example.com"], commonName: "ignored.example.com")
        #expect(names.mayMatchByName)
        #expect(names.matches(hostname: "ZK1.example.com."))
        #expect(names.matches(hostname: "zk7.members.example.com"))
        #expect(!names.matches(hostname: "a.zk7.members.example.com"), "a wildcard stands for one label")
        #expect(!names.matches(hostname: "members.example.com"))
        #expect(!names.matches(hostname: "ignored.example.com"), "with alternative names the common name is not used")
    }

    @Test func theCommonNameCountsOnlyWithoutAlternativeNames() {
        let names = CertificateNames(addresses: [], dnsNames: [], commonName: "zk2.example.com")
        #expect(names.mayMatchByName && names.matches(hostname: "zk2.example.com"))
        #expect(!names.matches(hostname: "zk3.example.com"))
        #expect(!CertificateNames(addresses: [], dnsNames: [], commonName: nil).mayMatchByName)
    }
}
