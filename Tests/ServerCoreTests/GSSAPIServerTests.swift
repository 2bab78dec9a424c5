import ServerCore
import Testing

/// SASL GSSAPI's server side (RFC 4752) over a scripted security context: the steps Java's
/// `GssKrb5Server` takes, and the `sasl` identity ZooKeeper's `SaslServerCallbackHandler` makes
/// of a Kerberos principal.
struct GSSAPIServerTests {
    /// A security context that establishes after `rounds` tokens and "wraps" by prefixing a
    /// marker byte (so a test sees what was wrapped and can check what it unwraps).
    final class ScriptedContext: GSSAcceptorContext, @unchecked Sendable {
        let rounds: Int
        let finalToken: [UInt8]
        var seen: [[UInt8]] = []
        init(rounds: Int, finalToken: [UInt8]) {
            self.rounds = rounds
            self.finalToken = finalToken
        }
        struct Refused: Error {}
        func accept(_ token: [UInt8]) throws -> (token: [UInt8], established: Bool) {
            guard token != [0xBA, 0xD0] else { throw Refused() }
            seen.append(token)
            return seen.count < rounds ? ([UInt8(seen.count)], false) : (finalToken, true)
        }
        func initiator() throws -> String { "client@EXAMPLE.COM" }
        func wrap(_ message: [UInt8]) throws -> [UInt8] { [0x77] + message }
        func unwrap(_ message: [UInt8]) throws -> [UInt8] {
            guard message.first == 0x77 else { throw Refused() }
            return Array(message.dropFirst())
        }
    }

    let options = GSSAPIServer.Options(defaultRealm: "EXAMPLE.COM")

    @Test func aMutualAuthenticationRunsContextOfferAndChoice() throws {
        var server = GSSAPIServer(context: ScriptedContext(rounds: 2, finalToken: [0xAA]), options: options)
        #expect(try server.respond(to: [1]) == [1], "a context token that needs another")
        #expect(try server.respond(to: [2]) == [0xAA], "the last context token (Kerberos's AP-REP) goes first")
        #expect(!server.isComplete)
        // The client's empty reply asks for the offer: only "no security layer", 64 KiB.
        #expect(try server.respond(to: []) == [0x77, 1, 0x01, 0x00, 0x00])
        // The client chooses no layer, with its own size and an authorization id.
        #expect(try server.respond(to: [0x77, 1, 0, 0x10, 0] + Array("someone-else".utf8)) == nil, "the last answer has no token")
        #expect(server.isComplete)
        #expect(server.authorizationID == "client@EXAMPLE.COM", "the identity is the principal's, not the claimed id")
    }

    @Test func withoutAFinalContextTokenTheOfferGoesAtOnce() throws {
        var server = GSSAPIServer(context: ScriptedContext(rounds: 1, finalToken: []), options: options)
        #expect(try server.respond(to: [9]) == [0x77, 1, 0x01, 0x00, 0x00])
        #expect(try server.respond(to: [0x77, 1, 0, 0, 0]) == nil)
        #expect(server.isComplete)
    }

    @Test func whatBreaksTheExchangeFailsIt() {
        var refused = GSSAPIServer(context: ScriptedContext(rounds: 1, finalToken: []), options: options)
        #expect(throws: (any Error).self) { try refused.respond(to: [0xBA, 0xD0]) }
        #expect(throws: (any Error).self) { try refused.respond(to: [1]) }  // nothing after a failure

        var chooser = GSSAPIServer(context: ScriptedContext(rounds: 1, finalToken: []), options: options)
        _ = try? chooser.respond(to: [1])
        #expect(throws: (any Error).self, "integrity or confidentiality were not offered") { try chooser.respond(to: [0x77, 4, 0, 0, 0]) }
        #expect(!chooser.isComplete && chooser.authorizationID == nil)

        var short = GSSAPIServer(context: ScriptedContext(rounds: 1, finalToken: []), options: options)
        _ = try? short.respond(to: [1])
        #expect(throws: (any Error).self) { try short.respond(to: [0x77, 1]) }

        var unwrapped = GSSAPIServer(context: ScriptedContext(rounds: 1, finalToken: []), options: options)
        _ = try? unwrapped.respond(to: [1])
        #expect(throws: (any Error).self, "not wrapped by the context") { try unwrapped.respond(to: [1, 0, 0, 0]) }

        var eager = GSSAPIServer(context: ScriptedContext(rounds: 1, finalToken: [0xAA]), options: options)
        _ = try? eager.respond(to: [1])
        #expect(throws: (any Error).self, "the reply to the AP-REP must be empty") { try eager.respond(to: [5]) }
    }

    @Test func principalsBecomeIdentitiesAsZooKeepersRulesMakeThem() {
        let keep = GSSAPIServer.Options(defaultRealm: "EXAMPLE.COM")
        #expect(GSSAPIServer.identity(of: "client@EXAMPLE.COM", options: keep) == "client@EXAMPLE.COM")
        #expect(GSSAPIServer.identity(of: "kafka/broker1.example.com@EXAMPLE.COM", options: keep) == "kafka/broker1.example.com@EXAMPLE.COM")
        let short = GSSAPIServer.Options(defaultRealm: "EXAMPLE.COM", removeHostFromPrincipal: true, removeRealmFromPrincipal: true)
        #expect(GSSAPIServer.identity(of: "kafka/broker1.example.com@EXAMPLE.COM", options: short) == "kafka")
        #expect(GSSAPIServer.identity(of: "client@EXAMPLE.COM", options: short) == "client")
        // Another realm: no rule shortens it, and it stays whole whatever the options.
        #expect(GSSAPIServer.identity(of: "client@OTHER.ORG", options: short) == "client@OTHER.ORG")
        #expect(GSSAPIServer.identity(of: "client", options: short) == "client")
    }
}
