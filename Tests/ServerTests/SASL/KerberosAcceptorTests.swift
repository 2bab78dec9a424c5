import Configuration
import Foundation
import Testing

@testable import Server

/// What stops a Kerberos-configured server at start, before any client comes: a keytab or a
/// Kerberos configuration it cannot read, said with the file.
struct KerberosAcceptorTests {
    @Test func anUnreadableKeytabOrKrb5ConfStopsTheStart() throws {
        let configuration = ServerConfiguration.embeddedDefault
        let missing = KerberosLogin(keyTab: "/nonexistent/zk.keytab", principal: "zookeeper/localhost@EXAMPLE.COM")
        #expect(throws: KerberosAcceptor.Failure.self) { try KerberosAcceptor.exchanges(login: missing, configuration: configuration) }
        do {
            _ = try KerberosAcceptor.exchanges(login: missing, configuration: configuration)
        } catch {
            #expect("\(error)".contains("/nonexistent/zk.keytab"))
        }
        var withConf = configuration
        withConf.krb5ConfigFile = "/nonexistent/krb5.conf"
        let keytab = NSTemporaryDirectory() + "aviary-test-\(UUID().uuidString).keytab"
        try Data([5, 2]).write(to: URL(fileURLWithPath: keytab))
        defer { try? FileManager.default.removeItem(atPath: keytab) }
        let readable = KerberosLogin(keyTab: keytab, principal: nil)
        do {
            _ = try KerberosAcceptor.exchanges(login: readable, configuration: withConf)
            Issue.record("an unreadable krb5.conf was accepted")
        } catch {
            #expect("\(error)".contains("/nonexistent/krb5.conf"))
        }
    }
}
